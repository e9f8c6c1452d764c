"""Which trial wins a search, and which trials a leaderboard shows.

**The winner** (:func:`choose`) is the best mean cross-validated score, with two refinements:

1. *Ties within noise go to the cheaper model.* A trial is tied with the best when the mean of
   its fold-by-fold differences from the best is within one standard error of those differences
   (the folds are the same for every trial, so the comparison is paired). Among tied trials, a
   classification search then looks at log loss, computed on the same folds: when log loss
   separates them beyond its own noise, the better log loss wins (ROC AUC and accuracy saturate
   — four families at ROC AUC 1.0000 — where log loss still tells calibrated from overconfident
   models). What is still tied goes to the trial with the least fit time.
2. *A floor.* When a trial is given as the floor (a warm start's re-run of the champion's
   configuration on the new data), no trial that scored worse than it can win: a retrain never
   returns a model worse than refitting the champion's configuration.

Then the budget: when the winner's refit(s) would not end before the deadline, the best trial
(in the same order) whose refit would is taken instead — never one below the floor.

**The leaderboard** (:func:`board`) shows the best ``top`` trials and, after them, the
portfolio's defaults (each family's first trial with no tuned params; the linear baseline among
them) wherever they ranked, and says how many scored trials it leaves out.

Not here: running trials (:mod:`noria.train.search`), time estimates (:mod:`noria.train.budget`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Board", "Choice", "board", "choose", "choose_partial", "tied"]


@dataclass
class Choice:
    """The outcome of :func:`choose`: the winning trial and what explains it."""

    winner: Any | None  # a TrialRecord, or None when no trial is complete
    notes: list[str] = field(default_factory=list)


@dataclass
class Board:
    """The rows a leaderboard shows, best first, and how many scored trials it leaves out.

    ``rows`` are ``(rank, trial)`` pairs: ``rank`` is the trial's place among all scored trials
    (1 is the best), so a portfolio row shown after the top ones keeps its true rank.
    """

    rows: list[tuple[int, Any]]
    hidden: int
    total: int

    def hidden_line(self) -> str | None:
        """``… and 14 more trials`` when some are left out, else ``None``."""
        if not self.hidden:
            return None
        return f"… and {self.hidden} more trial{'s' if self.hidden != 1 else ''}"


def _get(t: Any, key: str) -> Any:
    return t.get(key) if isinstance(t, Mapping) else getattr(t, key, None)


def tied(best: Sequence[float], other: Sequence[float], *, maximize: bool) -> bool:
    """Whether ``other``'s fold scores are within one standard error of ``best``'s.

    The standard error is that of the fold-by-fold differences (paired: the same folds). With
    one fold, or differing fold counts, only equal means tie.
    """
    a, b = np.asarray(best, dtype=float), np.asarray(other, dtype=float)
    if not len(a) or not len(b):
        return False
    gap = float(a.mean() - b.mean()) if maximize else float(b.mean() - a.mean())
    eps = 1e-12 * max(1.0, abs(float(a.mean())))
    if gap <= eps:
        return True
    if len(a) != len(b) or len(a) < 2:
        return False
    se = float(np.std(a - b, ddof=1) / math.sqrt(len(a)))
    return gap <= se + eps


def _cost(t: Any) -> float:
    fit = _get(t, "fit_seconds") or ()
    return float(sum(fit)) if fit else math.inf


def _ranked(records: Sequence[Any], maximize: bool) -> list[Any]:
    done = [r for r in records if _get(r, "status") == "complete" and _get(r, "score") is not None]
    sign = -1.0 if maximize else 1.0
    return sorted(done, key=lambda r: (sign * float(_get(r, "score")), _get(r, "number")))


def _describe(t: Any) -> str:
    return f"#{_get(t, 'number')} ({_get(t, 'family')})"


def choose(
    records: Sequence[Any],
    *,
    maximize: bool,
    metric: str,
    floor: int | None = None,
    refit_fits: Callable[[Any], bool] | None = None,
) -> Choice:
    """The trial a search returns: see the module docstring for the rule.

    Args:
        records: the search's trials (``TrialRecord``: ``status``, ``score``, ``fold_scores``,
            ``fold_log_loss``, ``fit_seconds``, ``number``, ``family``).
        maximize: whether a higher score is better.
        metric: the score's metric, for the notes.
        floor: the number of a trial no winner may score worse than (the champion's
            configuration re-run); ignored when that trial is not complete.
        refit_fits: whether a trial's refit(s) would end before the deadline; the winner is the
            best trial for which it is true (the ranked winner when none is).
    """
    ranked = _ranked(records, maximize)
    if not ranked:
        return Choice(None)
    notes: list[str] = []
    others = len(ranked) - 1
    base = next((r for r in ranked if _get(r, "number") == floor), None)
    if base is not None:
        sign = 1.0 if maximize else -1.0
        floor_score = sign * float(_get(base, "score"))
        ranked = [r for r in ranked if sign * float(_get(r, "score")) >= floor_score]
    best = ranked[0]
    folds = _get(best, "fold_scores") or ()
    ties = [r for r in ranked if tied(folds, _get(r, "fold_scores") or (), maximize=maximize)]
    pick = best
    if len(ties) > 1:
        pick, why = _break_tie(ties, metric)
        if pick is not best:
            notes.append(
                f"{len(ties)} trials tie with the best {metric} {float(_get(best, 'score')):.4f} "
                "within noise (one standard error of the fold differences); chose "
                f"{_describe(pick)} over {_describe(best)}: {why}"
            )
    if refit_fits is not None and not refit_fits(pick):
        order = [pick] + [r for r in ranked if r is not pick]
        fitting = next((r for r in order if refit_fits(r)), None)
        if fitting is not None:
            notes.append(
                f"the winner {_describe(pick)} would not refit within the time budget; "
                f"refitting the best one that would, {_describe(fitting)}"
            )
            pick = fitting
    if base is not None and pick is base and others:
        notes.append(
            f"no trial beat the champion's configuration re-run on this data {_describe(base)}"
        )
    return Choice(pick, notes)


def choose_partial(
    records: Sequence[Any], *, maximize: bool, refit_fits: Callable[[Any], bool] | None = None
) -> Choice:
    """When no trial completed: the best trial scored on some of its folds (stopped at the
    deadline), by the mean of those folds, among those whose refit would end in time."""
    partial = [
        r
        for r in records
        if _get(r, "status") != "complete"
        and _get(r, "fold_scores")
        and (refit_fits is None or refit_fits(r))
    ]
    if not partial:
        return Choice(None)
    sign = -1.0 if maximize else 1.0
    pick = min(
        partial, key=lambda r: (sign * float(np.mean(_get(r, "fold_scores"))), _get(r, "number"))
    )
    folds = _get(pick, "fold_scores")
    return Choice(
        pick,
        [
            f"no trial finished all its folds within the budget; using the best one scored on "
            f"some: {_describe(pick)}, {len(folds)} fold{'s' if len(folds) != 1 else ''} "
            f"(mean {float(np.mean(folds)):.4f}) — raise models.time_budget for a full "
            "cross-validation"
        ],
    )


def _break_tie(ties: list[Any], metric: str) -> tuple[Any, str]:
    """Among trials tied on the metric: the best log loss when it separates them, then the
    least fit time."""
    losses = [_get(t, "fold_log_loss") or () for t in ties]
    pool = ties
    why = ""
    if metric != "log_loss" and all(losses):
        order = sorted(range(len(ties)), key=lambda i: (float(np.mean(losses[i])), i))
        lead = order[0]
        pool = [ties[i] for i in order if tied(losses[lead], losses[i], maximize=False)]
        if len(pool) == 1:
            loss = float(np.mean(losses[lead]))
            return pool[0], f"its log loss {loss:.4f} is the best beyond noise"
        why = "log loss ties too; "
    quick = min(pool, key=lambda t: (_cost(t), _get(t, "number")))
    others = [_cost(t) for t in pool if t is not quick]
    slowest = max(others) if others else _cost(quick)
    k = max(1, len(_get(quick, "fit_seconds") or ()))
    return quick, (
        f"{why}it fits quickest ({_cost(quick) / k:.2g} s a fold against up to {slowest / k:.2g} s)"
    )


def board(
    trials: Sequence[Any],
    *,
    top: int = 10,
    maximize: bool | None = True,
    always: Sequence[int | None] = (),
) -> Board:
    """The rows of a leaderboard: the best ``top`` scored trials, then the portfolio's defaults
    that ranked below them (each family's first trial without tuned params), each with its
    rank, and how many scored trials are left out.

    Args:
        trials: ``TrialRecord`` objects or their dict form (``number``, ``family``,
            ``status``, ``score``, ``params``), as the ``candidates`` step returns them.
        top: how many of the best to show.
        maximize: whether a higher score is better; ``None``: ``trials`` are ranked already
            (the ``candidates`` step's ``leaderboard``).
        always: trial numbers shown wherever they ranked (the winner, when a tie within noise
            or the refit budget chose one below the top).
    """
    scored = [
        t
        for t in trials
        if _get(t, "score") is not None and _get(t, "status") in (None, "complete")
    ]
    if maximize is not None:
        sign = -1.0 if maximize else 1.0
        scored.sort(key=lambda t: (sign * float(_get(t, "score")), _get(t, "number") or 0))
    defaults: dict[str, int] = {}
    for t in sorted(scored, key=lambda t: _get(t, "number") or 0):
        if not _get(t, "params") and _get(t, "family") not in defaults:
            defaults[_get(t, "family")] = _get(t, "number")
    keep = set(defaults.values()) | {n for n in always if n is not None}
    rows = [
        (rank, t) for rank, t in enumerate(scored, 1) if rank <= top or _get(t, "number") in keep
    ]
    return Board(rows, len(scored) - len(rows), len(scored))
