"""The evidence behind a version: comparisons on the same rows, evaluations, model tests.

* :func:`subject_of` finds what a reference names — a version (``NAME@VERSION``,
  ``NAME@ALIAS``) or a run (its id, or a prefix of it) — with its model, params, holdout and
  task;
* :func:`compare` scores two of them on the same rows (their shared holdout, the first one's
  holdout, or a labelled frame) with :func:`noria.evaluate.comparison.compare_predictions`:
  both metric tables, the paired 95 % interval of every difference, the params that differ;
* :func:`holdout_evaluation` is the version's evaluation on its holdout (the newest one
  ``noria evaluate`` stored, else computed without explanations);
* :func:`run_version_tests` runs ``noria.yaml``'s ``tests:`` on a version and
  :func:`record_tests` stores the results with it (a ``model_tests`` audit event);
  :func:`check_tests_against` refuses tests that cannot run on the project's data, naming
  ``noria.yaml``'s line and key;

Not here: the computations (:mod:`noria.evaluate`), the gates that judge this evidence
(:mod:`noria.registry.gates`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.errors import ConfigError, NotFoundError, UserError
from noria.registry.audit import latest_event, record
from noria.registry.versions import resolve
from noria.store.metadata import MetadataStore, ModelVersion

if TYPE_CHECKING:
    from noria.evaluate.modeltests import TestResult
    from noria.store.artifacts import ArtifactStore

__all__ = [
    "Subject",
    "check_tests_against",
    "compare",
    "holdout_evaluation",
    "project_tests",
    "record_tests",
    "run_version_tests",
    "stored_evaluation",
    "stored_tests",
    "subject_of",
]

#: The audit action that stores a version's model-test results.
TESTS_ACTION = "model_tests"


@dataclass
class Subject:
    """A model to compare or judge: a registered version or a run.

    Attributes:
        label: ``NAME@VERSION`` or ``run 1a2b3c4d``.
        model: the fitted model (on the holdout: the model evaluated there).
        params: flat params (``family``, hyperparameters, ...).
        metrics: the stored holdout metrics.
        task: ``classification`` or ``regression``.
        target: the target column.
        classes: the classes (classification).
        columns: the model's input columns.
        splits_id: the splits artifact whose ``test`` part is the holdout (``None``: none).
        threshold: a binary classifier's decision threshold.
        version: the version, when the subject is one.
    """

    label: str
    model: Any
    params: dict[str, Any]
    metrics: dict[str, float]
    task: str
    target: str | None
    classes: list[Any]
    columns: list[str]
    splits_id: str | None
    threshold: float | None = None
    version: ModelVersion | None = None
    _holdout: Any = field(default=None, repr=False)


def _flat(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, Mapping):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _lineage(metadata: MetadataStore, run_id: str) -> dict[tuple[str, str, str], str]:
    return {(s, d, n): a for s, d, n, a in metadata.lineage_of_run(run_id)}


def subject_of(metadata: MetadataStore, artifacts: ArtifactStore, reference: str) -> Subject:
    """The version or run ``reference`` names (``NAME@VERSION``, ``NAME@ALIAS``, a run id).

    Raises:
        NotFoundError: no such version, alias or run (a bare word is tried as a run id, then as
            a model's champion).
        UserError: a run that produced no model.
    """
    from noria.evaluate.evaluation import decision_threshold
    from noria.pipeline.runner import load_artifact

    version = None
    run = None
    if "@" in reference:
        version = resolve(metadata, reference)
    else:
        try:
            run = metadata.get_run(reference)
        except NotFoundError:
            try:
                version = resolve(metadata, reference)
            except NotFoundError:
                raise NotFoundError(
                    f"'{reference}' is neither a run id nor a model: give a run id "
                    "(`noria runs`) or NAME@VERSION (`noria models list`)"
                ) from None
    if version is not None:
        links = _lineage(metadata, version.run_id) if version.run_id else {}
        artifact = version.params.get("holdout_model") or version.artifact_id
        params = _flat(version.params)
        for noise in ("classes", "target", "task", "holdout_model"):
            params.pop(noise, None)
        label = f"{version.name}@{version.version}"
        metrics = dict(version.metrics)
        problem_id = links.get(("evaluation", "in", "problem"))
        splits_id = links.get(("evaluation", "in", "splits"))
    else:
        assert run is not None
        links = _lineage(metadata, run.id)
        artifact = links.get(("model", "out", "output")) or links.get(("evaluation", "in", "model"))
        if artifact is None:
            raise UserError(
                f"run {run.id[:8]} produced no model (no `model` step): compare runs of the "
                "project's pipeline, or versions NAME@VERSION"
            )
        params = _flat(metadata.params(run.id))
        label = f"run {run.id[:8]}"
        metrics = {
            k.removeprefix("test_"): v
            for k, v, _, _ in metadata.metrics(run.id)
            if k.startswith("test_")
        }
        problem_id = links.get(("evaluation", "in", "problem"))
        splits_id = links.get(("evaluation", "in", "splits"))
    model = load_artifact(metadata, artifacts, artifact)
    problem = load_artifact(metadata, artifacts, problem_id) if problem_id else {}
    params.update(_plan_params(metadata, artifacts, links))
    source = version.params if version is not None else {}
    task = source.get("task") or problem.get("task")
    if task is None:
        task = "classification" if hasattr(model, "predict_proba") else "regression"
    classes = list(source.get("classes") or problem.get("classes") or [])
    if task == "classification" and not classes and hasattr(model, "classes_"):
        classes = [c.item() if hasattr(c, "item") else c for c in model.classes_]
    target = source.get("target") or problem.get("target")
    if version is not None:
        columns = [s["name"] for s in version.signature if s["name"] != target]
    else:
        columns = [str(c) for c in getattr(model, "feature_names_in_", [])]
    binary = task == "classification" and len(classes) == 2
    threshold = decision_threshold(source, model) if binary else None
    return Subject(
        label,
        model,
        params,
        metrics,
        task,
        target,
        classes,
        columns,
        splits_id,
        threshold,
        version,
    )


def _plan_params(
    metadata: MetadataStore, artifacts: ArtifactStore, links: Mapping[tuple[str, str, str], str]
) -> dict[str, Any]:
    """What else set the model apart: its input columns, those dropped, the search's score."""
    from noria.pipeline.runner import load_artifact

    out: dict[str, Any] = {}
    features = links.get(("model", "in", "features"))
    if features:
        plan = load_artifact(metadata, artifacts, features)
        out["features.columns"] = ", ".join(plan.get("columns", []))
        out["features.dropped"] = ", ".join(plan.get("dropped", {})) or "-"
    candidates = links.get(("model", "in", "candidates"))
    if candidates:
        search = load_artifact(metadata, artifacts, candidates)
        out["search.metric"] = search.get("metric")
        out["search.cv_score"] = search.get("best_score")
        out["search.trials"] = len(search.get("leaderboard", []))
    return out


def _holdout(metadata: MetadataStore, artifacts: ArtifactStore, subject: Subject) -> Any:
    from noria.pipeline.runner import load_artifact

    if subject._holdout is None and subject.splits_id:
        subject._holdout = load_artifact(metadata, artifacts, subject.splits_id)["test"]
    return subject._holdout


def _predict(subject: Subject, frame: Any) -> tuple[Any, Any]:
    """``(labels or values, probabilities or None)`` of ``frame``'s rows."""
    import numpy as np

    x = frame[subject.columns] if subject.columns else frame.drop(columns=[subject.target])
    if subject.task != "classification":
        return np.asarray(subject.model.predict(x), dtype=float), None
    proba = None
    if hasattr(subject.model, "predict_proba"):
        proba = np.asarray(subject.model.predict_proba(x), dtype=float)
    if proba is not None and subject.threshold is not None and proba.shape[1] == 2:
        labels = np.asarray(subject.classes, dtype=object)[(proba[:, 1] >= subject.threshold) * 1]
    else:
        labels = np.asarray(subject.model.predict(x))
    return labels, proba


def compare(
    metadata: MetadataStore,
    artifacts: ArtifactStore,
    a: Subject,
    b: Subject,
    *,
    frame: Any = None,
    data: str | None = None,
    replicates: int = 200,
    seed: int = 0,
) -> dict[str, Any]:
    """A compared with B on the same rows (see the module docstring); JSON values.

    The rows: ``frame`` (a labelled file, named ``data``) when given; else the holdout both
    share; else A's holdout (said in ``rows_note``).

    Raises:
        UserError: a classifier and a regressor (or classifiers of other classes, or other
            targets); no rows to compare on (neither ``frame`` nor a holdout).
        DataError: ``frame`` lacks a column a model needs, or the target.
    """
    import numpy as np

    from noria.errors import DataError
    from noria.evaluate.comparison import Predictions, compare_predictions
    from noria.evaluate.evaluation import target_codes

    if a.task != b.task:
        raise UserError(
            f"cannot compare {a.label} ({a.task}) with {b.label} ({b.task}): a classifier's "
            "metrics and a regressor's measure different things; compare models of one task"
        )
    if a.target and b.target and a.target != b.target:
        raise UserError(
            f"cannot compare {a.label} (predicts '{a.target}') with {b.label} (predicts "
            f"'{b.target}'): they answer different questions"
        )
    if a.task == "classification" and [str(c) for c in a.classes] != [str(c) for c in b.classes]:
        raise UserError(
            f"cannot compare {a.label} (classes {', '.join(map(str, a.classes))}) with "
            f"{b.label} (classes {', '.join(map(str, b.classes))}): compare models of the "
            "same classes"
        )
    target = a.target or b.target
    note = ""
    if frame is not None:
        source = data or "data"
    elif a.splits_id and a.splits_id == b.splits_id:
        frame, source = _holdout(metadata, artifacts, a), "the shared holdout"
    elif a.splits_id:
        frame, source = _holdout(metadata, artifacts, a), f"the holdout of {a.label}"
        note = (
            f"{a.label} and {b.label} were evaluated on different holdouts: both are scored on "
            f"{a.label}'s, which {b.label} may have been trained on; pass --data FILE to "
            "compare on rows neither has seen"
        )
    else:
        raise UserError(
            f"{a.label} has no recorded holdout to compare on: pass --data FILE (labelled rows)"
        )
    if not target or target not in frame.columns:
        raise DataError(
            f"{source}: target column '{target}' is not in the data; the comparison needs the "
            "true values"
        )
    for s in (a, b):
        missing = [c for c in s.columns if c not in frame.columns]
        if missing:
            raise DataError(
                f"{source}: column(s) {', '.join(missing)} that {s.label} needs are not in the data"
            )
    frame = frame[frame[target].notna()].reset_index(drop=True)
    truth = target_codes(
        frame[target].to_numpy(), target=target, task=a.task, classes=a.classes, source=source
    )
    predictions = []
    for s in (a, b):
        labels, proba = _predict(s, frame)
        if a.task == "classification":
            index = {str(c): i for i, c in enumerate(a.classes)}
            labels = np.array([index.get(str(v), -1) for v in labels.tolist()], dtype=np.int64)
        predictions.append(Predictions(s.label, labels, proba))
    result = compare_predictions(
        truth,
        predictions[0],
        predictions[1],
        task=a.task,
        labels=[str(c) for c in a.classes],
        replicates=replicates,
        seed=seed,
    )
    keys = sorted(set(a.params) | set(b.params))
    result["params"] = [
        {
            "param": k,
            "a": a.params.get(k),
            "b": b.params.get(k),
            "same": a.params.get(k) == b.params.get(k),
        }
        for k in keys
    ]
    result.update(target=target, data=source, rows_note=note)
    return result


# --------------------------------------------------------------------------- evaluation


def _evaluation_settings(settings: Mapping[str, Any]) -> Any:
    from noria.evaluate.evaluation import EvaluationSettings

    return EvaluationSettings(
        replicates=int(settings.get("bootstrap", 200)),
        seed=int(settings.get("seed", 0)),
        sensitive=tuple(settings.get("sensitive", ())),
        explain=False,
    )


def holdout_evaluation(
    metadata: MetadataStore,
    artifacts: ArtifactStore,
    version: ModelVersion,
    settings: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The version's evaluation on its holdout: the newest stored by ``noria evaluate`` (on
    the holdout), else computed now without explanations; ``None``: the version has no
    holdout."""
    import orjson

    from noria.evaluate.evaluation import evaluate_model, trivial_baseline
    from noria.pipeline.runner import load_artifact

    stored = stored_evaluation(metadata, artifacts, version)
    wanted = set((settings or {}).get("sensitive", ()))
    judged = {f["column"] for f in (stored or {}).get("fairness", [])}
    if stored is not None and stored.get("data") == "holdout" and wanted <= judged:
        return stored
    subject = subject_of(metadata, artifacts, f"{version.name}@{version.version}")
    frame = _holdout(metadata, artifacts, subject)
    if frame is None or not subject.target:
        return None
    splits = load_artifact(metadata, artifacts, subject.splits_id) if subject.splits_id else {}
    baseline = None
    if "train" in splits and subject.target in splits["train"].columns:
        baseline = trivial_baseline(subject.task, splits["train"][subject.target], subject.classes)
    keep = [c for c in subject.columns if c in frame.columns]
    extra = [c for c in wanted if c in frame.columns and c not in keep]
    frame = frame[[*keep, *extra, subject.target]]
    result = evaluate_model(
        _Inputs(subject.model, keep, subject.classes),
        frame,
        target=subject.target,
        task=subject.task,
        classes=subject.classes or None,
        threshold=subject.threshold,
        baseline=baseline,
        settings=_evaluation_settings(settings or {}),
        name=subject.label,
        data="holdout",
    )
    return orjson.loads(result.to_json())


class _Inputs:
    """A model seen through its own input columns (the frame may carry sensitive columns)."""

    def __init__(self, model: Any, columns: list[str], classes: list[Any]) -> None:
        self.model, self.columns, self.classes_ = model, columns, classes

    def predict(self, x: Any) -> Any:
        return self.model.predict(x[self.columns])

    def predict_proba(self, x: Any) -> Any:
        return self.model.predict_proba(x[self.columns])


def stored_evaluation(
    metadata: MetadataStore, artifacts: ArtifactStore, version: ModelVersion
) -> dict[str, Any] | None:
    """The newest evaluation ``noria evaluate`` stored for the version (``None``: none, or its
    artifact is gone)."""
    from noria.errors import StoreError
    from noria.pipeline.runner import load_artifact

    event = latest_event(metadata, version, "evaluate")
    if event is None:
        return None
    try:
        value = load_artifact(metadata, artifacts, event["detail"]["artifact_id"])
    except (NotFoundError, StoreError, KeyError, OSError):
        return None
    return value if isinstance(value, dict) else None


# --------------------------------------------------------------------------- model tests


def check_tests_against(
    tests: Sequence[Mapping[str, Any]],
    frame: Any,
    *,
    target: str,
    task: str,
    spec_path: str | Path = "noria.yaml",
) -> None:
    """Refuse tests that cannot run on data like ``frame`` (see
    :func:`noria.evaluate.modeltests.check_tests`).

    Raises:
        ConfigError: one line per problem, each with ``noria.yaml``'s line and key.
    """
    from noria.evaluate.modeltests import check_tests
    from noria.spec import key_lines

    problems = check_tests(tests, frame, target=target, task=task)
    if not problems:
        return
    lines = key_lines(spec_path)
    name = Path(spec_path).name
    messages = []
    for p in problems:
        key = p.key
        line = next((lines[key[:n]] for n in range(len(key), 0, -1) if key[:n] in lines), None)
        where = f"{name}:{line}" if line else name
        messages.append(f"{where}: {'.'.join(key)}: {p.message}")
    raise ConfigError("\n".join(messages))


def run_version_tests(
    metadata: MetadataStore,
    artifacts: ArtifactStore,
    version: ModelVersion,
    tests: Sequence[Mapping[str, Any]],
    *,
    seed: int = 0,
) -> list[TestResult]:
    """Run ``tests`` on ``version`` (the model evaluated on its holdout, on that holdout).

    Raises:
        UserError: the version has no holdout or no known target (tests need labelled rows).
    """
    from noria.evaluate.modeltests import run_tests

    subject = subject_of(metadata, artifacts, f"{version.name}@{version.version}")
    frame = _holdout(metadata, artifacts, subject)
    if frame is None or not subject.target:
        raise UserError(
            f"{subject.label} has no recorded holdout (it was not made by `noria run`): its "
            "model tests cannot run"
        )
    return run_tests(
        tests,
        subject.model,
        frame,
        target=subject.target,
        task=subject.task,
        columns=subject.columns,
        classes=subject.classes,
        threshold=subject.threshold,
        seed=seed,
    )


def record_tests(
    metadata: MetadataStore, version: ModelVersion, results: Sequence[TestResult], *, when: str
) -> None:
    """Store the results with the version (a ``model_tests`` audit event; ``when``: at
    ``registration``, ``promotion`` or ``ci``)."""
    record(
        metadata,
        version,
        TESTS_ACTION,
        {
            "when": when,
            "passed": sum(r.passed for r in results),
            "failed": sum(not r.passed for r in results),
            "results": [r.to_dict() for r in results],
        },
    )


def stored_tests(metadata: MetadataStore, version: ModelVersion) -> dict[str, Any] | None:
    """The newest model-test results stored with the version (``None``: none)."""
    event = latest_event(metadata, version, TESTS_ACTION)
    return None if event is None else dict(event["detail"])


def project_tests(spec: Any) -> list[dict[str, Any]]:
    """``noria.yaml``'s ``tests:`` as plain dicts (``name``, ``kind`` and the kind's keys)."""
    return list(spec.promotion.evidence_settings().get("tests", []))
