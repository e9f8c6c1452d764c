"""The built-in supervised-learning pipeline: classification and regression from ``noria.yaml``.

Its steps, each a plain function whose parameters name what it needs::

    raw_data ─ validated_data ─ problem ─ splits ─ features ─ candidates ─ model ─ evaluation
                                                                                 └ registered_model

- ``raw_data``: the data source read through DuckDB (CSV, Parquet, JSON, a glob of files).
- ``validated_data``: basic checks — the target exists, rows without a target are dropped (and
  counted), something is left.
- ``problem``: the task (inferred when ``task: auto``), the classes, the metric.
- ``splits``: training and test parts (random, stratified or by time). The test part is the
  holdout: it is never used to fit or to select a model.
- ``features``: which column gets which preprocessing, from the training part's types.
- ``candidates``: each candidate family fitted on the training part less a validation share and
  scored on that share; a family that fails is recorded and skipped.
- ``model``: the best candidate refitted on the whole training part.
- ``evaluation``: the model's metrics on the holdout.
- ``registered_model``: the model registered as a new version with its input signature.

A user overrides any step, or adds one, by defining a function of that name in the file that
``steps.module`` names; the same engine runs it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.errors import DataError, did_you_mean
from noria.pipeline.dag import Pipeline
from noria.tracking import log_metric, log_metrics, log_params, set_tag

if TYPE_CHECKING:
    import pandas as pd

    from noria.spec import Spec

__all__ = ["STEPS", "params_from_spec", "supervised_pipeline"]

#: Most distinct values an integer target may have to be taken as classes under ``task: auto``.
MAX_INTEGER_CLASSES = 20


def raw_data(data_files: list[Path], data_format: str) -> pd.DataFrame:
    """The data, read from the files the source names (``data_files`` are resolved paths)."""
    import pandas as pd

    from noria.data.sources import read_source

    frames = [read_source(str(f), format=data_format) for f in data_files]
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    log_metric("rows_raw", len(frame))
    return frame


def validated_data(raw_data: pd.DataFrame, target: str) -> pd.DataFrame:
    """The data with the target checked and rows without a target dropped."""
    columns = [str(c) for c in raw_data.columns]
    if target not in raw_data.columns:
        raise DataError(
            f"target column '{target}' is not in the data{did_you_mean(target, columns)}; "
            f"fix `target` in noria.yaml (columns: {', '.join(columns)})"
        )
    if len(raw_data.columns) < 2:
        raise DataError(f"the data has only the target column '{target}': no feature to learn from")
    missing = raw_data[target].isna()
    dropped = int(missing.sum())
    log_metric("rows_without_target", dropped)
    if dropped == len(raw_data):
        raise DataError(f"target column '{target}' is empty in all {len(raw_data)} rows")
    frame = raw_data.loc[~missing].reset_index(drop=True) if dropped else raw_data
    log_metric("rows_valid", len(frame))
    return frame


def problem(validated_data: pd.DataFrame, target: str, task: str, metric: str) -> dict[str, Any]:
    """The learning problem: task, classes, metric (``task: auto`` decides by the target)."""
    import pandas as pd

    from noria.evaluate.metrics import check_metric, default_metric, greater_is_better

    y = validated_data[target]
    if task == "auto":
        numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
        integral = numeric and bool((y.astype("float64") % 1 == 0).all())
        many = y.nunique() > MAX_INTEGER_CLASSES
        task = "regression" if numeric and (not integral or many) else "classification"
    classes: list[Any] = []
    if task == "classification":
        counts = y.value_counts()
        if len(counts) < 2:
            raise DataError(
                f"target column '{target}' has a single class {counts.index[0]!r} in "
                f"{len(y)} rows: a classifier needs at least two (or set `task: regression`)"
            )
        classes = sorted(counts.index.tolist(), key=lambda v: (str(type(v)), v))
        classes = [c.item() if hasattr(c, "item") else c for c in classes]
    elif not pd.api.types.is_numeric_dtype(y):
        raise DataError(
            f"target column '{target}' is not numeric ({y.dtype}): regression needs numbers "
            "(or set `task: classification`)"
        )
    metric = default_metric(task) if metric == "auto" else check_metric(metric, task)
    set_tag("task", task)
    set_tag("metric", metric)
    return {
        "task": task,
        "target": target,
        "classes": classes,
        "metric": metric,
        "greater_is_better": greater_is_better(metric),
    }


def splits(
    validated_data: pd.DataFrame,
    problem: dict[str, Any],
    split_method: str,
    test_size: float,
    time_column: str | None,
    seed: int,
) -> dict[str, pd.DataFrame]:
    """``{"train": …, "test": …}``; the test part is the holdout."""
    from noria.data.split import split_frame

    method = split_method
    if method == "stratified" and problem["task"] == "regression":
        method = "random"
    train, test = split_frame(
        validated_data,
        target=problem["target"],
        method=method,
        test_size=test_size,
        seed=seed,
        time_column=time_column,
    )
    log_metrics({"rows_train": len(train), "rows_test": len(test)})
    return {"train": train, "test": test}


def features(
    splits: dict[str, pd.DataFrame],
    problem: dict[str, Any],
    drop: list[str],
    max_onehot_cardinality: int,
) -> dict[str, Any]:
    """The column plan: which column is numeric, one-hot, high-cardinality, datetime, dropped."""
    from noria.features.preprocess import plan_columns

    plan = plan_columns(
        splits["train"],
        target=problem["target"],
        drop=drop,
        max_onehot_cardinality=max_onehot_cardinality,
    )
    return plan.to_dict()


def _estimator(
    family: str,
    problem: dict[str, Any],
    features: dict[str, Any],
    high_cardinality: str,
    scale: bool,
    seed: int,
) -> Any:
    from sklearn.pipeline import Pipeline as SkPipeline

    from noria.features.preprocess import ColumnPlan, build_preprocessor
    from noria.train.candidates import make_estimator

    plan = ColumnPlan.from_dict(features)
    return SkPipeline(
        [
            (
                "preprocess",
                build_preprocessor(plan, scale=scale, high_cardinality=high_cardinality),
            ),
            ("model", make_estimator(family, problem["task"], seed=seed, n_jobs=1)),
        ]
    )


def _score(model: Any, frame: pd.DataFrame, problem: dict[str, Any]) -> dict[str, float]:
    from noria.evaluate.metrics import compute_metrics

    target = problem["target"]
    x, y = frame.drop(columns=[target]), frame[target]
    proba = None
    if problem["task"] == "classification" and hasattr(model, "predict_proba"):
        proba = model.predict_proba(x)
    return compute_metrics(
        problem["task"],
        y,
        model.predict(x),
        y_proba=proba,
        classes=list(getattr(model, "classes_", problem["classes"])) or None,
    )


def candidates(
    splits: dict[str, pd.DataFrame],
    problem: dict[str, Any],
    features: dict[str, Any],
    candidate_families: list[str],
    validation_size: float,
    high_cardinality: str,
    scale: bool,
    seed: int,
) -> dict[str, Any]:
    """Each family fitted on the training part less ``validation_size``, scored on the rest."""
    from noria.data.split import split_frame
    from noria.train.candidates import check_family

    for family in candidate_families:
        check_family(family)
    method = "stratified" if problem["task"] == "classification" else "random"
    fit_part, valid_part = split_frame(
        splits["train"],
        target=problem["target"],
        method=method,
        test_size=validation_size,
        seed=seed,
    )
    target, metric = problem["target"], problem["metric"]
    board: list[dict[str, Any]] = []
    for family in candidate_families:
        t0 = time.perf_counter()
        try:
            est = _estimator(family, problem, features, high_cardinality, scale, seed)
            est.fit(fit_part.drop(columns=[target]), fit_part[target])
            scores = _score(est, valid_part, problem)
        except Exception as exc:
            board.append({"family": family, "error": f"{type(exc).__name__}: {exc}"})
            continue
        seconds = time.perf_counter() - t0
        board.append(
            {"family": family, "score": scores.get(metric), "metrics": scores, "seconds": seconds}
        )
        log_metric(f"valid_{metric}.{family}", scores.get(metric, float("nan")))
    scored = [c for c in board if c.get("score") is not None]
    if not scored:
        errors = "; ".join(f"{c['family']}: {c.get('error', 'no score')}" for c in board)
        raise DataError(f"no candidate model could be fitted ({errors})")
    scored.sort(key=lambda c: c["score"], reverse=problem["greater_is_better"])
    best = scored[0]["family"]
    set_tag("best_family", best)
    return {"leaderboard": scored + [c for c in board if c.get("score") is None], "best": best}


def model(
    candidates: dict[str, Any],
    splits: dict[str, pd.DataFrame],
    problem: dict[str, Any],
    features: dict[str, Any],
    high_cardinality: str,
    scale: bool,
    seed: int,
) -> Any:
    """The best family refitted on the whole training part (a scikit-learn pipeline)."""
    best = candidates["best"]
    est = _estimator(best, problem, features, high_cardinality, scale, seed)
    train = splits["train"]
    est.fit(train.drop(columns=[problem["target"]]), train[problem["target"]])
    log_params({"family": best})
    return est


def evaluation(
    model: Any, splits: dict[str, pd.DataFrame], problem: dict[str, Any]
) -> dict[str, float]:
    """The model's metrics on the holdout (test) part, logged as ``test_<metric>``."""
    scores = _score(model, splits["test"], problem)
    log_metrics({f"test_{k}": v for k, v in scores.items()})
    return scores


def registered_model(
    model: Any,
    evaluation: dict[str, float],
    problem: dict[str, Any],
    splits: dict[str, pd.DataFrame],
    candidates: dict[str, Any],
    model_name: str,
) -> dict[str, Any]:
    """Register the model as the next version of ``model_name`` with its input signature."""
    from noria.pipeline.runner import current_context
    from noria.registry import register_model

    ctx = current_context()
    train = splits["train"].drop(columns=[problem["target"]])
    signature = [{"name": str(c), "dtype": str(t)} for c, t in train.dtypes.items()]
    version = register_model(
        ctx.metadata,
        name=model_name,
        artifact_id=ctx.input_artifacts["model"],
        run_id=ctx.run_id,
        signature=signature,
        metrics=evaluation,
        params={
            "family": candidates["best"],
            "task": problem["task"],
            "classes": problem["classes"],
        },
    )
    set_tag("model_version", f"{model_name}/{version.version}")
    return {"name": version.name, "version": version.version}


STEPS = (
    raw_data,
    validated_data,
    problem,
    splits,
    features,
    candidates,
    model,
    evaluation,
    registered_model,
)


def supervised_pipeline(*, name: str = "supervised") -> Pipeline:
    """The built-in pipeline (see the module docstring)."""
    return Pipeline(STEPS, name=name)


def params_from_spec(spec: Spec, root: Path) -> dict[str, Any]:
    """The pipeline's params from ``noria.yaml`` (data files resolved under ``root``)."""
    from noria.data.sources import resolve_files

    return {
        "data_files": resolve_files(spec.data.source, base=root),
        "data_format": spec.data.format,
        "target": spec.target,
        "task": spec.task,
        "metric": spec.models.metric,
        "split_method": spec.split.method,
        "test_size": spec.split.test_size,
        "time_column": spec.split.time_column,
        "seed": spec.seed,
        "drop": list(spec.features.drop),
        "max_onehot_cardinality": spec.features.max_onehot_cardinality,
        "high_cardinality": spec.features.high_cardinality,
        "scale": spec.features.scale,
        "candidate_families": list(spec.models.candidates),
        "validation_size": spec.models.validation_size,
        "model_name": spec.name,
    }
