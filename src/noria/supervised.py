"""The built-in supervised-learning pipeline: classification and regression from ``noria.yaml``.

Its steps, each a plain function whose parameters name what it needs::

    raw_data ─ validated_data ─ problem ─ splits ─ features ─ candidates ─ model ─ evaluation
                    └ data_profile               └ baseline                   └ final_model
                                                                               └ registered_model

- ``raw_data``: the data source read through DuckDB (CSV, Parquet, JSON, a glob of files).
- ``validated_data``: the schema (``noria.schema.yaml``, from ``noria schema infer``) and the
  checks of ``validation.checks``, under ``validation.policy`` (fail, drop or quarantine); the
  target exists; rows without a target are dropped (and counted).
- ``data_profile``: the training data's profile, the reference for validation and monitoring.
- ``problem``: the task (inferred when ``task: auto``), the classes, the metric.
- ``splits``: training and test parts (random, stratified or by time). The test part is the
  holdout: it is never used to fit or to select a model.
- ``features``: which column gets which preprocessing, from the training part's types.
- ``candidates``: each candidate family fitted on the training part less a validation share and
  scored on that share; a family that fails is recorded and skipped.
- ``model``: the best candidate refitted on the whole training part; a classifier fitted with
  class weights gets calibrated probabilities, a binary one its decision threshold
  (:mod:`noria.train.calibration`).
- ``evaluation``: the model's metrics on the holdout.
- ``baseline``: the trivial baseline (majority class with the prior probabilities, or the mean)
  scored on the holdout with the same metrics, and on the search's folds.
- ``final_model``: the model users get: with ``models.refit: all`` (the default) the same
  configuration, calibration and threshold fitted on every labelled row (training part and
  holdout); with ``train``, the evaluated model itself. The holdout metrics stay those of
  ``model``, which never saw the holdout.
- ``registered_model``: ``final_model`` registered as a new version with its input signature,
  its holdout metrics and the baseline's (``baseline_*``), which rows it was fitted on, and
  whether it beats the baseline on the run's metric (param ``beats_baseline``; a version that
  does not carries a warning as its description, and the loop does not promote it).

A user overrides any step, or adds one, by defining a function of that name in the file that
``steps.module`` names; the same engine runs it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.errors import ConfigError, DataError, did_you_mean
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


def validated_data(
    raw_data: pd.DataFrame,
    target: str,
    schema_file: Path | None,
    checks: list[dict[str, Any]],
    validation_policy: str,
) -> pd.DataFrame:
    """The data checked against the schema and noria.yaml's checks, under the policy.

    With ``fail`` an error-level failure stops the run; ``drop`` goes on without the bad rows;
    ``quarantine`` also keeps them as an artifact of their own (lineage name ``quarantine``).
    Rows without a target are dropped (and counted). The tag ``validation_passed`` records the
    verdict, which the promotion gate reads.
    """
    from noria.data.reserved import check_feature_names
    from noria.data.schema import load_schema
    from noria.data.validate import parse_checks, validate_frame

    columns = [str(c) for c in raw_data.columns]
    if target not in raw_data.columns:
        raise DataError(
            f"target column '{target}' is not in the data{did_you_mean(target, columns)}; "
            f"fix `target` in noria.yaml (columns: {', '.join(columns)})"
        )
    if len(raw_data.columns) < 2:
        raise DataError(f"the data has only the target column '{target}': no feature to learn from")
    check_feature_names([c for c in columns if c != target], "the training data")
    schema = load_schema(schema_file) if schema_file is not None else None
    result = validate_frame(raw_data, schema, parse_checks(checks))
    log_metrics(
        {"validation_errors": len(result.errors), "validation_warnings": len(result.warnings)}
    )
    set_tag("validation_passed", str(result.passed).lower())
    frame, quarantined = result.apply(validation_policy)
    frame = raw_data if frame is None else frame
    if quarantined is not None and len(quarantined):
        _keep_quarantine(quarantined)
    log_metric("rows_rejected", len(raw_data) - len(frame))
    missing = frame[target].isna()
    dropped = int(missing.sum())
    log_metric("rows_without_target", dropped)
    if dropped == len(frame):
        raise DataError(f"target column '{target}' is empty in all {len(frame)} rows")
    frame = frame.loc[~missing].reset_index(drop=True) if dropped else frame
    log_metric("rows_valid", len(frame))
    return frame


def _keep_quarantine(rows: pd.DataFrame) -> None:
    """Store quarantined rows as an artifact produced by the running step."""
    from noria.pipeline import materializers
    from noria.pipeline.runner import current_context

    ctx = current_context()
    kind, data = materializers.dump(rows.reset_index(drop=True))
    artifact_id = ctx.artifacts.put(data)
    with ctx.metadata.write() as tx:
        ctx.metadata.insert_artifacts(
            tx,
            [
                {
                    "id": artifact_id,
                    "materializer": kind,
                    "type_name": "pandas.DataFrame",
                    "size": len(data),
                    "created_at": time.time(),
                }
            ],
        )
        ctx.metadata.insert_lineage(
            tx,
            [
                {
                    "step_run_id": ctx.step_run_id,
                    "direction": "out",
                    "name": "quarantine",
                    "artifact_id": artifact_id,
                }
            ],
        )
    log_metric("rows_quarantined", len(rows))
    set_tag("quarantine_artifact", artifact_id)


def data_profile(validated_data: pd.DataFrame) -> dict[str, Any]:
    """The profile of the training data (statistics, sketches, histograms): a JSON artifact.

    Profiles are mergeable; monitoring compares later batches with this one.
    """
    from noria.data.profile import profile_data

    return profile_data(validated_data).to_dict()


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
    date_formats: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The column plan: which column is numeric, one-hot, high-cardinality, datetime, dropped."""
    from noria.features.preprocess import plan_columns

    plan = plan_columns(
        splits["train"],
        target=problem["target"],
        drop=drop,
        max_onehot_cardinality=max_onehot_cardinality,
        date_formats=date_formats,
    )
    return plan.to_dict()


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
    search_settings: dict[str, Any],
    split_method: str,
    time_column: str | None,
    high_cardinality: str,
    scale: bool,
    model_name: str,
    seed: int,
    refit: str,
) -> dict[str, Any]:
    """The search over families and hyperparameters, by cross-validation on the training part.

    Every trial becomes a child run of this run (params, CV score per fold, status, duration);
    with ``warm_start``, the champion's params and the best earlier trials of this model go first.
    """
    from noria.features.preprocess import ColumnPlan
    from noria.pipeline.runner import current_context
    from noria.train.search import search
    from noria.train.spaces import parse_space

    ctx = current_context()
    settings = dict(search_settings)
    validation = settings["validation"]
    if validation == "auto":
        validation = "time" if split_method == "time" else "kfold"
    metric = problem["metric"]
    warm = _warm_start(ctx.metadata, model_name, metric, problem) if settings["warm_start"] else []
    train = splits["train"]
    started = time.time()
    result = search(
        train.drop(columns=[problem["target"]]),
        train[problem["target"]],
        task=problem["task"],
        metric=metric,
        time_budget=settings["time_budget"],
        n_trials=settings["n_trials"],
        families=candidate_families,
        spaces={f: parse_space(f, raw) for f, raw in settings["spaces"].items()},
        sampler=settings["sampler"],
        seed=seed,
        n_jobs=settings["n_jobs"],
        folds=settings["folds"],
        validation=validation,
        time_column=time_column,
        warm_start=warm,
        plan=ColumnPlan.from_dict(features),
        high_cardinality=high_cardinality,
        scale=scale,
        refit=False,
        refit_reserve=_refits_after_search(train, problem, settings["folds"], refit),
    )
    _record_trials(ctx, result, started, model_name)
    if result.best_score is not None:  # the fallback baseline has no CV score
        log_metric(f"cv_{metric}", result.best_score)
    set_tag("best_family", result.best_family)
    trials = [
        {
            "number": t.number,
            "family": t.family,
            "status": t.status,
            "score": t.score,
            "seconds": t.duration,
            "params": t.params,
            "error": t.error,
        }
        for t in result.trials
    ]
    ranked = sorted(
        (t for t in trials if t["score"] is not None),
        key=lambda t: t["score"],
        reverse=problem["greater_is_better"],
    )
    return {
        "best": result.best_family,
        "best_params": result.best_params,
        "best_score": result.best_score,
        "metric": metric,
        "elapsed": result.elapsed,
        "leaderboard": ranked + [t for t in trials if t["score"] is None],
        "warnings": result.warnings,
        "best_number": result.best_number,
        "refit_jobs": result.refit_jobs,
    }


def _refits_after_search(
    train: pd.DataFrame, problem: dict[str, Any], folds: int, refit: str
) -> float:
    """How many refits of the winner on the training part the search's budget keeps time for:
    the model step's, the final model's on train + holdout (about 1.25 of it) with ``refit:
    all``, and the calibration's fits on the folds (about ``folds - 1`` of it) when the winner
    may reweight classes."""
    from noria.train.search import weights_searched

    reserve = 1.0 + (1.25 if refit == "all" else 0.0)
    if weights_searched(problem["task"], problem["metric"], train[problem["target"]]):
        reserve += max(folds - 1, 1)
    return reserve


def _warm_start(
    metadata: Any, model_name: str, metric: str, problem: dict[str, Any]
) -> list[dict[str, Any]]:
    """The champion's family and params (with its own trial's score when its run has it: a
    retrain stops only once it matches that), then the best earlier trials of this model."""
    from noria.errors import NotFoundError
    from noria.registry import resolve

    records: list[dict[str, Any]] = []
    try:
        champion = resolve(metadata, f"{model_name}@champion")
    except NotFoundError:
        champion = None
    if champion is not None and champion.params.get("task") == problem["task"]:
        family, params = champion.params["family"], champion.params.get("params", {})
        record = {"family": family, "params": params}
        trials = champion.run_id and metadata.list_runs(
            parent_id=champion.run_id, kind="trial", limit=100_000
        )
        for run in trials or []:
            if {"family": family, **params} == metadata.params(run.id):
                record = _trial_record(metadata, run.id, metric) or record
                break
        records.append(record)
    for run_id, _ in metadata.best_runs(
        kind="trial",
        name_prefix=f"{model_name}/",
        metric=f"cv_{metric}",
        maximize=problem["greater_is_better"],
    ):
        record = _trial_record(metadata, run_id, metric)
        if record:
            records.append(record)
    return records


def _trial_record(metadata: Any, run_id: str, metric: str) -> dict[str, Any] | None:
    """A trial run as a warm-start record: family, params, and the score, fold scores and fit
    times that let a retrain stop once it matches, and run a quick one in-process while the
    workers start."""
    params = metadata.params(run_id)
    family = params.pop("family", None)
    folds: dict[str, dict[int, float]] = {f"fold_{metric}": {}, "fold_fit_seconds": {}}
    score = None
    for key, value, step, _ in metadata.metrics(run_id):
        if key in folds:
            folds[key][step] = value
        elif key == f"cv_{metric}":
            score = value
    if not family or score is None:
        return None
    return {
        "family": family,
        "params": params,
        "score": score,
        "fold_scores": [v for _, v in sorted(folds[f"fold_{metric}"].items())],
        "fit_seconds": [v for _, v in sorted(folds["fold_fit_seconds"].items())],
    }


def _record_trials(ctx: Any, result: Any, started: float, model_name: str) -> None:
    """Write every trial as a child run of the current run, in one transaction."""
    from noria.tracking import LogBuffer, new_run_id

    status = {"complete": "completed", "pruned": "pruned", "failed": "failed"}
    runs, logs = [], []
    for t in result.trials:
        run_id = new_run_id()
        runs.append(
            {
                "id": run_id,
                "name": f"{model_name}/trial-{t.number}",
                "kind": "trial",
                "parent_id": ctx.run_id,
                "status": status[t.status],
                "started_at": started + t.started,
                "ended_at": started + t.started + t.duration,
                "error": t.error,
            }
        )
        buf = LogBuffer(run_id)
        buf.param("family", t.family)
        for k, v in t.params.items():
            buf.param(k, v)
        for fold, score in enumerate(t.fold_scores):
            buf.metric(f"fold_{result.metric}", score, fold)
        for fold, seconds in enumerate(t.fit_seconds):
            buf.metric("fold_fit_seconds", seconds, fold)
        if t.score is not None:
            buf.metric(f"cv_{result.metric}", t.score, 0)
        logs.append(buf)
    with ctx.metadata.write() as tx:
        ctx.metadata.insert_runs(tx, runs)
        for buf in logs:
            buf.write(ctx.metadata, tx)


def model(
    candidates: dict[str, Any],
    splits: dict[str, pd.DataFrame],
    problem: dict[str, Any],
    features: dict[str, Any],
    high_cardinality: str,
    scale: bool,
    seed: int,
    search_settings: dict[str, Any],
    split_method: str,
    time_column: str | None,
    threshold: float | None,
) -> Any:
    """The search's winner refitted on the whole training part (a scikit-learn pipeline).

    A classifier whose params reweight the classes gets calibrated probabilities, and a binary
    classifier its decision threshold (``models.threshold``, else chosen for the run's metric
    on out-of-fold predictions of the training part): it is then wrapped in a
    :class:`~noria.train.calibration.CalibratedClassifier` (see that module for why and how).
    """
    import os

    from noria.features.preprocess import ColumnPlan
    from noria.train.budget import fit_on_threads
    from noria.train.search import build_model

    jobs = candidates.get("refit_jobs") or os.cpu_count() or 1  # threads the search advises
    if threshold is not None and (
        problem["task"] != "classification" or len(problem["classes"]) != 2
    ):
        raise ConfigError(
            f"`models.threshold: {threshold}` applies to binary classification only; this is "
            f"{problem['task']}"
            + (f" with {len(problem['classes'])} classes" if problem["classes"] else "")
            + ": remove it from noria.yaml"
        )
    est = build_model(
        candidates["best"],
        candidates["best_params"],
        task=problem["task"],
        plan=ColumnPlan.from_dict(features),
        seed=seed,
        high_cardinality=high_cardinality,
        scale=scale,
        n_jobs=jobs,
    )
    train = splits["train"]
    x, y = train.drop(columns=[problem["target"]]), train[problem["target"]]
    fit_on_threads(est, x, y, jobs)
    log_params({"family": candidates["best"], **candidates["best_params"]})
    if problem["task"] != "classification" or not hasattr(est, "predict_proba"):
        return est
    from noria.train.calibration import calibrate

    started = time.perf_counter()
    calibrated, facts = calibrate(
        est,
        x,
        y,
        metric=problem["metric"],
        params=candidates["best_params"],
        threshold=threshold,
        folds=lambda: _cv_folds(
            x, y, "classification", search_settings, split_method, time_column, seed
        ),
    )
    log_params(facts)
    if calibrated is not est:
        log_metric("calibration_seconds", time.perf_counter() - started)
    return calibrated


def _cv_folds(
    frame: pd.DataFrame,
    y: pd.Series,
    task: str,
    search_settings: dict[str, Any],
    split_method: str,
    time_column: str | None,
    seed: int,
) -> list[Any]:
    """The search's cross-validation folds of the training part (``frame``, targets ``y``)."""
    from noria.train.calibration import cv_folds

    validation = search_settings["validation"]
    if validation == "auto":
        validation = "time" if split_method == "time" else "kfold"
    order = frame[time_column].to_numpy() if time_column and time_column in frame else None
    return cv_folds(
        y,
        task=task,
        validation=validation,
        n_folds=search_settings["folds"],
        seed=seed,
        order=order,
    )


def evaluation(
    model: Any, splits: dict[str, pd.DataFrame], problem: dict[str, Any]
) -> dict[str, float]:
    """The model's metrics on the holdout (test) part, logged as ``test_<metric>``."""
    scores = _score(model, splits["test"], problem)
    log_metrics({f"test_{k}": v for k, v in scores.items()})
    return scores


def baseline(
    splits: dict[str, pd.DataFrame],
    problem: dict[str, Any],
    search_settings: dict[str, Any],
    split_method: str,
    time_column: str | None,
    seed: int,
) -> dict[str, Any]:
    """The trivial baseline (:mod:`noria.evaluate.baseline`), learned on the training part.

    Scored on the holdout with the model's metrics (logged as ``baseline_<metric>``) and on the
    search's cross-validation folds (``cv``: its row on the leaderboard).
    """
    from noria.evaluate.baseline import baseline_cv_score, baseline_scores, fit_baseline

    target, task, metric = problem["target"], problem["task"], problem["metric"]
    train, test = splits["train"], splits["test"]
    rule = fit_baseline(task, train[target], problem["classes"] or None)
    holdout = baseline_scores(rule, test[target])
    folds = _cv_folds(train, train[target], task, search_settings, split_method, time_column, seed)
    cv = baseline_cv_score(task, metric, train[target], folds, problem["classes"] or None)
    log_metrics({f"baseline_{k}": v for k, v in holdout.items()})
    return {"rule": rule.describe(), "metric": metric, "holdout": holdout, "cv": cv}


def final_model(
    model: Any, splits: dict[str, pd.DataFrame], problem: dict[str, Any], refit: str
) -> Any:
    """The model users get (``models.refit``).

    ``all``: the evaluated model's configuration (and its calibration and threshold, learned on
    the training part) fitted again on every labelled row, the holdout included, as FLAML and
    AutoGluon do: more data for the model that serves, while the holdout metrics stay those of
    the evaluated model, which never saw the holdout. ``train``: the evaluated model itself.

    Raises:
        ConfigError: ``refit: all`` with a model (from a user's own ``model`` step) that
            scikit-learn cannot clone.
    """
    import pandas as pd
    from sklearn.base import clone

    from noria.train.calibration import CalibratedClassifier

    if refit == "train":
        return model
    inner = model.model if isinstance(model, CalibratedClassifier) else model
    try:
        fresh = clone(inner)
    except Exception as exc:  # a model noria did not build
        raise ConfigError(
            f"`models.refit: all` cannot refit the model of step 'model' on all rows "
            f"({type(inner).__name__} cannot be cloned: {exc}); set `models.refit: train`"
        ) from exc
    started = time.perf_counter()
    data = pd.concat([splits["train"], splits["test"]], ignore_index=True)
    fresh.fit(data.drop(columns=[problem["target"]]), data[problem["target"]])
    log_metrics({"rows_fitted": len(data), "refit_all_seconds": time.perf_counter() - started})
    return model.with_model(fresh) if isinstance(model, CalibratedClassifier) else fresh


def registered_model(
    final_model: Any,
    model: Any,
    evaluation: dict[str, float],
    baseline: dict[str, Any],
    problem: dict[str, Any],
    splits: dict[str, pd.DataFrame],
    candidates: dict[str, Any],
    model_name: str,
    features: dict[str, Any],
    refit: str,
) -> dict[str, Any]:
    """Register ``final_model`` as the next version of ``model_name``.

    The version carries its input signature (types, unused columns, training ranges); as metrics
    the holdout metrics and the baseline's (``baseline_<metric>``); as params the family and
    hyperparameters, the task, classes and target, the decision threshold and calibration,
    which rows it was fitted on (``refit``, ``rows_fitted``; ``holdout_model``: the artifact of
    the model the holdout metrics are of, when that is another one) and ``beats_baseline``.
    """
    from noria.data.schema import signature_of
    from noria.evaluate.baseline import beats
    from noria.pipeline.runner import current_context
    from noria.registry import register_model

    ctx = current_context()
    train = splits["train"].drop(columns=[problem["target"]])
    signature = signature_of(train, features)  # types, unused columns, training ranges
    metric = problem["metric"]
    verdict = beats(metric, evaluation.get(metric), baseline["holdout"].get(metric))
    evaluated_id = ctx.input_artifacts["model"]
    refitted = refit == "all"
    final_id = ctx.input_artifacts["final_model"] if refitted else evaluated_id
    n_train, n_test = len(splits["train"]), len(splits["test"])
    params: dict[str, Any] = {
        "family": candidates["best"],
        "params": candidates["best_params"],
        "task": problem["task"],
        "classes": problem["classes"],
        "target": problem["target"],
        "refit": "all" if refitted else "train",
        "rows_fitted": n_train + n_test if refitted else n_train,
        "rows_holdout": n_test,
        "baseline": baseline["rule"],
        "beats_baseline": verdict,
    }
    if refitted:
        params["holdout_model"] = evaluated_id
    if len(problem["classes"]) == 2:
        params["threshold"] = _threshold(final_model)
    how = getattr(final_model, "how", "")
    if how:
        params["calibration"] = how
    warning = None
    if verdict is False:
        model_value, base_value = evaluation[metric], baseline["holdout"][metric]
        warning = (
            f"warning: this model does not beat the trivial baseline ({baseline['rule']}) on the "
            f"holdout: {metric} {model_value:.4f} vs {base_value:.4f}; the loop will not "
            "promote it"
        )
    set_tag("beats_baseline", "unknown" if verdict is None else str(verdict).lower())
    version = register_model(
        ctx.metadata,
        name=model_name,
        artifact_id=final_id,
        run_id=ctx.run_id,
        signature=signature,
        metrics={**evaluation, **{f"baseline_{k}": v for k, v in baseline["holdout"].items()}},
        params=params,
        description=warning,
    )
    set_tag("model_version", f"{model_name}/{version.version}")
    return {
        "name": version.name,
        "version": version.version,
        "beats_baseline": verdict,
        "warning": warning,
        "refit": params["refit"],
        "rows_fitted": params["rows_fitted"],
    }


def _threshold(model: Any) -> float:
    """The decision threshold a binary model labels with (0.5: the most probable class)."""
    value = getattr(model, "threshold", None)
    return 0.5 if value is None else float(value)


STEPS = (
    raw_data,
    validated_data,
    data_profile,
    problem,
    splits,
    features,
    candidates,
    model,
    evaluation,
    baseline,
    final_model,
    registered_model,
)


def supervised_pipeline(*, name: str = "supervised") -> Pipeline:
    """The built-in pipeline (see the module docstring)."""
    return Pipeline(STEPS, name=name)


def params_from_spec(spec: Spec, root: Path) -> dict[str, Any]:
    """The pipeline's params from ``noria.yaml`` (data files resolved under ``root``)."""
    from noria.data.sources import resolve_files

    schema_file = root / spec.validation.schema_file
    return {
        "data_files": resolve_files(spec.data.source, base=root),
        "schema_file": schema_file if schema_file.is_file() else None,
        "checks": spec.validation.check_dicts(),
        "validation_policy": spec.validation.policy,
        "data_format": spec.data.format,
        "target": spec.target,
        "task": spec.task,
        "metric": spec.models.metric,
        "threshold": spec.models.threshold,
        "refit": spec.models.refit,
        "split_method": spec.split.method,
        "test_size": spec.split.test_size,
        "time_column": spec.split.time_column,
        "seed": spec.seed,
        "drop": list(spec.features.drop),
        "max_onehot_cardinality": spec.features.max_onehot_cardinality,
        "date_formats": dict(spec.data.date_formats),
        "high_cardinality": spec.features.high_cardinality,
        "scale": spec.features.scale,
        "candidate_families": list(spec.models.candidates),
        "search_settings": {
            "time_budget": spec.models.time_budget,
            "n_trials": spec.models.n_trials,
            "sampler": spec.models.sampler,
            "validation": spec.models.validation,
            "folds": spec.models.folds,
            "n_jobs": spec.models.n_jobs,
            "warm_start": spec.models.warm_start,
            "spaces": spec.models.spaces,
        },
        "model_name": spec.name,
    }
