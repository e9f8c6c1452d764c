"""Stdlib-only workload shared by the validation scripts (each runs in its own venv).

Usage of every script: ``run_X.py TASK FILE`` with TASK ``profile`` or ``validate``; it prints
one JSON line: ``seconds`` (from reading the file to the result, imports excluded), ``peak_mb``
(the process's peak RSS), ``counts`` (failing rows per check, for ``validate``) and ``version``.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any

COUNTRIES = [f"C{i:02d}" for i in range(30)]
PLANS = ["free", "basic", "plus", "pro", "enterprise"]
STATUSES = ["active", "paused", "closed"]
T_MIN = "2024-01-01T00:00:00"
T_MAX = "2026-01-01T00:00:00"
EMAIL = r"^[^@\s]+@[^@\s]+\.[a-z]+$"
ZIP = r"^[0-9]{5}$"

#: The checks every tool runs: name -> (column, kind, argument). Ranges are inclusive.
CHECKS: dict[str, tuple[str, str, Any]] = {
    "id_unique": ("id", "unique", None),
    "id_not_null": ("id", "not_null", None),
    "age_range": ("age", "range", (0, 120)),
    "income_min": ("income", "range", (0, None)),
    "rate_range": ("rate", "range", (0, 1)),
    "tenure_range": ("tenure", "range", (0, 600)),
    "visits_range": ("visits", "range", (0, 1000)),
    "score_not_null": ("score", "not_null", None),
    "country_in_set": ("country", "in_set", COUNTRIES),
    "plan_in_set": ("plan", "in_set", PLANS),
    "status_in_set": ("status", "in_set", STATUSES),
    "email_regex": ("email", "regex", EMAIL),
    "zip_regex": ("zip", "regex", ZIP),
    "event_time_range": ("event_time", "range", (T_MIN, T_MAX)),
}


def args() -> tuple[str, str]:
    """TASK and FILE from the command line."""
    if len(sys.argv) != 3 or sys.argv[1] not in ("profile", "validate"):
        print(f"usage: {sys.argv[0]} profile|validate FILE", file=sys.stderr)
        sys.exit(2)
    return sys.argv[1], sys.argv[2]


def _peak_mb() -> float:
    """This process's peak RSS: VmHWM (ru_maxrss would include the parent's before exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def done(start: float, version: str, counts: dict[str, int] | None = None, **extra: Any) -> None:
    """Print the JSON line of figures."""
    seconds = time.perf_counter() - start
    peak_mb = _peak_mb()
    out = {"seconds": seconds, "peak_mb": peak_mb, "version": version, **extra}
    if counts is not None:
        out["counts"] = counts
    print(json.dumps(out), flush=True)
