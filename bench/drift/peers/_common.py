"""Stdlib-only helpers shared by the drift scripts (each runs in its own venv).

Usage of every script: ``run_X.py TASK REF CUR [ARGS]``; it prints one JSON line: ``seconds``
(from the files, or the stored reference, to the verdict; imports excluded), ``peak_mb`` (the
process's peak RSS), ``drifted`` (the columns it flags) and ``version``.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any

#: The columns bench/drift/gen.py drifts (kept here too: the scripts import only the stdlib).
DRIFTED = ("score", "latency", "plan", "amount")
NUMERIC = ("age", "income", "score", "balance", "tenure", "rate", "amount", "visits", "temp",
           "latency")  # fmt: skip
CATEGORICAL = ("country", "plan", "channel", "device", "segment", "status", "language", "zip3",
               "referrer", "is_active")  # fmt: skip


def args(tasks: tuple[str, ...]) -> tuple[str, list[str]]:
    """TASK and its arguments from the command line."""
    if len(sys.argv) < 4 or sys.argv[1] not in tasks:
        print(f"usage: {sys.argv[0]} {'|'.join(tasks)} REF CUR [ARGS]", file=sys.stderr)
        sys.exit(2)
    return sys.argv[1], sys.argv[2:]


def peak_mb() -> float:
    """This process's peak RSS: VmHWM (ru_maxrss would include the parent's before exec)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def done(start: float, version: str, **extra: Any) -> None:
    """Print the JSON line of figures."""
    seconds = time.perf_counter() - start
    out = {"seconds": seconds, "peak_mb": peak_mb(), "version": version, **extra}
    print(json.dumps(out, default=str), flush=True)
