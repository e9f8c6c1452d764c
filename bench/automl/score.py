"""Holdout scores and the paired bootstrap (numpy only; runs in the harness's interpreter).

Scores: ROC AUC for binary classification, macro one-vs-rest ROC AUC for multiclass (the mean of
the per-class AUCs, as scikit-learn's ``roc_auc_score(multi_class="ovr")``), R² for regression.
The bootstrap draws the test rows with replacement (the same draws for every competitor, so the
differences are paired) and computes every score on every draw at once, as weighted sums over
the test rows with the draw's multiplicities as weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

N_BOOT = 1000
BOOT_SEED = 0


def _auc(weights: np.ndarray, positive: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Weighted binary ROC AUC for each row of `weights` (ties count one half)."""
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    w = weights[:, order]
    pos = positive[order]
    g_pos = np.add.reduceat(w * pos, starts, axis=1)
    g_neg = np.add.reduceat(w * ~pos, starts, axis=1)
    below = np.cumsum(g_neg, axis=1) - g_neg
    num = (g_pos * (below + 0.5 * g_neg)).sum(axis=1)
    den = g_pos.sum(axis=1) * g_neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def _r2(weights: np.ndarray, y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    sw = weights.sum(axis=1)
    mean = weights @ y / sw
    ss_res = weights @ (y - pred) ** 2
    ss_tot = weights @ (y**2) - sw * mean**2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ss_tot > 0, 1 - ss_res / ss_tot, np.nan)


def scores(
    weights: np.ndarray, task: str, y: np.ndarray, pred: np.ndarray, classes: Sequence[str]
) -> np.ndarray:
    """The score under each row of `weights` (shape draws × test rows).

    `pred`: regression values (n,) or class probabilities (n, k) in the order of `classes`;
    `y`: the true values or class labels.
    """
    if task == "regression":
        return _r2(weights, y.astype(float), pred.astype(float))
    if len(classes) == 2:
        return _auc(weights, y == classes[1], pred[:, 1].astype(float))
    per_class = [_auc(weights, y == c, pred[:, i].astype(float)) for i, c in enumerate(classes)]
    return np.mean(per_class, axis=0)


def draws(n: int, n_boot: int = N_BOOT, seed: int = BOOT_SEED) -> np.ndarray:
    """Multiplicities of the test rows in `n_boot` bootstrap draws (n_boot × n)."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)


@dataclass
class Comparison:
    """One competitor against the best of the others on one set."""

    best_other: str
    diff: float  # point difference: this one - the best other
    low: float  # 2.5th percentile of the bootstrap difference
    high: float  # 97.5th percentile
    ok: bool  # at least the best within noise: the interval includes 0 or is above it


def compare(
    task: str,
    y: np.ndarray,
    preds: Mapping[str, np.ndarray],
    classes: Sequence[str],
    n_boot: int = N_BOOT,
    seed: int = BOOT_SEED,
) -> tuple[dict[str, float], dict[str, Comparison]]:
    """Point scores of every competitor, and each one against the best of the others."""
    names = list(preds)
    point = {n: float(scores(np.ones((1, len(y))), task, y, preds[n], classes)[0]) for n in names}
    weights = draws(len(y), n_boot, seed)
    boot = {n: scores(weights, task, y, preds[n], classes) for n in names}
    out: dict[str, Comparison] = {}
    for name in names:
        others = [o for o in names if o != name]
        if not others:
            continue
        best = max(others, key=lambda o: point[o])
        diff = boot[name] - boot[best]
        low, high = (float(v) for v in np.nanpercentile(diff, [2.5, 97.5]))
        out[name] = Comparison(best, point[name] - point[best], low, high, high >= 0)
    return point, out


def _interval(diff: np.ndarray) -> tuple[float, float]:
    low, high = (float(v) for v in np.nanpercentile(diff, [2.5, 97.5]))
    return low, high


def compare_anchors(
    task: str,
    y: np.ndarray,
    preds: Mapping[str, np.ndarray],
    classes: Sequence[str],
    anchors: Sequence[str],
    pairs: Sequence[tuple[str, str]] = (),
    n_boot: int = N_BOOT,
    seed: int = BOOT_SEED,
) -> tuple[dict[str, float], dict[str, Comparison], dict[str, Comparison]]:
    """Point scores; each competitor against the best anchor other than itself; given pairs.

    `anchors`: the competitors a "best other" is chosen among (by the point score), e.g. the
    peers without noria's own variants. `pairs`: (a, b) pairs whose paired difference a - b is
    wanted too, keyed "a-b" in the third result (its ``best_other`` is b). Every comparison uses
    the same bootstrap draws.
    """
    names = list(preds)
    point = {n: float(scores(np.ones((1, len(y))), task, y, preds[n], classes)[0]) for n in names}
    weights = draws(len(y), n_boot, seed)
    boot = {n: scores(weights, task, y, preds[n], classes) for n in names}

    def versus(a: str, b: str) -> Comparison:
        low, high = _interval(boot[a] - boot[b])
        return Comparison(b, point[a] - point[b], low, high, high >= 0)

    best: dict[str, Comparison] = {}
    for name in names:
        others = [a for a in anchors if a in point and a != name]
        if others:
            best[name] = versus(name, max(others, key=lambda o: point[o]))
    paired = {f"{a}-{b}": versus(a, b) for a, b in pairs if a in point and b in point}
    return point, best, paired
