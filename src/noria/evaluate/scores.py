"""Metrics with bootstrap intervals, and the figures of a classifier's or a regressor's report.

Every metric is a NumPy function of arrays shaped ``(replicates, rows)`` that returns one value
per replicate, so that one call scores every resample of a :class:`~noria.evaluate.intervals.
Resampler` at once (and, called on all rows as one replicate, gives the value). Conventions
follow :mod:`noria.evaluate.metrics` (and scikit-learn):

* classes are coded ``0 … k-1`` in the order of the model's ``classes_``; for two classes the
  positive class is the second; precision, recall and F1 are of the positive class for two
  classes and macro averages (over the classes present) for more;
* ROC AUC and average precision of more than two classes are one-vs-rest macro averages over
  the classes present; on the resamples they are computed from scores binned into at most 2,048
  levels (exact when there are fewer distinct scores); their reported values are exact;
* Brier score: ``mean (p − y)²`` of the positive class for two classes, ``mean Σ_k (p_k − y_k)²``
  for more (scikit-learn's); expected calibration error (ECE) over 10 equal-width bins of the
  positive class's probability (two classes) or of the top class's (more);
* regression: RMSE, MAE, R².

Not here: resampling (:mod:`noria.evaluate.intervals`), curves (:mod:`noria.evaluate.curves`),
slices, the record (:mod:`noria.evaluate.evaluation`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from noria.evaluate import curves
from noria.evaluate.intervals import Resampler, mean_intervals

__all__ = [
    "ECE_BINS",
    "classification_details",
    "classification_scores",
    "regression_details",
    "regression_scores",
]

ECE_BINS = 10
_EPS = np.finfo(float).eps

Scored = dict[str, tuple[float, tuple[float, float] | None]]


# --------------------------------------------------------------------------- classification


def _confusion(truth: np.ndarray, predicted: np.ndarray, k: int) -> np.ndarray:
    """``(replicates, k, k)`` counts: rows are true classes, columns predicted ones."""
    r = truth.shape[0]
    offset = (np.arange(r, dtype=np.int64) * k * k)[:, None]
    code = (offset + truth.astype(np.int64) * k + predicted).ravel()
    return np.bincount(code, minlength=r * k * k).reshape(r, k, k)


def _label_metrics(cm: np.ndarray) -> dict[str, np.ndarray]:
    k = cm.shape[1]
    tp = np.diagonal(cm, axis1=1, axis2=2).astype(float)
    support = cm.sum(axis=2).astype(float)
    predicted = cm.sum(axis=1).astype(float)
    total = cm.sum(axis=(1, 2)).astype(float)
    precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), 0.0)
    recall = np.where(support > 0, tp / np.maximum(support, 1), 0.0)
    both = support + predicted
    f1 = np.where(both > 0, 2 * tp / np.maximum(both, 1), 0.0)
    accuracy = tp.sum(axis=1) / np.maximum(total, 1)
    if k == 2:
        return {
            "accuracy": accuracy,
            "precision": precision[:, 1],
            "recall": recall[:, 1],
            "f1": f1[:, 1],
        }
    present = both > 0
    count = np.maximum(present.sum(axis=1), 1)
    return {
        "accuracy": accuracy,
        "precision": (precision * present).sum(axis=1) / count,
        "recall": (recall * present).sum(axis=1) / count,
        "f1": (f1 * present).sum(axis=1) / count,
    }


def _ece(hit: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    r, m = hit.shape
    code = np.minimum((np.clip(confidence, 0, 1) * ECE_BINS).astype(np.int64), ECE_BINS - 1)
    code = (code + (np.arange(r, dtype=np.int64) * ECE_BINS)[:, None]).ravel()
    size = r * ECE_BINS
    gap = np.bincount(code, weights=(hit - confidence).ravel(), minlength=size)
    return np.abs(gap.reshape(r, ECE_BINS)).sum(axis=1) / m


def classification_scores(
    truth: np.ndarray,
    predicted: np.ndarray,
    proba: np.ndarray | None,
    resampler: Resampler,
    *,
    truth_taken: np.ndarray | None = None,
) -> Scored:
    """Every classification metric with its interval: ``{name: (value, (low, high) | None)}``.

    Args:
        truth: the true classes, coded ``0 … k-1``.
        predicted: the predicted classes, coded alike.
        proba: probabilities, one column per class (``None``: the label metrics only).
        resampler: the resamples (shared by the model and the baseline: paired intervals).
        truth_taken: ``resampler.take(truth)`` when already gathered (the model's and the
            baseline's scores share it).
    """
    k = proba.shape[1] if proba is not None else int(max(truth.max(), predicted.max())) + 1
    k = max(k, 2)
    t_rep = resampler.take(truth) if truth_taken is None else truth_taken
    whole = _label_metrics(_confusion(truth[None], predicted[None], k))
    replicated = _label_metrics(_confusion(t_rep, resampler.take(predicted), k))
    out: Scored = {}
    for name in ("accuracy", "precision", "recall", "f1"):
        value = float(whole[name][0])
        out[name] = (value, resampler.summarise(replicated[name], value))
    if proba is None:
        return out
    classes = (1,) if k == 2 else tuple(range(k))
    levels = []
    for c in classes:
        column = proba[:, c]
        coded, n_levels = curves.score_levels(column)
        levels.append((c, coded, n_levels, column, resampler.take(coded)))
    for name, metric, exact in (
        ("roc_auc", curves.binned_auc, curves.roc_auc),
        ("average_precision", curves.binned_average_precision, curves.average_precision),
    ):
        points, centres, reps = [], [], []
        for c, coded, n_levels, column, taken in levels:
            hit = truth == c
            defined = 0 < hit.sum() < hit.size
            points.append(exact(hit, column) if defined else np.nan)
            centres.append(metric(coded[None], hit[None], n_levels)[0] if defined else np.nan)
            reps.append(metric(taken, t_rep == c, n_levels))
        with np.errstate(invalid="ignore"):
            stacked = np.vstack(reps)
            valid = np.isfinite(stacked)
            rep = np.where(valid, stacked, 0).sum(axis=0) / np.maximum(valid.sum(axis=0), 1)
            rep = np.where(valid.any(axis=0), rep, np.nan)
        known = [p for p in points if np.isfinite(p)]
        point = float(np.mean(known)) if known else float("nan")
        centre_known = [c for c in centres if np.isfinite(c)]
        centre = float(np.mean(centre_known)) if centre_known else float("nan")
        out[name] = (point, resampler.summarise(rep, point, centre=centre))
    true_p = np.clip(proba[np.arange(len(truth)), truth], _EPS, 1.0)
    out["log_loss"] = resampler.interval(lambda v: v.mean(axis=1), [-np.log(true_p)])
    if k == 2:
        brier = (proba[:, 1] - (truth == 1)) ** 2
        hit, confidence = (truth == 1).astype(float), proba[:, 1]
    else:
        onehot = np.eye(k)[truth]
        brier = ((proba - onehot) ** 2).sum(axis=1)
        hit, confidence = (proba.argmax(axis=1) == truth).astype(float), proba.max(axis=1)
    out["brier"] = resampler.interval(lambda v: v.mean(axis=1), [brier])
    out["ece"] = resampler.interval(_ece, [hit, confidence])
    return out


def classification_details(
    truth: np.ndarray,
    predicted: np.ndarray,
    proba: np.ndarray | None,
    labels: list[str],
    threshold: float | None,
) -> dict[str, Any]:
    """Confusion matrix, per-class figures, ROC and PR curves, calibration, thresholds, gain."""
    k = len(labels)
    cm = _confusion(truth[None], predicted[None], k)[0]
    support = cm.sum(axis=1)
    predicted_n = cm.sum(axis=0)
    tp = np.diag(cm)
    per_class = [
        {
            "class": labels[c],
            "precision": float(tp[c] / predicted_n[c]) if predicted_n[c] else 0.0,
            "recall": float(tp[c] / support[c]) if support[c] else 0.0,
            "f1": float(2 * tp[c] / (support[c] + predicted_n[c]))
            if support[c] + predicted_n[c]
            else 0.0,
            "support": int(support[c]),
        }
        for c in range(k)
    ]
    with np.errstate(invalid="ignore", divide="ignore"):
        normalised = np.where(support[:, None] > 0, cm / np.maximum(support[:, None], 1), 0.0)
    out: dict[str, Any] = {
        "labels": labels,
        "confusion": cm.tolist(),
        "confusion_normalised": np.round(normalised, 6).tolist(),
        "per_class": per_class,
    }
    if proba is None:
        return out
    out["roc"], out["pr"] = [], []
    for c in (1,) if k == 2 else range(k):
        hit = truth == c
        if not 0 < hit.sum() < hit.size:
            continue
        roc = curves.roc_curve(hit, proba[:, c])
        fpr, tpr = curves.thin(roc["fpr"], roc["tpr"])
        pr = curves.pr_curve(hit, proba[:, c])
        recall, precision = curves.thin(pr["recall"], pr["precision"])
        out["roc"].append(
            {
                "class": labels[c],
                "auc": curves.roc_auc(hit, proba[:, c]),
                "fpr": _list(fpr),
                "tpr": _list(tpr),
            }
        )
        out["pr"].append(
            {
                "class": labels[c],
                "ap": curves.average_precision(hit, proba[:, c]),
                "recall": _list(recall),
                "precision": _list(precision),
                "base_rate": float(hit.mean()),
            }
        )
    if k == 2:
        hit, confidence = truth == 1, proba[:, 1]
        what = f"P({labels[1]})"
    else:
        hit, confidence = proba.argmax(axis=1) == truth, proba.max(axis=1)
        what = "top-class probability"
    rel = curves.reliability(hit, confidence, ECE_BINS)
    out["calibration"] = {
        "of": what,
        "ece": rel["ece"],
        **{key: _list(rel[key]) for key in ("low", "high", "rows", "predicted", "observed")},
    }
    if k == 2:
        grid = np.round(np.linspace(0.01, 0.99, 99), 4)
        table = curves.threshold_metrics(truth == 1, proba[:, 1], grid)
        out["thresholds"] = {
            "chosen": 0.5 if threshold is None else float(threshold),
            "rule": "the most probable class" if threshold is None else "the version's threshold",
            **{key: _list(v) for key, v in table.items()},
        }
        gain = curves.gain_curve(truth == 1, proba[:, 1], points=50)
        out["gain"] = {
            "base_rate": gain["base_rate"],
            **{key: _list(gain[key]) for key in ("share", "gain", "lift")},
        }
    return out


# --------------------------------------------------------------------------- regression


def regression_scores(truth: np.ndarray, predicted: np.ndarray, resampler: Resampler) -> Scored:
    """RMSE, MAE and R² with their intervals."""
    y = np.asarray(truth, dtype=float)
    e = np.asarray(predicted, dtype=float) - y

    def r2(err: np.ndarray, target: np.ndarray) -> np.ndarray:
        spread = ((target - target.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(spread > 0, 1.0 - (err**2).sum(axis=1) / spread, np.nan)

    return {
        "rmse": resampler.interval(lambda v: np.sqrt((v**2).mean(axis=1)), [e]),
        "mae": resampler.interval(lambda v: np.abs(v).mean(axis=1), [e]),
        "r2": resampler.interval(r2, [e, y]),
    }


def regression_details(
    truth: np.ndarray, predicted: np.ndarray, *, seed: int = 0, points: int = 800
) -> dict[str, Any]:
    """Predicted vs actual and residuals (a sample of points), the residuals' histogram, and
    the error by decile of the target (MAE with its interval, and the mean residual)."""
    y = np.asarray(truth, dtype=float)
    p = np.asarray(predicted, dtype=float)
    e = p - y
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(y.size, size=min(points, y.size), replace=False))
    counts, edges = np.histogram(e, bins=40)
    cuts = np.unique(np.quantile(y, np.linspace(0, 1, 11)[1:-1]))
    decile = np.searchsorted(cuts, y, side="right")
    n_groups = cuts.size + 1
    bounds = np.r_[y.min(), cuts, y.max()]
    mae = mean_intervals(np.abs(e), decile, n_groups, seed=seed)
    bias = np.bincount(decile, weights=e, minlength=n_groups) / np.maximum(
        np.bincount(decile, minlength=n_groups), 1
    )
    by_quantile = [
        {
            "low": float(bounds[g]),
            "high": float(bounds[g + 1]),
            "rows": int((decile == g).sum()),
            "mae": value,
            "mae_low": interval[0] if interval else None,
            "mae_high": interval[1] if interval else None,
            "mean_residual": float(bias[g]),
        }
        for g, (value, interval) in enumerate(mae)
    ]
    return {
        "sample": {"actual": _list(y[sample]), "predicted": _list(p[sample])},
        "residuals": {"counts": counts.tolist(), "edges": _list(edges)},
        "by_target_quantile": by_quantile,
    }


def _list(values: np.ndarray) -> list[float | None]:
    """Floats for JSON (6 significant digits; NaN and infinities as ``None``)."""
    arr = np.asarray(values, dtype=float)
    return [float(f"{v:.6g}") if np.isfinite(v) else None for v in arr.tolist()]
