"""Stdlib-only helpers shared by the engine's measurement scripts.

Each script runs in its framework's own interpreter (noria: the repo's `.venv`; peers:
`bench/.venvs/<peer>`), so this module may import nothing but the standard library.

Usage of every script: `run_X.py inproc WORKDIR REPS` or `run_X.py once WORKDIR STEPS`.
The harness has already written the generated modules `linear01.py`, `linear20.py`, ... into
WORKDIR. The script prints one JSON line of figures on stdout; on a failed check it exits 1.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

LONG = 20  # the long pipeline; the short one has 1 step


def step_name(i: int) -> str:
    """Name of step i (1-based)."""
    return f"step_{i:02d}"


def timed_import(*names: str) -> float:
    """Import modules and return the seconds it took."""
    start = time.perf_counter()
    for name in names:
        importlib.import_module(name)
    return time.perf_counter() - start


def args() -> tuple[str, Path, int]:
    """(mode, workdir, number): number is REPS for inproc, STEPS for once."""
    if len(sys.argv) != 4 or sys.argv[1] not in {"inproc", "once"}:
        fail(f"usage: {sys.argv[0]} inproc|once WORKDIR N")
    workdir = Path(sys.argv[2]).resolve()
    if str(workdir) not in sys.path:
        sys.path.insert(0, str(workdir))
    return sys.argv[1], workdir, int(sys.argv[3])


def load(name: str) -> ModuleType:
    """Import a generated module from the work dir."""
    return importlib.import_module(name)


def check(condition: bool, message: str) -> None:
    """Fail loudly when a run did not do what it should."""
    if not condition:
        fail(message)


def fail(message: str) -> NoReturn:
    """Print the reason on stderr and exit 1."""
    print(f"check failed: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def repeat(run: Callable[[int, int], float], reps: int) -> dict[str, list[float]]:
    """Time `reps` fresh 1-step runs, then `reps` fresh 20-step runs, each block after a warm-up.

    `run(steps, rep)` performs one fresh run that really executes and returns its seconds. Each
    timed run follows a run of the same size, so work a framework leaves running in the
    background after a run (log shipping, say) is charged to a run of the same size.
    """
    out: dict[str, list[float]] = {}
    for steps in (1, LONG):
        run(steps, -1)
        out[f"t{steps}"] = [run(steps, rep) for rep in range(reps)]
    return out


def emit(**figures: Any) -> None:
    """Print the figures as the last JSON line of stdout."""
    sys.stdout.flush()
    print(json.dumps(figures), flush=True)
