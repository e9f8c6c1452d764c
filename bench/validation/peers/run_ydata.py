"""ydata-profiling in minimal mode: the description of the Parquet file read into pandas."""

from __future__ import annotations

import time
import warnings

from _common import args, done


def main() -> None:
    task, file = args()
    warnings.filterwarnings("ignore")
    import pandas as pd
    import ydata_profiling
    from ydata_profiling import ProfileReport

    if task != "profile":
        raise SystemExit("ydata-profiling: only profile")
    start = time.perf_counter()
    df = pd.read_parquet(file)
    report = ProfileReport(df, minimal=True, progress_bar=False)
    description = report.get_description()
    done(start, ydata_profiling.__version__, columns=len(description.variables))


if __name__ == "__main__":
    main()
