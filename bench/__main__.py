"""`python -m bench [NAME ...] [--list] [--rounds N]`: run benchmarks, print one table."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
import time
from types import ModuleType

from bench._common import Report, format_table, log, write_results

#: Benchmark name -> module; each module has NAME, TITLE, DEFAULT_ROUNDS and run(rounds).
BENCHMARKS = {
    "engine": "bench.engine",
    "tracking": "bench.tracking",
    "validation": "bench.validation",
    "serving": "bench.serving",
    "automl": "bench.automl",
    "drift": "bench.drift",
    "ui": "bench.ui",
}


def _module(name: str) -> ModuleType:
    return importlib.import_module(BENCHMARKS[name])


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (all if none)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--rounds", type=int, help="rounds of alternating measurements")
    args, extra = parser.parse_known_args(argv)
    # a benchmark's own options (`python -m bench automl --part tuning --budget 30`)
    options = None
    if extra:
        module = _module(args.names[0]) if len(args.names) == 1 else None
        if module is None or not hasattr(module, "parse_options"):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        options = module.parse_options(extra)
    if args.list:
        for name in BENCHMARKS:
            print(f"{name:10} {_module(name).TITLE}")
        return 0
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; see --list")
    if importlib.util.find_spec("noria") is None:
        log(f"noria is not importable by {sys.executable}: run `.venv/bin/python -m bench`")
    reports: list[Report] = []
    for name in args.names or list(BENCHMARKS):
        module = _module(name)
        rounds = args.rounds or module.DEFAULT_ROUNDS
        start = time.perf_counter()
        report = module.run(rounds, options) if options is not None else module.run(rounds)
        report.meta["elapsed_s"] = round(time.perf_counter() - start, 1)
        path = write_results(report)
        log(f"{name}: done in {report.meta['elapsed_s']} s; results in {path}")
        reports.append(report)
    print(format_table(reports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
