"""Global explanations on the evaluation data: permutation importance and partial dependence.

* **Permutation importance**: how much the model's score worsens when one column's values are
  shuffled among the rows (ROC AUC for classifiers with probabilities, one-vs-rest macro for
  more than two classes, else accuracy; RMSE for regressors), averaged over ``repeats``
  shuffles, on at most ``max_rows`` rows sampled from the evaluation data. Shuffles come from
  one seeded generator, so the same seed gives the same figures. Every shuffle of a column is
  scored in one call of the model (the shuffled copies stacked).
* **Partial dependence** of the most important columns: the mean prediction (the probability
  of each class, or the value) over a sample of rows when the column is set to each value of a
  grid (its quantiles, or its most frequent values).

Both are written here over the model's ``predict`` / ``predict_proba`` rather than taken from
``sklearn.inspection``, which accepts only objects with ``fit`` and refuses a model that is
neither a scikit-learn classifier nor a regressor (a model wrapped with its calibration and
decision threshold is such a model); the algorithms are scikit-learn's (its ``brute`` method
for partial dependence).

Not here: per-row contributions (SHAP), the metrics.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from noria.evaluate import curves

__all__ = ["partial_dependence", "permutation_importance"]


def _scorer(task: str, model: Any, classes: list[Any]) -> tuple[str, Any]:
    """``(name, score(frame, truth codes or values) -> float)``, higher is better."""
    if task == "regression":

        def rmse(frame: Any, truth: np.ndarray) -> np.ndarray:
            return np.asarray(model.predict(frame), dtype=float)

        return "rmse", rmse
    if hasattr(model, "predict_proba"):
        return "roc_auc", lambda frame, _: np.asarray(model.predict_proba(frame), dtype=float)
    index = {c: i for i, c in enumerate(classes)}
    return "accuracy", lambda frame, _: np.array([index.get(v, -1) for v in model.predict(frame)])


def _score(name: str, output: np.ndarray, truth: np.ndarray) -> float:
    if name == "rmse":
        return -float(np.sqrt(np.mean((output - truth) ** 2)))
    if name == "accuracy":
        return float(np.mean(output == truth))
    k = output.shape[1]
    classes = [1] if k == 2 else range(k)
    aucs = [curves.roc_auc(truth == c, output[:, c]) for c in classes]
    finite = [a for a in aucs if np.isfinite(a)]
    return float(np.mean(finite)) if finite else float("nan")


def _sample(n: int, max_rows: int, rng: np.random.Generator) -> np.ndarray:
    return np.arange(n) if n <= max_rows else np.sort(rng.choice(n, max_rows, replace=False))


def permutation_importance(
    model: Any,
    frame: Any,
    truth: np.ndarray,
    *,
    task: str,
    classes: list[Any],
    repeats: int = 5,
    max_rows: int = 5_000,
    seed: int = 0,
) -> dict[str, Any]:
    """Each column's permutation importance, most important first.

    Args:
        model: the fitted model (``predict``, and ``predict_proba`` for probabilities).
        frame: the evaluation rows (the model's input columns).
        truth: true classes coded ``0 … k-1`` in the order of ``classes``, or true values.
        task: ``classification`` or ``regression``.
        classes: the classes (``[]`` for regression).
        repeats: shuffles per column.
        max_rows: most rows used (a seeded sample).
        seed: the random seed.

    Returns:
        ``{"metric", "baseline_score", "rows", "repeats", "features": [{feature, importance,
        std}]}``; importance is the drop of the score (for RMSE: its rise).
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows = _sample(len(frame), max_rows, rng)
    x = frame.iloc[rows].reset_index(drop=True)
    y = np.asarray(truth)[rows]
    name, output = _scorer(task, model, classes)
    base = _score(name, output(x, y), y)
    m = len(x)
    features = []
    for column in x.columns:
        stacked = pd.concat([x] * repeats, ignore_index=True)
        values = x[column].to_numpy()
        shuffled = np.concatenate([values[rng.permutation(m)] for _ in range(repeats)])
        stacked[column] = pd.Series(shuffled, dtype=x[column].dtype)
        out = output(stacked, None)
        scores = np.array([_score(name, out[r * m : (r + 1) * m], y) for r in range(repeats)])
        drops = base - scores
        features.append(
            {
                "feature": str(column),
                "importance": float(np.mean(drops)),
                "std": float(np.std(drops)),
            }
        )
    features.sort(key=lambda f: -f["importance"])
    return {
        "metric": name,
        "score": abs(base),
        "rows": m,
        "repeats": repeats,
        "seed": seed,
        "features": features,
    }


def partial_dependence(
    model: Any,
    frame: Any,
    features: list[str],
    *,
    task: str,
    classes: list[Any],
    grid_points: int = 20,
    max_rows: int = 300,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """The partial dependence of the model on each of ``features``.

    Returns:
        Per feature: ``feature``, ``kind`` (``numeric`` or ``categorical``), ``grid`` (the
        values, as text for categories), and ``curves``: ``{output: mean prediction per grid
        value}`` (one output per class, or ``prediction``).
    """
    import pandas as pd

    rng = np.random.default_rng(seed)
    x = frame.iloc[_sample(len(frame), max_rows, rng)].reset_index(drop=True)
    m = len(x)
    proba = task == "classification" and hasattr(model, "predict_proba")
    out = []
    for feature in features:
        series = x[feature]
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        present = series.dropna()
        if present.empty:
            continue
        if numeric and present.nunique() > grid_points:
            grid = np.unique(
                np.quantile(present.to_numpy(dtype=float), np.linspace(0.05, 0.95, grid_points))
            )
        elif numeric:
            grid = np.sort(present.unique())
        else:
            grid = present.value_counts().index[:grid_points].to_numpy()
        stacked = pd.concat([x] * len(grid), ignore_index=True)
        repeated = np.repeat(grid, m)
        # a numeric grid holds quantiles (floats even for an integer column)
        stacked[feature] = (
            repeated.astype(float) if numeric else pd.Series(repeated, dtype=series.dtype)
        )
        if proba:
            predicted = np.asarray(model.predict_proba(stacked), dtype=float)
            means = predicted.reshape(len(grid), m, -1).mean(axis=1)
            shown = [1] if means.shape[1] == 2 else range(means.shape[1])
            lines = {str(classes[c]): means[:, c].tolist() for c in shown}
        else:
            predicted = np.asarray(model.predict(stacked), dtype=float)
            lines = {"prediction": predicted.reshape(len(grid), m).mean(axis=1).tolist()}
        out.append(
            {
                "feature": feature,
                "kind": "numeric" if numeric else "categorical",
                "grid": [float(g) for g in grid] if numeric else [str(g) for g in grid],
                "curves": lines,
            }
        )
    return out
