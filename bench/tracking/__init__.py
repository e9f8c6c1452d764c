"""Benchmark `tracking`: metrics logged one by one and in batches, and many small runs.

2,000 metrics logged one by one, 10,000 logged in batches of 1,000, and 100 runs of 10 params
and 10 metrics each, against MLflow with its SQLite backend; noria and MLflow alternate.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench._common import (
    WORK,
    BenchError,
    Column,
    Report,
    Row,
    ensure_venv,
    fmt_number,
    fresh_dir,
    log,
    median,
    noria_python,
    run_timed,
)

NAME = "tracking"
TITLE = "tracking: 2,000 metrics one by one, 10,000 in batches of 1,000, 100 runs (10+10)"
DEFAULT_ROUNDS = 3
PEERS_DIR = Path(__file__).resolve().parent / "peers"
PINS: dict[str, tuple[str, ...]] = {
    # 3.18.0 needs mlflow-skinny==3.18.0, absent from this index.
    "mlflow": ("mlflow==3.17.2",),
}

COLUMNS = [
    Column("one_rate", "metrics one by one", "/s", higher_is_better=True, target_ratio=500),
    Column("batch_rate", "metrics batched", "/s", higher_is_better=True, target_ratio=20),
    Column("runs_rate", "runs", "/s", higher_is_better=True, target_ratio=50),
    Column("import_s", "import", "s"),
]

NOTES = [
    "one by one: from the first log call to the end of the run (data flushed to the store); "
    "batched: 10 calls of 1,000 keys (noria.log_metrics / MlflowClient.log_batch), to the end "
    "of the run; runs: start, log_params(10), log_metrics(10), end, 100 times.",
    "Every count is read back from the SQLite file afterwards. MLflow: default settings "
    "(synchronous logging), tracking URI sqlite:///…/mlflow.db, schema created before timing.",
    "import: `import noria` plus resolving its tracking functions; `import mlflow`.",
]


def _script(python: str, name: str, workdir: Path) -> dict[str, float]:
    cmd = [python, str(PEERS_DIR / f"run_{name}.py"), str(workdir)]
    return run_timed(cmd, cwd=workdir).data


def run(rounds: int = DEFAULT_ROUNDS) -> Report:
    """Alternate noria and MLflow for `rounds` rounds; medians of each figure."""
    rows = {"noria": Row("noria"), "mlflow": Row("mlflow", version=PINS["mlflow"][0][8:])}
    pythons: dict[str, str] = {"noria": noria_python()}
    try:
        pythons["mlflow"] = str(ensure_venv("mlflow", PINS["mlflow"]))
    except BenchError as exc:
        log(f"mlflow: setup failed: {exc}")
        rows["mlflow"].error = str(exc)
    keys = [c.key for c in COLUMNS] + ["first_run_s"]
    for rnd in range(1, rounds + 1):
        for name, python in pythons.items():
            row = rows[name]
            log(f"tracking round {rnd}/{rounds}: {name}")
            try:
                data = _script(python, name, fresh_dir(WORK / NAME / name / f"r{rnd}"))
            except BenchError as exc:
                for key in keys:
                    row.fail(key, str(exc))
                continue
            for key in keys:
                row.add(key, float(data[key]))
            row.version = str(data.get("version") or row.version)
    notes = list(NOTES)
    for row in rows.values():
        if row.error:
            continue
        if not row.samples:
            row.error = next(iter(row.extra.get("errors", {}).values()), "no figures")
            continue
        row.settle(keys)
        first = row.samples.get("first_run_s")
        if first:
            notes.append(
                f"{row.framework}: first run on a new store (store creation included) "
                f"{fmt_number(median(first))} s."
            )
        errors = set(row.extra.get("errors", {}).values())
        notes += [f"{row.framework} failed in some rounds: {e}" for e in sorted(errors)]
    return Report(
        NAME,
        TITLE,
        COLUMNS,
        list(rows.values()),
        notes,
        meta={"rounds": rounds, "pins": PINS, "python": sys.version.split()[0]},
    )
