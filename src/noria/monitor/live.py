"""Live performance: the metrics of served predictions once their labels have arrived.

The joined rows of :func:`noria.monitor.labels.labelled_predictions` are grouped by monitor
window and model version, and scored with the same metrics as the holdout
(:func:`noria.evaluate.metrics.compute_metrics`), so that a live ``accuracy`` or ``rmse`` is
comparable with the registered one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LiveMetrics", "live_metrics", "score_labelled"]


@dataclass(frozen=True)
class LiveMetrics:
    """Metrics of one model version's labelled predictions in one window.

    Attributes:
        window: The monitor window (``None``: over every window given).
        version: The model version.
        labels: Labelled predictions scored.
        metrics: ``{metric: value}``.
    """

    window: int | None
    version: int
    labels: int
    metrics: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {
            "window": self.window,
            "version": self.version,
            "labels": self.labels,
            "metrics": self.metrics,
        }


def _coerce(labels: pd.Series, like: pd.Series, classes: Sequence[Any]) -> pd.Series:
    """Labels in the type of the predictions (a CSV's ``1`` against a class ``'1'``, …)."""
    import pandas as pd

    if classes:
        by_text = {str(c): c for c in classes}
        return labels.map(lambda v: by_text.get(str(v), v))
    return pd.to_numeric(labels, errors="coerce") if like.dtype.kind in "fiu" else labels


def score_labelled(frame: pd.DataFrame, task: str, classes: Sequence[Any] = ()) -> dict[str, float]:
    """Metrics of labelled predictions (``output.prediction``, ``output.proba.*``, ``label``)."""
    import numpy as np

    from noria.evaluate.metrics import compute_metrics

    truth = _coerce(frame["label"], frame["output.prediction"], classes)
    keep = truth.notna().to_numpy()
    predicted = frame["output.prediction"].to_numpy()[keep]
    proba = None
    names = [f"output.proba.{c}" for c in classes]
    if task == "classification" and classes and all(n in frame.columns for n in names):
        proba = frame[names].to_numpy(dtype=float)[keep]
    if not keep.any():
        return {}
    scores = compute_metrics(
        task,
        np.asarray(truth.to_numpy()[keep]),
        predicted,
        y_proba=proba,
        classes=list(classes) or None,
    )
    return {k: float(v) for k, v in scores.items() if v is not None}


def live_metrics(
    frame: pd.DataFrame,
    *,
    task: str,
    classes: Sequence[Any] = (),
    window_of: Mapping[str, int] | None = None,
) -> list[LiveMetrics]:
    """Metrics per (window, version) of labelled predictions, oldest window first.

    Args:
        frame: Labelled predictions (see :func:`noria.monitor.labels.labelled_predictions`).
        task: ``classification`` or ``regression``.
        classes: The class labels, in the order of the ``output.proba.*`` columns.
        window_of: ``{segment name: window id}``; without it, one group per version.
    """
    if frame.empty:
        return []
    windows = frame["segment"].map(lambda s: window_of.get(s, -1)) if window_of is not None else -1
    keyed = frame.assign(__window=windows, __version=frame["version"].astype(int))
    out = [
        LiveMetrics(
            None if window == -1 else int(window),
            int(version),
            len(part),
            score_labelled(part, task, classes),
        )
        for (window, version), part in keyed.groupby(["__window", "__version"], sort=True)
    ]
    return sorted(out, key=lambda m: (m.window is None, m.window or 0, m.version))
