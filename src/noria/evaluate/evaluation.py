"""The evaluation of a model on labelled data: one frozen record, serialisable to JSON.

:func:`evaluate_model` predicts the rows with the model and calls :func:`evaluate_predictions`,
which computes from predictions alone (no model needed, so it also scores predictions made
elsewhere):

* every metric of the task with a bootstrap 95 % interval (:mod:`~noria.evaluate.intervals`),
  and the trivial baseline's on the same resamples beside it;
* the figures of the task (:mod:`~noria.evaluate.scores`): confusion matrix, per-class
  figures, ROC and precision–recall curves, calibration, metrics against the decision threshold,
  cumulative gain and lift; or predicted vs actual, residuals, error by quantile of the target;
* slices of every column with their metric and interval, and the weak segments
  (:mod:`~noria.evaluate.slices`);
* fairness of the ``sensitive`` columns (:mod:`~noria.evaluate.fairness`);

then adds the explanations (:mod:`~noria.evaluate.explain`): permutation importance and the
partial dependence of the most important columns.

Two concepts come from the model's training and are reached through one function each, so that
they have one definition: :func:`trivial_baseline` (the rule the model must beat, learned from
the training targets) and :func:`decision_threshold` (the threshold a binary model labels by).

Not here: loading a registered version and its holdout (the ``noria evaluate`` command), the
HTML report (:mod:`noria.reports.evaluation_report`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from noria.errors import DataError, did_you_mean
from noria.evaluate.baseline import fit_baseline as trivial_baseline

__all__ = [
    "Evaluation",
    "EvaluationSettings",
    "decision_threshold",
    "evaluate_model",
    "evaluate_predictions",
    "target_codes",
    "trivial_baseline",
]

_LOWER_IS_BETTER = frozenset({"log_loss", "brier", "ece", "rmse", "mae"})


@dataclass(frozen=True)
class EvaluationSettings:
    """How an evaluation is computed (``noria.yaml``'s ``evaluation:`` gives some).

    Attributes:
        replicates: bootstrap resamples.
        max_rows: most rows in one resample (m-out-of-n above, see ``intervals``).
        seed: the seed of resamples, shuffles and samples.
        bins: quantile bins of a numeric column's slices.
        max_values: most values of a categorical column kept as slices of their own.
        min_segment_rows: the fewest rows of a weak segment (``None``: 1 % of the rows, at
            least 30).
        alpha: the false discovery rate of the weak-segment search.
        max_pair_columns: columns among which two-column segments are searched.
        sensitive: the columns whose fairness is reported.
        explain: compute permutation importance and partial dependence.
        importance_rows: most rows for permutation importance.
        importance_repeats: shuffles per column.
        pd_features: columns with a partial-dependence plot.
    """

    replicates: int = 200
    max_rows: int = 50_000
    seed: int = 0
    bins: int = 5
    max_values: int = 10
    min_segment_rows: int | None = None
    alpha: float = 0.05
    max_pair_columns: int = 12
    sensitive: tuple[str, ...] = ()
    explain: bool = True
    importance_rows: int = 5_000
    importance_repeats: int = 5
    pd_features: int = 4


@dataclass(frozen=True)
class Evaluation:
    """One evaluation: what was evaluated on what, and every figure (JSON-ready values).

    Attributes:
        model: what was evaluated (``NAME@VERSION``, or a description).
        data: the rows it was evaluated on (``holdout`` or a file).
        task: ``classification`` or ``regression``.
        target: the target column.
        rows: rows evaluated.
        classes: the classes (text), ``[]`` for regression.
        threshold: the decision threshold of a binary classifier (``None``: the most probable).
        baseline: the trivial baseline's rule, in words.
        metrics: ``{metric: {value, low, high, baseline, baseline_low, baseline_high,
            greater_is_better}}``.
        details: the figures of the task (confusion, curves, calibration, residuals, ...).
        slices: every slice's rows, share, metric and interval.
        weak_segments: the weak-segment search's result.
        fairness: one entry per sensitive column.
        importance: permutation importance (``{}`` when not computed).
        partial_dependence: partial dependence of the top columns.
        settings: the settings used.
        seconds: time taken by each part.
        notes: things a reader should know (rows dropped, ...).
    """

    model: str
    data: str
    task: str
    target: str
    rows: int
    classes: list[str]
    threshold: float | None
    baseline: str
    metrics: dict[str, dict[str, Any]]
    details: dict[str, Any]
    slices: list[dict[str, Any]]
    weak_segments: dict[str, Any]
    fairness: list[dict[str, Any]]
    importance: dict[str, Any] = field(default_factory=dict)
    partial_dependence: list[dict[str, Any]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    #: The version of this record's JSON layout.
    FORMAT = "noria.evaluation/1"

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON values (NaN as ``None``)."""
        return _clean({"format": self.FORMAT, **asdict(self)})

    def to_json(self) -> bytes:
        """The record as JSON."""
        import orjson

        return orjson.dumps(self.to_dict(), option=orjson.OPT_INDENT_2)


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --------------------------------------------------------------------------- the two concepts


def decision_threshold(params: Mapping[str, Any], model: Any) -> float | None:
    """The threshold a binary classifier labels the positive class by (``None``: the most
    probable class): the version's ``threshold`` param, else the model's own ``threshold``."""
    value = params.get("threshold")
    if value is None:
        value = getattr(model, "threshold", None)
    return None if value is None else float(value)


# --------------------------------------------------------------------------- targets


def target_codes(
    values: Any, *, target: str, task: str, classes: Sequence[Any], source: str
) -> np.ndarray:
    """The true targets as class codes ``0 … k-1`` (classification) or floats (regression).

    Raises:
        DataError: naming the column and the file: a regressor's target that is not numeric,
            or a classifier's target whose values are of another type than the classes or
            are classes the model does not know.
    """
    import pandas as pd

    series = pd.Series(values)
    if task == "regression":
        if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
            example = series.dropna().iloc[0] if series.notna().any() else None
            raise DataError(
                f"{source}: target column '{target}' is {series.dtype} (e.g. {example!r}), but "
                "the model is a regressor: the column must hold numbers"
            )
        return series.to_numpy(dtype=float)
    known = list(classes)
    codes = pd.Index(known).get_indexer(series)
    if (codes < 0).all() and len(series):
        example = series.iloc[0]
        kinds = sorted({type(c).__name__ for c in known})
        raise DataError(
            f"{source}: target column '{target}' holds {type(example).__name__} values "
            f"(e.g. {example!r}) but the model's classes are {'/'.join(kinds)}: "
            f"{', '.join(map(str, known))}; give the true classes in that column"
        )
    unknown = series[codes < 0]
    if len(unknown):
        shown = ", ".join(repr(v) for v in unknown.unique()[:5])
        raise DataError(
            f"{source}: target column '{target}' has {len(unknown)} row(s) of classes the model "
            f"does not know ({shown}); its classes are {', '.join(map(str, known))}: remove "
            "those rows or retrain on data that has them"
        )
    return codes.astype(np.int64)


def _codes(values: Any, classes: Sequence[Any], index: Mapping[Any, int]) -> np.ndarray:
    """Predicted labels as class codes (``-1``: not a class)."""
    import pandas as pd

    array = np.asarray(values)
    if (
        array.dtype.kind in "biuf"
        and len(classes)
        and all(isinstance(c, bool | int | float) for c in classes)
    ):
        return pd.Index(list(classes)).get_indexer(pd.Index(array)).astype(np.int64)
    return np.array([index.get(v, -1) for v in array.tolist()], dtype=np.int64)


def _check_columns(frame: Any, names: Sequence[str], what: str, source: str) -> None:
    columns = [str(c) for c in frame.columns]
    for name in names:
        if name not in columns:
            raise DataError(
                f"{source}: {what} column '{name}' is not in the data"
                f"{did_you_mean(name, columns)} (columns: {', '.join(columns)})"
            )


# --------------------------------------------------------------------------- evaluation


def evaluate_predictions(
    frame: Any,
    *,
    target: str,
    task: str,
    predicted: np.ndarray,
    proba: np.ndarray | None = None,
    classes: Sequence[Any] = (),
    threshold: float | None = None,
    baseline: Any = None,
    settings: EvaluationSettings = EvaluationSettings(),
    model: str = "model",
    data: str = "data",
) -> Evaluation:
    """The evaluation of predictions of ``frame``'s rows (see the module docstring).

    Args:
        frame: the evaluated rows with the target column (other columns are sliced).
        target: the target column.
        task: ``classification`` or ``regression``.
        predicted: the predicted classes (labels) or values, one per row.
        proba: class probabilities, one column per class of ``classes`` (classification).
        classes: the classes, in the order of ``proba``'s columns.
        threshold: the decision threshold of a binary classifier (for the report).
        baseline: a trivial baseline (:func:`trivial_baseline`); learned from these rows'
            targets when ``None`` (then say so).
        settings: how.
        model: what made the predictions, for the record.
        data: where the rows come from, for the record.

    Raises:
        DataError: the target is missing or of the wrong type; a sensitive column is missing.
    """
    from noria.evaluate.fairness import fairness
    from noria.evaluate.intervals import Resampler
    from noria.evaluate.scores import (
        classification_details,
        classification_scores,
        regression_details,
        regression_scores,
    )
    from noria.evaluate.slices import slice_columns, slice_table, weak_segments

    seconds: dict[str, float] = {}
    started = time.perf_counter()
    _check_columns(frame, [target], "target", data)
    _check_columns(frame, settings.sensitive, "sensitive (evaluation.sensitive)", data)
    notes: list[str] = []
    if baseline is None:
        baseline = trivial_baseline(task, frame[target], list(classes) or None)
        notes.append("the baseline was learned from the evaluated rows' own targets")
    n = len(frame)
    if n == 0:
        raise DataError(f"{data}: no rows to evaluate")
    truth = target_codes(
        frame[target].to_numpy(), target=target, task=task, classes=classes, source=data
    )
    resampler = Resampler.draw(
        n, replicates=settings.replicates, max_rows=settings.max_rows, seed=settings.seed
    )
    base_values, base_proba = baseline.predict(n)
    labels = [str(c) for c in classes]
    if task == "classification":
        index = {c: i for i, c in enumerate(classes)}
        codes = _codes(predicted, classes, index)
        base_codes = np.full(n, index.get(baseline.value, 0))
        p = None if proba is None else np.asarray(proba, dtype=float)
        taken = resampler.take(truth)
        scored = classification_scores(truth, codes, p, resampler, truth_taken=taken)
        base_scored = classification_scores(
            truth, base_codes, base_proba, resampler, truth_taken=taken
        )
        details = classification_details(truth, codes, p, labels, threshold)
        loss = (codes != truth).astype(float)

        def to_metric(x: float) -> float:
            return 1.0 - x

        slice_metric = "accuracy"
    else:
        values = np.asarray(predicted, dtype=float)
        scored = regression_scores(truth, values, resampler)
        base_scored = regression_scores(truth, base_values, resampler)
        details = regression_details(truth, values, seed=settings.seed)
        loss = np.abs(values - truth)

        def to_metric(x: float) -> float:
            return x

        slice_metric = "mae"
    seconds["metrics"] = time.perf_counter() - started
    metrics = {
        name: {
            "value": value,
            "low": interval[0] if interval else None,
            "high": interval[1] if interval else None,
            "baseline": base_scored[name][0],
            "baseline_low": base_scored[name][1][0] if base_scored[name][1] else None,
            "baseline_high": base_scored[name][1][1] if base_scored[name][1] else None,
            "greater_is_better": name not in _LOWER_IS_BETTER,
        }
        for name, (value, interval) in scored.items()
    }
    started = time.perf_counter()
    sliced = [c for c in frame.columns if c != target]
    fold = max(5, n // 1000)
    columns = slice_columns(
        frame, sliced, bins=settings.bins, max_values=settings.max_values, min_rows=fold
    )
    min_rows = settings.min_segment_rows or max(30, math.ceil(0.01 * n))
    slices = slice_table(
        columns, loss, to_metric=to_metric, replicates=settings.replicates, seed=settings.seed
    )
    weak = weak_segments(
        columns,
        loss,
        min_rows=min_rows,
        alpha=settings.alpha,
        max_pair_columns=settings.max_pair_columns,
    )
    weak["metric"] = slice_metric
    for segment in weak["segments"]:
        segment["metric"] = to_metric(segment["mean_loss"])
        segment["rest_metric"] = to_metric(segment["rest_loss"])
    weak["overall_metric"] = to_metric(weak["overall_loss"])
    for row in slices:
        row["metric_name"] = slice_metric
    seconds["slices"] = time.perf_counter() - started
    started = time.perf_counter()
    fair = []
    for name in settings.sensitive:
        groups = slice_columns(frame, [name], bins=settings.bins, max_values=20, min_rows=1)
        if not groups:
            notes.append(f"sensitive column '{name}' has a single value: no groups to compare")
            continue
        if task == "classification":
            fair.append(fairness(groups[0], task=task, truth=truth, predicted=codes, labels=labels))
        else:
            fair.append(fairness(groups[0], task=task, truth=truth, predicted=values))
    seconds["fairness"] = time.perf_counter() - started
    return Evaluation(
        model=model,
        data=data,
        task=task,
        target=target,
        rows=n,
        classes=labels,
        threshold=threshold,
        baseline=baseline.describe(),
        metrics=metrics,
        details=details,
        slices=slices,
        weak_segments=weak,
        fairness=fair,
        settings={k: list(v) if isinstance(v, tuple) else v for k, v in asdict(settings).items()},
        seconds=seconds,
        notes=notes,
    )


def evaluate_model(
    model: Any,
    frame: Any,
    *,
    target: str,
    task: str,
    classes: Sequence[Any] | None = None,
    threshold: float | None = None,
    baseline: Any = None,
    settings: EvaluationSettings = EvaluationSettings(),
    name: str = "model",
    data: str = "data",
) -> Evaluation:
    """Predict ``frame``'s rows with ``model`` and evaluate (see the module docstring).

    Args:
        model: a fitted model taking the frame's columns less the target (``predict``, and
            ``predict_proba`` for a classifier's probabilities).
        frame: the rows, with the target column.
        target: the target column.
        task: ``classification`` or ``regression``.
        classes: the classes (the model's ``classes_`` when ``None``).
        threshold: a binary classifier's decision threshold; labels are then the positive
            class where its probability reaches it (else the model's ``predict``).
        baseline: the trivial baseline (:func:`trivial_baseline` of the training targets).
        settings: how.
        name: what is evaluated, for the record.
        data: where the rows come from, for the record.

    Raises:
        DataError: the target is missing or of the wrong type, a sensitive column is missing.
    """
    _check_columns(frame, [target], "target", data)
    missing = frame[target].isna()
    dropped = int(missing.sum())
    if dropped:
        frame = frame.loc[~missing].reset_index(drop=True)
    x = frame.drop(columns=[target])
    if task == "classification" and classes is None:
        classes = [c.item() if hasattr(c, "item") else c for c in model.classes_]
    classes = list(classes or [])
    truth = target_codes(  # checked before anything is predicted
        frame[target].to_numpy(), target=target, task=task, classes=classes, source=data
    )
    started = time.perf_counter()
    proba = None
    if task == "classification" and hasattr(model, "predict_proba"):
        proba = np.asarray(model.predict_proba(x), dtype=float)
    if proba is not None and threshold is not None and proba.shape[1] == 2:
        predicted = np.asarray(classes, dtype=object)[(proba[:, 1] >= threshold).astype(int)]
    else:
        predicted = np.asarray(model.predict(x))
    predict_seconds = time.perf_counter() - started
    result = evaluate_predictions(
        frame,
        target=target,
        task=task,
        predicted=predicted,
        proba=proba,
        classes=classes,
        threshold=threshold,
        baseline=baseline,
        settings=settings,
        model=name,
        data=data,
    )
    seconds = {"predict": predict_seconds, **result.seconds}
    if dropped:
        note = f"{dropped} row(s) without a value in '{target}' were left out"
        result = replace(result, notes=[note, *result.notes])
    if not settings.explain:
        return replace(result, seconds=seconds)
    from noria.evaluate.explain import partial_dependence, permutation_importance

    started = time.perf_counter()
    importance = permutation_importance(
        model,
        x,
        truth,
        task=task,
        classes=classes,
        repeats=settings.importance_repeats,
        max_rows=settings.importance_rows,
        seed=settings.seed,
    )
    top = [f["feature"] for f in importance["features"][: settings.pd_features]]
    dependence = partial_dependence(model, x, top, task=task, classes=classes, seed=settings.seed)
    seconds["explain"] = time.perf_counter() - started
    return replace(result, importance=importance, partial_dependence=dependence, seconds=seconds)
