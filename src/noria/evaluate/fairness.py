"""Group fairness for the columns named in ``evaluation.sensitive``.

For each sensitive column (cut into groups as slices are, :mod:`noria.evaluate.slices`):

* classification: per group its rows, accuracy, selection rate (the share predicted positive),
  true-positive rate and false-positive rate; the **demographic-parity difference** (the largest
  minus the smallest selection rate) and the **equalised-odds difference** (the larger of the
  spreads of the true- and the false-positive rates), as Fairlearn defines them. For two classes
  "positive" is the positive class; for more, each class in turn (one-vs-rest) and the
  differences are the largest over the classes;
* regression: per group its rows, mean prediction, mean target and MAE; the differences are the
  spreads of the mean prediction and of the MAE.

Groups with no row of a class leave that rate undefined (``None``) and out of the spread.

Not here: choosing the columns (``noria.yaml``), slices of every column.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from noria.evaluate.slices import SliceColumn

__all__ = ["fairness"]


def _rate(hit: np.ndarray, where: np.ndarray) -> float | None:
    total = int(where.sum())
    return float(hit[where].mean()) if total else None


def _spread(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(max(known) - min(known)) if len(known) > 1 else None


def _largest(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def fairness(
    column: SliceColumn,
    *,
    task: str,
    truth: np.ndarray,
    predicted: np.ndarray,
    labels: list[str] | None = None,
) -> dict[str, Any]:
    """The fairness figures of one sensitive column.

    Args:
        column: the column cut into groups.
        task: ``classification`` or ``regression``.
        truth: true classes coded ``0 … k-1`` (classification) or true values.
        predicted: predicted classes coded alike, or predicted values.
        labels: the class labels (classification).
    """
    groups = []
    if task == "regression":
        y, p = np.asarray(truth, dtype=float), np.asarray(predicted, dtype=float)
        for code, label in enumerate(column.labels):
            where = column.codes == code
            groups.append(
                {
                    "group": label,
                    "rows": int(where.sum()),
                    "mean_prediction": float(p[where].mean()) if where.any() else None,
                    "mean_target": float(y[where].mean()) if where.any() else None,
                    "mae": float(np.abs(p[where] - y[where]).mean()) if where.any() else None,
                }
            )
        return {
            "column": column.name,
            "groups": groups,
            "mean_prediction_difference": _spread([g["mean_prediction"] for g in groups]),
            "mae_difference": _spread([g["mae"] for g in groups]),
        }
    labels = labels or []
    k = max(len(labels), 2)
    positives = [1] if k == 2 else list(range(k))
    dp, eo = [], []
    per_class: dict[int, list[dict[str, float | None]]] = {c: [] for c in positives}
    for code, label in enumerate(column.labels):
        where = column.codes == code
        group: dict[str, Any] = {
            "group": label,
            "rows": int(where.sum()),
            "accuracy": _rate(truth == predicted, where),
        }
        for c in positives:
            rates = {
                "selection_rate": _rate(predicted == c, where),
                "tpr": _rate(predicted == c, where & (truth == c)),
                "fpr": _rate(predicted == c, where & (truth != c)),
            }
            per_class[c].append(rates)
            if k == 2:
                group.update(rates)
        groups.append(group)
    for c in positives:
        rows = per_class[c]
        dp.append(_spread([r["selection_rate"] for r in rows]))
        tpr, fpr = _spread([r["tpr"] for r in rows]), _spread([r["fpr"] for r in rows])
        eo.append(_largest([tpr, fpr]))
    out: dict[str, Any] = {
        "column": column.name,
        "groups": groups,
        "demographic_parity_difference": _largest(dp),
        "equalized_odds_difference": _largest(eo),
    }
    if k == 2:
        out["positive"] = labels[1] if len(labels) > 1 else "1"
    else:
        out["per_class"] = [
            {"class": labels[c], "demographic_parity_difference": d, "equalized_odds_difference": e}
            for c, d, e in zip(positives, dp, eo, strict=True)
        ]
    return out
