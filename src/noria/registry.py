"""The model registry: versions, aliases, promotion gates, rollback, the audit log, model cards.

A model version is an artifact already in the store (the fitted model a run produced) with its
input signature, metrics, params and the run that made it. Aliases (``champion``,
``challenger``, any name) point at versions; every registration and alias move is an audit event
with who, when and why, in the same transaction as the change itself. The first version of a
model becomes its ``champion``, so that there is always something to serve.

Promotion (:func:`promote`) moves an alias only when the gates of ``noria.yaml``'s
``promotion:`` section pass, and otherwise refuses with every reason (the refusal is audited
too):

* absolute thresholds: ``min_metrics`` (at least) and ``max_metrics`` (at most) on the
  version's holdout metrics;
* the candidate must beat the alias's current holder by ``min_improvement`` on ``metric``, on
  the same holdout: when both versions were evaluated on the same ``splits`` artifact their
  stored metrics are compared; otherwise both models are scored again on the candidate's holdout;
* ``require_validation``: the run that made the version completed its data validation step
  (``validated_data``, or any step whose name starts with ``validat``), and no run tag
  ``validation_passed`` says ``false``.

Rollback (:func:`rollback`) moves an alias back to its previous holder. The history of holders is
replayed from the audit log (promotions and alias moves push, rollbacks pop), so rolling back
twice walks two steps back instead of flipping between two versions.

Concurrency: a promotion or a rollback moves the alias by compare-and-set against the holder its
gates compared with (one conditional ``UPDATE``, atomic on SQLite and PostgreSQL). When another
promotion moved the alias in between, the gates run again against the new holder, so a version
never replaces one it was not compared with while the audit log says it beat another.

Model names are letters, digits, ``_``, ``-`` and ``.`` (not first): a name is a folder under
``.noria/`` (prediction log, labels, reports), checked at registration and at every lookup that
touches a file.

Not here: serving (:mod:`noria.serve`), the retraining loop that calls promote and rollback.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from noria.errors import NotFoundError, PromotionRefused, UserError, did_you_mean
from noria.store.metadata import MetadataStore, ModelVersion

if TYPE_CHECKING:
    from noria.spec import PromotionSpec
    from noria.store.artifacts import ArtifactStore

__all__ = [
    "CHAMPION",
    "AliasMoved",
    "GateResult",
    "PromotionGates",
    "PromotionRefused",
    "alias_history",
    "alias_since",
    "beats_baseline",
    "check_gates",
    "check_model_name",
    "get_version",
    "holdout_artifacts",
    "judged_metric",
    "known_model",
    "model_card",
    "promote",
    "register_model",
    "resolve",
    "rollback",
    "rollback_target",
    "set_alias",
    "step_artifacts",
]

CHAMPION = "champion"

#: Audit actions that move an alias (replayed by :func:`alias_history`).
_MOVES = ("set_alias", "promote", "rollback")

#: How many times a promotion re-runs its gates when the alias moved under it.
_CAS_ATTEMPTS = 5

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class AliasMoved(UserError):
    """The alias no longer points where the caller last saw it (another process moved it)."""

    def __init__(self, name: str, alias: str, expected: int | None, found: int | None) -> None:
        self.found = found
        super().__init__(
            f"'{name}@{alias}' moved from version {expected} to {found} while this change was "
            "being decided; run it again"
        )


def check_model_name(name: str) -> str:
    """``name`` if it is a valid model name (see the module docstring).

    Raises:
        UserError: the name could step outside ``.noria/`` (``../x``, ``a/b``) or is empty.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise UserError(
            f"model name '{name}' is not valid: use letters, digits, '_', '-' and '.', starting "
            "with a letter or digit (a model name is a folder under .noria/)"
        )
    return name


# --------------------------------------------------------------------------- register, aliases


def register_model(
    metadata: MetadataStore,
    *,
    name: str,
    artifact_id: str,
    run_id: str | None,
    signature: Sequence[Mapping[str, Any]],
    metrics: Mapping[str, float],
    params: Mapping[str, Any],
    description: str | None = None,
) -> ModelVersion:
    """Register a new version of model ``name``; the first version also becomes champion.

    An artifact already registered under ``name`` with the same holdout metrics (``noria run
    --fresh`` that fits the very same model again) is not a new version: that version is
    returned, and the audit log says it was reused.

    Raises:
        UserError: an invalid model name.
    """
    check_model_name(name)
    with metadata.write() as tx:
        same = tx.execute(
            "SELECT version, metrics FROM model_versions WHERE name = :n AND artifact_id = :a "
            "ORDER BY version DESC",
            {"n": name, "a": artifact_id},
        )
        for number, stored in same:
            existing = metadata.model_version(name, int(number))
            if existing is not None and orjson.loads(stored) == dict(metrics):
                metadata.audit(
                    tx,
                    action="register_reused",
                    object=f"{name}/{existing.version}",
                    detail={
                        "run_id": run_id,
                        "artifact_id": artifact_id,
                        "reason": "the run produced the very same model artifact",
                    },
                )
                return existing
        version = metadata.insert_model_version(
            tx,
            name=name,
            artifact_id=artifact_id,
            run_id=run_id,
            signature=[dict(s) for s in signature],
            metrics=metrics,
            params=params,
            description=description,
        )
        metadata.audit(
            tx,
            action="register",
            object=f"{name}/{version.version}",
            detail={"run_id": run_id, "artifact_id": artifact_id, "metrics": dict(metrics)},
        )
        current = tx.execute(
            "SELECT version FROM aliases WHERE name = :n AND alias = :a",
            {"n": name, "a": CHAMPION},
        )
        if not current:
            metadata.set_alias(tx, name, CHAMPION, version.version)
            metadata.audit(
                tx,
                action="set_alias",
                object=f"{name}/{version.version}",
                detail={
                    "alias": CHAMPION,
                    "previous": None,
                    "reason": "first version of the model",
                },
            )
    return version


_ANY: Any = object()  # "whoever holds it": an unconditional move


def _move(
    metadata: MetadataStore,
    name: str,
    alias: str,
    version: int,
    *,
    action: str,
    reason: str,
    actor: str | None,
    extra: Mapping[str, Any] | None = None,
    expected: int | None = _ANY,
) -> int | None:
    """Point ``alias`` at ``version`` and audit it in one transaction; the previous holder.

    With ``expected`` (a version, or ``None`` for "no holder yet") the move is a compare-and-set:
    one conditional statement that changes the alias only if it still points at ``expected``.

    Raises:
        AliasMoved: ``expected`` was given and the alias points elsewhere now.
    """
    now = time.time()
    with metadata.write() as tx:
        rows = tx.execute(
            "SELECT version FROM aliases WHERE name = :n AND alias = :a", {"n": name, "a": alias}
        )
        previous = rows[0][0] if rows else None
        if expected is _ANY:
            metadata.set_alias(tx, name, alias, version)
        else:
            params = {"n": name, "a": alias, "v": version, "t": now, "e": expected}
            if expected is None:
                changed = tx.execute(
                    "INSERT INTO aliases (name, alias, version, updated_at) VALUES (:n, :a, :v, "
                    ":t) ON CONFLICT (name, alias) DO NOTHING RETURNING version",
                    params,
                )
            else:
                changed = tx.execute(
                    "UPDATE aliases SET version = :v, updated_at = :t "
                    "WHERE name = :n AND alias = :a AND version = :e RETURNING version",
                    params,
                )
            if not changed:
                found = alias_holder(metadata, name, alias)
                raise AliasMoved(name, alias, expected, found)
            previous = expected
        metadata.audit(
            tx,
            action=action,
            object=f"{name}/{version}",
            detail={"alias": alias, "previous": previous, "reason": reason, **(extra or {})},
            actor=actor,
        )
    return previous


def set_alias(
    metadata: MetadataStore,
    name: str,
    alias: str,
    version: int,
    *,
    reason: str,
    actor: str | None = None,
) -> None:
    """Point ``alias`` at ``version`` of ``name`` without gates, recording why in the audit log.

    Raises:
        NotFoundError: no such model version.
    """
    get_version(metadata, name, version)
    _check_alias_name(alias)
    _move(metadata, name, alias, version, action="set_alias", reason=reason, actor=actor)


def _check_alias_name(alias: str) -> None:
    if not alias or alias.isdigit() or not all(c.isalnum() or c in "_-." for c in alias):
        raise UserError(
            f"alias '{alias}' is not valid: use letters, digits, '_', '-' or '.', not only digits"
        )


def get_version(metadata: MetadataStore, name: str, version: int) -> ModelVersion:
    """One version of a model.

    Raises:
        NotFoundError: the model or the version does not exist; the message lists what does.
    """
    found = metadata.model_version(name, version)
    if found is not None:
        return found
    versions = known_model(metadata, name)
    raise NotFoundError(
        f"model '{name}' has no version {version}; versions: "
        + ", ".join(str(v.version) for v in versions)
    )


def known_model(metadata: MetadataStore, name: str) -> list[ModelVersion]:
    """The versions of model ``name`` (oldest first).

    Raises:
        UserError: an invalid model name.
        NotFoundError: no such model; the message names the registered models.
    """
    check_model_name(name)
    versions = metadata.model_versions(name)
    if not versions:
        names = sorted({v.name for v in metadata.model_versions()})
        known = ", ".join(names) or "none"
        raise NotFoundError(f"no model '{name}'{did_you_mean(name, names)}; registered: {known}")
    return versions


def resolve(metadata: MetadataStore, reference: str) -> ModelVersion:
    """A version from ``NAME``, ``NAME@ALIAS`` or ``NAME@VERSION`` (``NAME`` means champion).

    Raises:
        NotFoundError: no such model, alias or version.
    """
    name, _, which = reference.partition("@")
    which = which or CHAMPION
    if which.isdigit():
        return get_version(metadata, name, int(which))
    for model, alias, version in metadata.aliases(name):
        if model == name and alias == which:
            return get_version(metadata, name, version)
    aliases = [a for _, a, _ in metadata.aliases(name)]
    if not aliases and not metadata.model_versions(name):
        get_version(metadata, name, 1)  # raises the "no model" error with suggestions
    raise NotFoundError(
        f"model '{name}' has no alias '{which}'{did_you_mean(which, aliases)}; "
        f"aliases: {', '.join(aliases) or 'none'}"
    )


def alias_holder(metadata: MetadataStore, name: str, alias: str) -> int | None:
    """The version ``alias`` of ``name`` points at, or ``None``."""
    rows = metadata.read(
        "SELECT version FROM aliases WHERE name = :n AND alias = :a", {"n": name, "a": alias}
    )
    return int(rows[0][0]) if rows else None


def alias_since(metadata: MetadataStore, name: str, alias: str) -> tuple[int, float] | None:
    """``(version, time it took the alias)`` of the holder of ``alias``, or ``None``."""
    rows = metadata.read(
        "SELECT version, updated_at FROM aliases WHERE name = :n AND alias = :a",
        {"n": name, "a": alias},
    )
    return (int(rows[0][0]), float(rows[0][1])) if rows else None


def beats_baseline(metadata: MetadataStore, version: ModelVersion) -> bool | None:
    """Whether the version beat the trivial baseline on its run's metric; ``None``: unknown.

    Read from the version's params (``beats_baseline``), else from its run's tags; anything
    absent or unreadable is unknown.
    """
    value: Any = version.params.get("beats_baseline")
    if value is None and version.run_id:
        value = metadata.tags(version.run_id).get("beats_baseline")
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no"):
        return False
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes"):
        return True
    return None


# --------------------------------------------------------------------------- gates


@dataclass(frozen=True)
class PromotionGates:
    """The gates a promotion must pass (built from ``noria.yaml``'s ``promotion:``).

    ``PromotionGates()`` has no gate at all; :meth:`from_spec` gives ``noria.yaml``'s.

    Attributes:
        min_metrics: holdout metrics that must be at least these values.
        max_metrics: holdout metrics that must be at most these values.
        metric: the metric compared with the current holder's (``None``: no comparison).
        greater_is_better: whether a higher ``metric`` is better.
        min_improvement: how much better than the current holder the candidate must be.
        require_validation: the version's data validation must have passed.
    """

    min_metrics: Mapping[str, float] = field(default_factory=dict)
    max_metrics: Mapping[str, float] = field(default_factory=dict)
    metric: str | None = None
    greater_is_better: bool = True
    min_improvement: float = 0.0
    require_validation: bool = False

    @classmethod
    def from_spec(cls, spec: PromotionSpec, *, default_metric: str | None) -> PromotionGates:
        """Gates from ``promotion:``; ``metric: auto`` becomes ``default_metric``."""
        from noria.evaluate.metrics import greater_is_better

        metric = default_metric if spec.metric == "auto" else spec.metric
        return cls(
            min_metrics=dict(spec.min_metrics),
            max_metrics=dict(spec.max_metrics),
            metric=metric,
            greater_is_better=greater_is_better(metric) if metric else True,
            min_improvement=spec.min_improvement,
            require_validation=spec.require_validation,
        )


@dataclass(frozen=True)
class GateResult:
    """One gate's verdict: its name, whether it passed, and why."""

    gate: str
    passed: bool
    detail: str


def check_gates(
    metadata: MetadataStore,
    candidate: ModelVersion,
    gates: PromotionGates,
    *,
    alias: str = CHAMPION,
    artifacts: ArtifactStore | None = None,
    holder: int | None = _ANY,
) -> list[GateResult]:
    """Every gate's verdict for promoting ``candidate`` to ``alias`` (nothing is changed).

    ``holder`` is the version the candidate is compared with (default: the alias's holder now).
    """
    results: list[GateResult] = []
    metrics = candidate.metrics
    for key, bound in sorted(gates.min_metrics.items()):
        value = metrics.get(key)
        if value is None or not math.isfinite(value):
            results.append(GateResult(f"min_metrics.{key}", False, _no_metric(key, metrics)))
        else:
            ok = value >= bound
            sign = ">=" if ok else "<"
            results.append(
                GateResult(f"min_metrics.{key}", ok, f"{key} {value:.4g} {sign} {bound:.4g}")
            )
    for key, bound in sorted(gates.max_metrics.items()):
        value = metrics.get(key)
        if value is None or not math.isfinite(value):
            results.append(GateResult(f"max_metrics.{key}", False, _no_metric(key, metrics)))
        else:
            ok = value <= bound
            sign = "<=" if ok else ">"
            results.append(
                GateResult(f"max_metrics.{key}", ok, f"{key} {value:.4g} {sign} {bound:.4g}")
            )
    if holder is _ANY:
        holder = alias_holder(metadata, candidate.name, alias)
    if gates.metric and holder is not None and holder != candidate.version:
        current = get_version(metadata, candidate.name, holder)
        results.append(_compare(metadata, artifacts, candidate, current, gates))
    if gates.require_validation:
        results.append(_validation(metadata, candidate))
    return results


def _no_metric(key: str, metrics: Mapping[str, float]) -> str:
    known = ", ".join(sorted(metrics)) or "none"
    return f"the version has no metric '{key}'{did_you_mean(key, metrics)} (metrics: {known})"


def judged_metric(metadata: MetadataStore, name: str, configured: str = "auto") -> str | None:
    """The metric versions of ``name`` are judged by: ``configured`` (``models.metric``) unless
    it is ``auto``, else the metric tag of the newest run that registered a version."""
    if configured != "auto":
        return configured
    for version in reversed(metadata.model_versions(name)):
        if version.run_id:
            metric = metadata.tags(version.run_id).get("metric")
            if metric:
                return metric
    return None


def step_artifacts(
    metadata: MetadataStore, version: ModelVersion, step: str, direction: str
) -> dict[str, str]:
    """``{name: artifact}`` a step of the run that made ``version`` consumed (``in``) or
    produced (``out``), from lineage; empty without a run."""
    if version.run_id is None:
        return {}
    return {
        name: artifact
        for s, d, name, artifact in metadata.lineage_of_run(version.run_id)
        if s == step and d == direction
    }


def holdout_artifacts(
    metadata: MetadataStore, version: ModelVersion
) -> tuple[str | None, str | None]:
    """``(splits artifact, problem artifact)`` the version was evaluated on, from lineage."""
    found = step_artifacts(metadata, version, "evaluation", "in")
    return found.get("splits"), found.get("problem")


def _compare(
    metadata: MetadataStore,
    artifacts: ArtifactStore | None,
    candidate: ModelVersion,
    current: ModelVersion,
    gates: PromotionGates,
) -> GateResult:
    metric = gates.metric or ""
    gate = f"beats {current.name}/{current.version}"
    splits, problem = holdout_artifacts(metadata, candidate)
    same = splits is not None and splits == holdout_artifacts(metadata, current)[0]
    how = "on the same holdout"
    if same or splits is None or artifacts is None:
        new, old = candidate.metrics.get(metric), current.metrics.get(metric)
        if not same:
            how = "from the stored holdout metrics (the holdouts could not be matched)"
    else:
        new, old = _rescore(metadata, artifacts, splits, problem, metric, candidate, current)
        how = "both scored on the candidate's holdout"
    if new is None or old is None:
        missing = candidate if new is None else current
        return GateResult(
            gate, False, f"version {missing.version} has no metric '{metric}' to compare"
        )
    gain = new - old if gates.greater_is_better else old - new
    ok = gain >= gates.min_improvement
    need = f"at least {gates.min_improvement:g} required"
    verdict = (
        f"better by {gain:.4g} ({need})"
        if gain > 0
        else ("no better" if gain == 0 else f"worse by {-gain:.4g}") + f" ({need})"
    )
    if not ok and gain > 0:
        verdict = f"better by only {gain:.4g} ({need})"
    return GateResult(
        gate,
        ok,
        f"{metric} {new:.4g} against {old:.4g} of version {current.version}, {how}: {verdict}",
    )


def _rescore(
    metadata: MetadataStore,
    artifacts: ArtifactStore,
    splits_id: str,
    problem_id: str | None,
    metric: str,
    candidate: ModelVersion,
    current: ModelVersion,
) -> tuple[float | None, float | None]:
    """Score both models on the candidate's holdout (test part of its ``splits``)."""
    from noria.evaluate.metrics import compute_metrics
    from noria.pipeline.runner import load_artifact

    splits = load_artifact(metadata, artifacts, splits_id)
    problem = load_artifact(metadata, artifacts, problem_id) if problem_id else {}
    target = problem.get("target")
    test = splits["test"]
    if target not in test.columns:
        return candidate.metrics.get(metric), current.metrics.get(metric)
    x, y = test.drop(columns=[target]), test[target]
    task = candidate.params.get("task", problem.get("task", "classification"))
    scores: list[float | None] = []
    for version in (candidate, current):
        # a model refitted on every row has seen the holdout: score the one that has not
        model_id = version.params.get("holdout_model") or version.artifact_id
        model = load_artifact(metadata, artifacts, model_id)
        proba = model.predict_proba(x) if task == "classification" else None
        values = compute_metrics(
            task,
            y,
            model.predict(x),
            y_proba=proba,
            classes=list(getattr(model, "classes_", [])) or None,
        )
        scores.append(values.get(metric))
    return scores[0], scores[1]


def _validation(metadata: MetadataStore, version: ModelVersion) -> GateResult:
    gate = "validation"
    if version.run_id is None:
        return GateResult(gate, False, "the version has no run, so no data validation to check")
    try:
        run = metadata.get_run(version.run_id)
    except NotFoundError:
        return GateResult(gate, False, f"run {version.run_id} of the version is gone")
    if metadata.tags(run.id).get("validation_passed", "").lower() in ("false", "0", "no"):
        return GateResult(gate, False, f"run {run.id[:8]} has tag validation_passed=false")
    steps = [s for s in metadata.step_runs(run.id) if s.step.startswith("validat")]
    if not steps:
        return GateResult(gate, False, f"run {run.id[:8]} has no data validation step")
    failed = [s.step for s in steps if s.status not in ("completed", "cached")]
    if failed:
        return GateResult(gate, False, f"data validation did not pass: {', '.join(failed)}")
    return GateResult(gate, True, f"data validation passed ({', '.join(s.step for s in steps)})")


# --------------------------------------------------------------------------- promote, rollback


def promote(
    metadata: MetadataStore,
    name: str,
    version: int,
    *,
    to: str = CHAMPION,
    gates: PromotionGates | None = None,
    reason: str | None = None,
    actor: str | None = None,
    artifacts: ArtifactStore | None = None,
    force: bool = False,
) -> list[GateResult]:
    """Move alias ``to`` to ``version`` when every gate passes; the gates' verdicts.

    Args:
        metadata: the metadata store.
        name: the model.
        version: the version to promote.
        to: the alias (``champion`` by default).
        gates: the gates; none when ``None``.
        reason: why, for the audit log.
        actor: who (the current user by default).
        artifacts: the artifact store, to score both models when their holdouts differ.
        force: move the alias even when a gate fails (recorded as forced).

    Raises:
        NotFoundError: no such model version.
        PromotionRefused: a gate failed (and not ``force``); the refusal is audited.
        UserError: the alias kept moving under the gates (other promotions at the same time).
    """
    candidate = get_version(metadata, name, version)
    _check_alias_name(to)
    for _ in range(_CAS_ATTEMPTS):
        holder = alias_holder(metadata, name, to)
        results = check_gates(
            metadata,
            candidate,
            gates or PromotionGates(),
            alias=to,
            artifacts=artifacts,
            holder=holder,
        )
        failed = [r for r in results if not r.passed]
        verdicts = {r.gate: {"passed": r.passed, "detail": r.detail} for r in results}
        if failed and not force:
            with metadata.write() as tx:
                metadata.audit(
                    tx,
                    action="promote_refused",
                    object=f"{name}/{version}",
                    detail={"alias": to, "reason": reason, "gates": verdicts, "holder": holder},
                    actor=actor,
                )
            raise PromotionRefused(name, version, to, [f"{r.gate}: {r.detail}" for r in failed])
        try:
            _move(
                metadata,
                name,
                to,
                version,
                action="promote",
                reason=reason or f"promoted to {to}",
                actor=actor,
                extra={"gates": verdicts, "forced": bool(failed)},
                expected=holder,
            )
        except AliasMoved:
            continue  # another promotion won the race: judge the candidate against the new holder
        return results
    raise UserError(
        f"'{name}@{to}' kept moving while version {version}'s gates ran "
        f"({_CAS_ATTEMPTS} tries); run the promotion again"
    )


def alias_history(metadata: MetadataStore, name: str, alias: str = CHAMPION) -> list[int]:
    """The stack of holders of ``alias``, oldest first, replayed from the audit log.

    A promotion or alias move pushes its version; a rollback pops the current holder.
    """
    stack: list[int] = []
    for event in metadata.audit_events():
        model, _, number = event["object"].rpartition("/")
        detail = event["detail"]
        if model != name or event["action"] not in _MOVES or detail.get("alias") != alias:
            continue
        version = int(number)
        if event["action"] == "rollback":
            while stack and stack[-1] != version:
                stack.pop()
            if not stack:
                stack.append(version)
        elif not stack or stack[-1] != version:
            stack.append(version)
    return stack


def rollback(
    metadata: MetadataStore,
    name: str,
    *,
    alias: str = CHAMPION,
    reason: str | None = None,
    actor: str | None = None,
) -> tuple[int, int]:
    """Move ``alias`` back to its previous holder; ``(from version, to version)``.

    Raises:
        NotFoundError: no such model or alias.
        UserError: the alias has had no other holder.
        AliasMoved: the alias moved while the rollback was being decided.
    """
    current, target = rollback_target(metadata, name, alias=alias)
    _move(
        metadata,
        name,
        alias,
        target,
        action="rollback",
        reason=reason or f"rolled back from version {current}",
        actor=actor,
        extra={"from": current},
        expected=current,
    )
    return current, target


def rollback_target(
    metadata: MetadataStore, name: str, *, alias: str = CHAMPION
) -> tuple[int, int]:
    """``(current holder, the version a rollback would move it to)``; nothing is changed.

    Raises:
        NotFoundError: no such model or alias.
        UserError: the alias has had no other holder.
    """
    current = resolve(metadata, f"{name}@{alias}").version
    history = alias_history(metadata, name, alias)
    while history and history[-1] == current:
        history.pop()
    # a version that was deleted from the registry cannot be served again: skip it
    while history and metadata.model_version(name, history[-1]) is None:
        history.pop()
    if not history:
        raise UserError(
            f"'{name}@{alias}' (version {current}) has no previous holder to roll back to; "
            f"point it elsewhere with `noria promote {name} VERSION --to {alias}`"
        )
    return current, history[-1]


# --------------------------------------------------------------------------- model cards


def card_data(metadata: MetadataStore, version: ModelVersion) -> dict[str, Any]:
    """What a model card shows: data, metrics, params, lineage, aliases, history."""
    run = None
    run_metrics: dict[str, float] = {}
    tags: dict[str, str] = {}
    lineage: list[tuple[str, str, str, str]] = []
    if version.run_id:
        try:
            run = metadata.get_run(version.run_id)
        except NotFoundError:
            run = None
        if run is not None:
            for key, value, _, _ in metadata.metrics(run.id):
                run_metrics[key] = value
            tags = metadata.tags(run.id)
            lineage = metadata.lineage_of_run(run.id)
    produced = {step: artifact for step, d, _, artifact in lineage if d == "out"}
    aliases = [a for _, a, v in metadata.aliases(version.name) if v == version.version]
    history = [
        e
        for e in metadata.audit_events(f"{version.name}/{version.version}")
        if e["action"] in (*_MOVES, "register", "promote_refused")
    ]
    data = {k: v for k, v in run_metrics.items() if k.startswith("rows_")}
    return {
        "name": version.name,
        "version": version.version,
        "created": _when(version.created_at),
        "description": version.description or "",
        "aliases": aliases,
        "artifact_id": version.artifact_id,
        "run_id": version.run_id,
        "run_status": run.status if run else None,
        "pipeline": run.pipeline if run else None,
        "owner": run.owner if run else None,
        "params": dict(version.params),
        "metrics": dict(version.metrics),
        "tags": tags,
        "data": data,
        "signature": list(version.signature),
        "artifacts": produced,
        "history": [
            {
                "time": _when(e["time"]),
                "actor": e["actor"],
                "action": e["action"],
                "alias": e["detail"].get("alias", ""),
                "reason": e["detail"].get("reason") or "",
            }
            for e in history
        ],
    }


def _when(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")


def model_card(metadata: MetadataStore, version: ModelVersion, *, fmt: str = "markdown") -> str:
    """The model card of a version in Markdown (``fmt="markdown"``) or HTML (``"html"``).

    Raises:
        UserError: an unknown format.
    """
    if fmt not in ("markdown", "html"):
        raise UserError(f"card format '{fmt}' is unknown; use markdown or html")
    card = card_data(metadata, version)
    from jinja2 import Environment

    env = Environment(autoescape=fmt == "html", trim_blocks=True, lstrip_blocks=True)
    template = env.from_string(_MARKDOWN if fmt == "markdown" else _HTML)
    return template.render(card=card, fmt=_fmt)


def _fmt(value: Any) -> str:
    if isinstance(value, float):  # whole numbers as 10,000 (not 1e+04)
        return f"{int(value):,}" if value.is_integer() and abs(value) < 1e15 else f"{value:.4g}"
    if isinstance(value, dict):  # hyperparameters: C=0.5236, class_weight=balanced
        return ", ".join(f"{k}={_fmt(v)}" for k, v in value.items()) or "defaults"
    if isinstance(value, list):
        return ", ".join(_fmt(v) for v in value)
    return str(value)


_MARKDOWN = """\
# Model card: {{ card.name }} version {{ card.version }}

{% if card.description %}{{ card.description }}

{% endif %}
| | |
| --- | --- |
| registered | {{ card.created }} |
| aliases | {{ card.aliases | join(", ") or "none" }} |
| family | {{ card.params.get("family", "-") }} |
| task | {{ card.params.get("task", "-") }} |
| artifact | `{{ card.artifact_id }}` |
| run | `{{ card.run_id or "-" }}` ({{ card.run_status or "-" }}, by {{ card.owner or "-" }}) |

## Data

{% for k, v in card.data.items() %}
- {{ k }}: {{ fmt(v) }}
{% else %}
- no data figures recorded
{% endfor %}

## Metrics (holdout)

| metric | value |
| --- | --- |
{% for k, v in card.metrics.items() %}
| {{ k }} | {{ fmt(v) }} |
{% endfor %}

## Params

{% for k, v in card.params.items() %}
- {{ k }}: {{ fmt(v) }}
{% endfor %}

## Input signature

| column | dtype |
| --- | --- |
{% for c in card.signature %}
| {{ c.name }} | {{ c.dtype }} |
{% endfor %}

## Lineage

{% for step, artifact in card.artifacts.items() %}
- {{ step }} → `{{ artifact }}`
{% else %}
- no lineage recorded
{% endfor %}

## History

| time | who | what | alias | why |
| --- | --- | --- | --- | --- |
{% for e in card.history %}
| {{ e.time }} | {{ e.actor }} | {{ e.action }} | {{ e.alias }} | {{ e.reason }} |
{% endfor %}
"""

_HTML = """\
<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ card.name }} v{{ card.version }} — model card</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.2rem .6rem}
th{background:#f4f4f4;text-align:left}code{font-size:90%}
</style></head><body>
<h1>Model card: {{ card.name }} version {{ card.version }}</h1>
{% if card.description %}<p>{{ card.description }}</p>{% endif %}
<table>
<tr><th>registered</th><td>{{ card.created }}</td></tr>
<tr><th>aliases</th><td>{{ card.aliases | join(", ") or "none" }}</td></tr>
<tr><th>family</th><td>{{ card.params.get("family", "-") }}</td></tr>
<tr><th>task</th><td>{{ card.params.get("task", "-") }}</td></tr>
<tr><th>artifact</th><td><code>{{ card.artifact_id }}</code></td></tr>
<tr><th>run</th><td><code>{{ card.run_id or "-" }}</code> ({{ card.run_status or "-" }})</td></tr>
</table>
<h2>Data</h2><ul>
{% for k, v in card.data.items() %}<li>{{ k }}: {{ fmt(v) }}</li>
{% else %}<li>none recorded</li>{% endfor %}
</ul>
<h2>Metrics (holdout)</h2><table><tr><th>metric</th><th>value</th></tr>
{% for k, v in card.metrics.items() %}<tr><td>{{ k }}</td><td>{{ fmt(v) }}</td></tr>{% endfor %}
</table>
<h2>Params</h2><table>
{% for k, v in card.params.items() %}<tr><th>{{ k }}</th><td>{{ fmt(v) }}</td></tr>{% endfor %}
</table>
<h2>Input signature</h2><table><tr><th>column</th><th>dtype</th></tr>
{% for c in card.signature %}<tr><td>{{ c.name }}</td><td>{{ c.dtype }}</td></tr>{% endfor %}
</table>
<h2>Lineage</h2><ul>
{% for step, artifact in card.artifacts.items() %}<li>{{ step }} → <code>{{ artifact }}</code></li>
{% else %}<li>none recorded</li>{% endfor %}
</ul>
<h2>History</h2><table><tr><th>time</th><th>who</th><th>what</th><th>alias</th><th>why</th></tr>
{% for e in card.history %}<tr><td>{{ e.time }}</td><td>{{ e.actor }}</td><td>{{ e.action }}</td>
<td>{{ e.alias }}</td><td>{{ e.reason }}</td></tr>{% endfor %}
</table>
</body></html>
"""
