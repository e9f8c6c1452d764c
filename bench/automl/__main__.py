"""`python -m bench.automl [--budget 30[,60]] [--sets a,b] [--rounds N] [--no-warm]`.

Runs the automl benchmark with a subset of its matrix, writes bench/results/automl.json and
prints the per-set table and the summary table.
"""

from __future__ import annotations

import argparse
import sys
import time

from bench import automl
from bench._common import format_table, log, write_results


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.automl", description=__doc__)
    parser.add_argument("--budget", help="budget(s) in seconds, comma-separated (30,60)")
    parser.add_argument("--sets", help=f"data sets, comma-separated ({','.join(automl.SETS)})")
    parser.add_argument("--rounds", type=int, default=automl.DEFAULT_ROUNDS)
    parser.add_argument("--no-warm", action="store_true", help="skip the warm-start timing")
    parser.add_argument("--list", action="store_true", help="list the data sets and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join(automl.SETS))
        return 0
    opts = automl.Options()
    try:
        if args.budget:
            opts.budgets = automl.parse_budgets(args.budget)
        if args.sets:
            opts.sets = automl.parse_sets(args.sets)
    except ValueError as exc:
        parser.error(str(exc))
    opts.warm = not args.no_warm
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
