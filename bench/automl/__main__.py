"""`python -m bench.automl [--part tuning|confirmation|all] [--budget 30[,60]] [--sets a,b]
[--rounds N] [--no-warm] [--list]`.

Runs the automl benchmark with a subset of its matrix, writes bench/results/automl.json and
prints the per-set table and the summary table. ``python -m bench automl`` takes the same
options.
"""

from __future__ import annotations

import argparse
import sys
import time

from bench import automl
from bench._common import format_table, log, write_results
from bench.automl import suite


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.automl", description=__doc__)
    automl.add_arguments(parser)
    parser.add_argument("--rounds", type=int, default=automl.DEFAULT_ROUNDS)
    parser.add_argument("--list", action="store_true", help="list the data sets and parts")
    args = parser.parse_args(argv)
    if args.list:
        for name in suite.SETS:
            kind = "classification" if name in suite.CLASSIFICATION else "regression"
            print(f"{name:16} {kind:15} {suite.part_of(name)}")
        return 0
    try:
        opts = automl.options_from(args)
    except ValueError as exc:
        parser.error(str(exc))
    start = time.perf_counter()
    report = automl.run(args.rounds, opts)
    report.meta["elapsed_s"] = round(time.perf_counter() - start, 1)
    path = write_results(report)
    log(f"automl: done in {report.meta['elapsed_s']} s; results in {path}")
    print(report.meta["detail_table"])
    print()
    print(format_table([report]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
