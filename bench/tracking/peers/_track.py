"""Stdlib-only workload and checks shared by the tracking scripts (each runs in its own venv).

Usage of every script: `run_X.py WORKDIR`; it prints one JSON line of figures on stdout and
exits 1 when a count read back from the store is off.
"""

from __future__ import annotations

import importlib
import json
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

ONE_BY_ONE = 2_000  # metrics logged one call each, in one run
BATCHED = 10_000  # metrics logged in batches of BATCH, in one run
BATCH = 1_000  # keys per batch: key m0000..m0999 at step b
RUNS = 100  # runs of PARAMS params and METRICS metrics each
PARAMS = 10
METRICS = 10


def workdir() -> Path:
    """The work dir given on the command line (created if absent)."""
    if len(sys.argv) != 2:
        fail(f"usage: {sys.argv[0]} WORKDIR")
    path = Path(sys.argv[1]).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def timed_import(*names: str) -> float:
    """Import modules and return the seconds it took."""
    start = time.perf_counter()
    for name in names:
        importlib.import_module(name)
    return time.perf_counter() - start


def batch_keys() -> list[str]:
    """The BATCH metric keys of one batch."""
    return [f"m{k:04d}" for k in range(BATCH)]


def run_params() -> dict[str, Any]:
    """The PARAMS params of one run."""
    return {f"p{j}": j for j in range(PARAMS)}


def run_metrics() -> dict[str, float]:
    """The METRICS metrics of one run."""
    return {f"m{j}": float(j) for j in range(METRICS)}


def count(db: Path, sql: str, ids: Sequence[str]) -> int:
    """`sql` has one `{ids}` placeholder, filled with `?` marks for `ids`; returns COUNT(*)."""
    if not db.exists():
        fail(f"no database at {db}")
    marks = ",".join("?" * len(ids))
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(con.execute(sql.format(ids=marks), list(ids)).fetchone()[0])
    finally:
        con.close()


def expect(what: str, got: int, wanted: int) -> None:
    """Fail loudly when a count read back from the store is off."""
    if got != wanted:
        fail(f"{what}: {got} rows in the store, expected {wanted}")


def fail(message: str) -> NoReturn:
    """Print the reason on stderr and exit 1."""
    print(f"check failed: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def emit(**figures: Any) -> None:
    """Print the figures as the last JSON line of stdout."""
    sys.stdout.flush()
    print(json.dumps(figures), flush=True)
