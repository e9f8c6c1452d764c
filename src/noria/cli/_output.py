"""Printing for the command line: one console, one error format."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from rich.console import Console

_console: Console | None = None


def console() -> Console:
    """The shared Rich console (stdout)."""
    global _console
    if _console is None:
        from rich.console import Console

        _console = Console(highlight=False, soft_wrap=True)  # long lines stay whole in logs
        if not _console.is_terminal and "COLUMNS" not in os.environ:
            _console.width = 160  # tables in logs and pipes are not squeezed to 80 columns
    return _console


def fail(message: str, code: int) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    first, *rest = message.splitlines() or [""]
    sys.stderr.write(f"error: {first}\n")
    for line in rest:
        sys.stderr.write(f"{line}\n")
    sys.stderr.flush()
    raise SystemExit(code)


def short(identifier: str | None, n: int = 8) -> str:
    """The first ``n`` characters of an id, or ``-``."""
    return identifier[:n] if identifier else "-"


def seconds(value: float | None) -> str:
    """A duration for people: ``0.21 s``, ``3.4 s``, ``2 min 5 s``."""
    if value is None:
        return "-"
    if value < 10:
        return f"{value:.2f} s"
    if value < 120:
        return f"{value:.1f} s"
    return f"{int(value // 60)} min {int(value % 60)} s"
