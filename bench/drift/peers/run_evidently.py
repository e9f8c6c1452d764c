"""Evidently 0.7: ``Report([DataDriftPreset()])`` on the two Parquet files read into pandas.

Tasks: ``full REF CUR`` reads both files and runs the report (current first, reference second,
as ``Report.run`` takes them); ``window REF CUR ROWS REPEATS`` keeps the reference in memory
and times the report of one more window of ROWS rows (median over REPEATS windows, after one
untimed warm-up). Columns are typed explicitly (``DataDefinition``: 10 numerical, 10
categorical) so that Evidently picks its default test per type and size (normed Wasserstein
and Jensen–Shannon above 1,000 reference rows); a column is flagged when its ``ValueDrift``
test fails (``include_tests=True``).
"""

from __future__ import annotations

import time
import warnings

from _common import CATEGORICAL, NUMERIC, args, done, median


def main() -> None:
    task, rest = args(("full", "window"))
    warnings.filterwarnings("ignore")
    import evidently
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(
        numerical_columns=list(NUMERIC), categorical_columns=list(CATEGORICAL)
    )

    def flagged(snapshot) -> list[str]:
        out = []
        for test in snapshot.dict()["tests"]:
            column = test.get("metric_config", {}).get("params", {}).get("column")
            if column is None:
                name = test.get("name", "")
                column = name.rsplit(" ", 1)[-1] if name.startswith("Value Drift") else None
            if column is not None and test.get("status") == "FAIL":
                out.append(column)
        return [c for c in (*NUMERIC, *CATEGORICAL) if c in out]

    def run(current, reference):
        report = Report([DataDriftPreset()], include_tests=True)
        return report.run(
            Dataset.from_pandas(current, data_definition=definition),
            Dataset.from_pandas(reference, data_definition=definition),
        )

    if task == "full":
        start = time.perf_counter()
        reference = pd.read_parquet(rest[0])
        current = pd.read_parquet(rest[1])
        t_read = time.perf_counter()
        snapshot = run(current, reference)
        t_run = time.perf_counter()
        done(start, evidently.__version__, read_s=t_read - start, report_s=t_run - t_read,
             drifted=flagged(snapshot))  # fmt: skip
        return
    rows, repeats = int(rest[2]), int(rest[3])
    reference = pd.read_parquet(rest[0])
    current = pd.read_parquet(rest[1]).iloc[: rows * (repeats + 1)]
    windows = [current.iloc[i * rows : (i + 1) * rows] for i in range(repeats + 1)]
    run(windows[0], reference)  # warm-up, untimed
    totals = []
    counts: dict[str, int] = {}
    start = time.perf_counter()
    for window in windows[1:]:
        t0 = time.perf_counter()
        snapshot = run(window, reference)
        totals.append(time.perf_counter() - t0)
        for name in flagged(snapshot):
            counts[name] = counts.get(name, 0) + 1
    done(start, evidently.__version__, window_s=median(totals), window_samples_s=totals,
         windows=repeats, flagged=counts)  # fmt: skip


if __name__ == "__main__":
    main()
