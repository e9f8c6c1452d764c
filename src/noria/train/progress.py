"""How a running search is going: trials done, the best score so far, the time left.

The search reports a :class:`SearchProgress` when a trial ends and about once a second while
nothing does: to the caller's ``on_progress`` callback, and as one line through
:func:`noria.tracking.report_progress`, which ``noria run``'s live view shows next to the step's
elapsed time (inside a pipeline step run by the local executor; elsewhere it is a no-op).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from noria.tracking import report_progress

__all__ = ["SearchProgress", "report"]


@dataclass(frozen=True, slots=True)
class SearchProgress:
    """A running search's state.

    Attributes:
        done: trials ended (complete, pruned or failed).
        complete: of them, trials with a cross-validated score.
        running: trials with folds still running.
        best: the best score so far (``None`` before a trial is complete).
        best_family: the family of that trial.
        metric: the score's metric.
        elapsed: seconds since the search was called.
        left: seconds until its time budget ends (refit included); ``None`` without one.
    """

    done: int
    complete: int
    running: int
    best: float | None
    best_family: str | None
    metric: str
    elapsed: float
    left: float | None

    def describe(self) -> str:
        """One line: ``14 trials (2 running), best roc_auc 0.9821 (lightgbm), 98 s left``."""
        parts = [f"{self.done} trial{'s' if self.done != 1 else ''}"]
        if self.running:
            parts[0] += f" ({self.running} running)"
        if self.best is not None:
            parts.append(f"best {self.metric} {self.best:.4f} ({self.best_family})")
        else:
            parts.append("none scored yet")
        if self.left is not None:
            parts.append(f"{max(0.0, self.left):.0f} s left")
        return ", ".join(parts)


def report(progress: SearchProgress, callback: Callable[[SearchProgress], None] | None) -> None:
    """Hand ``progress`` to ``callback`` and to the active step's live view."""
    report_progress(progress.describe())
    if callback is not None:
        callback(progress)
