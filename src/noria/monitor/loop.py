"""The closed loop: monitor, then retrain, promote or roll back by the policies of noria.yaml.

One iteration (:func:`loop_once`; ``noria loop --once`` from cron or CI, ``noria loop`` every
``loop.interval`` seconds):

1. **Monitor** the new prediction-log windows (:func:`noria.monitor.monitor.monitor_and_report`):
   drift, data quality, live metrics, the HTML report, alerts.
2. **Roll back** when ``loop.rollback`` is set and the champion's live metric, over at least
   ``min_labels`` labelled predictions it served, is below the floor (above the ceiling for a
   loss or an error): the alias goes back to its previous holder.
3. **Retrain** when one of ``loop.retrain_on`` holds: a window of this pass drifted (more than
   ``drift_share`` of its columns), the champion's live metric fell below
   ``retrain_on.performance``, the data source changed since the last iteration (its files'
   names, sizes and modification times), the ``schedule`` is due, or no model is registered
   yet. The retrain is the project's pipeline on the current data, warm-started from the
   champion (``models.warm_start``); when nothing changed, every step comes from the cache and
   no new version is registered.
4. **Promote** the new version when ``loop.promote`` is on and it passes the promotion gates of
   ``promotion:`` against the champion (and, with ``loop.shadow``, scores at least as well as
   the champion on the labelled live traffic).

Every decision, with its evidence, is an audit event (action ``loop``) of the model, and the
data signature the iteration saw is stored with it. A retrain is recorded when it starts
(``retrain``) and when its run ends (``trained``): a loop killed in the middle of a retrain leaves
the registry as it was (a version is registered and an alias moved in one transaction each), and
the next iteration sees the unfinished ``retrain`` and runs it again, resuming from the
pipeline's cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from noria.errors import ConfigError, PromotionRefused, UserError

if TYPE_CHECKING:
    from noria.monitor.monitor import MonitorResult, WindowReport
    from noria.project import Project
    from noria.spec import MetricFloor

__all__ = ["Decision", "loop_once", "run_loop"]

ACTOR = "noria loop"


@dataclass(frozen=True)
class Decision:
    """One thing the loop did (or decided not to do), and why.

    Attributes:
        action: ``rollback``, ``retrain`` (started), ``trained`` (the run ended),
            ``promote``, ``refuse`` or ``none``.
        reason: One line for people.
        evidence: The figures behind it (JSON-able).
    """

    action: str
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)


def _model(project: Project) -> tuple[str, str]:
    spec = project.spec
    if spec is None:
        raise ConfigError("no noria.yaml here: `noria loop` runs in a project")
    name, _, alias = (spec.monitor.model or spec.name).partition("@")
    return name, alias or "champion"


def check_policies(project: Project) -> tuple[str, str]:
    """The model and alias the loop looks after; a clear error when the alias is unknown."""
    from noria.errors import did_you_mean

    name, alias = _model(project)
    aliases = [a for _, a, _ in project.metadata.aliases(name)]
    if aliases and alias not in aliases:
        raise ConfigError(
            f"{project.spec_path}: monitor.model names alias '{alias}' of model '{name}', "
            f"which does not exist{did_you_mean(alias, aliases)}; aliases: {', '.join(aliases)}"
        )
    return name, alias


def data_signature(project: Project) -> list[list[Any]]:
    """The data source's files with their sizes and modification times."""
    from noria.data.sources import resolve_files

    assert project.spec is not None
    signature = []
    for path in resolve_files(project.spec.data.source, base=project.root):
        stat = path.stat()
        signature.append([str(path), stat.st_size, stat.st_mtime_ns])
    return signature


def _last_state(project: Project, name: str) -> dict[str, Any]:
    for event in reversed(project.metadata.audit_events(name)):
        if event["action"] == "loop":
            return event["detail"]
    return {}


def _below(value: float, floor: MetricFloor) -> bool:
    from noria.evaluate.metrics import greater_is_better

    return value < floor.below if greater_is_better(floor.metric) else value > floor.below


def _served_metric(project: Project, name: str, version: int, metric: str) -> tuple[float, int]:
    """``(metric, labels)`` of the labelled predictions ``version`` served; ``(nan, 0)`` if none."""
    from noria.monitor.monitor import live_performance

    scored = [m for m in live_performance(project, name) if m.version == version]
    labels = sum(m.labels for m in scored)
    if not labels or not all(metric in m.metrics for m in scored):
        return float("nan"), labels
    value = sum(m.metrics[metric] * m.labels for m in scored) / labels
    return value, labels


def _floor_breached(
    project: Project, name: str, version: int, floor: MetricFloor
) -> dict[str, Any] | None:
    value, labels = _served_metric(project, name, version, floor.metric)
    if labels < floor.min_labels or value != value:  # too few labels to judge, or NaN
        return None
    if not _below(value, floor):
        return None
    return {"metric": floor.metric, "value": value, "floor": floor.below, "labels": labels}


def _drift_evidence(result: MonitorResult, share: float) -> dict[str, Any] | None:
    drifted: list[WindowReport] = [w for w in result.windows if w.drifted and w.drift.share > share]
    if not drifted:
        return None
    return {
        "windows": [w.id for w in drifted],
        "columns": sorted({c for w in drifted for c in w.drifted}),
    }


def _retrain_reasons(
    project: Project, name: str, champion: int | None, result: MonitorResult, state: dict
) -> tuple[list[str], dict[str, Any]]:
    assert project.spec is not None
    policy = project.spec.loop.retrain_on
    reasons: list[str] = []
    evidence: dict[str, Any] = {}
    if champion is None:
        reasons.append("no model registered yet")
    if policy.drift and (drift := _drift_evidence(result, policy.drift_share)):
        reasons.append(f"drift in {', '.join(drift['columns'])}")
        evidence["drift"] = drift
    if policy.performance is not None and champion is not None:
        breach = _floor_breached(project, name, champion, policy.performance)
        if breach:
            reasons.append(
                f"live {breach['metric']} {breach['value']:.4g} beyond {breach['floor']:.4g}"
            )
            evidence["performance"] = breach
    signature = data_signature(project)
    if policy.new_data and state.get("data") is not None and state["data"] != signature:
        reasons.append("new data in the source")
        evidence["new_data"] = True
    if policy.schedule is not None and champion is not None:
        last = (
            state.get("retrained_at") or project.metadata.model_version(name, champion).created_at
        )  # type: ignore[union-attr]
        if time.time() - last >= policy.schedule:
            reasons.append(f"scheduled every {policy.schedule:g} s")
            evidence["schedule"] = {"last": last}
    return reasons, evidence


def _shadow(project: Project, name: str, champion: int, challenger: int, metric: str) -> dict:
    """Both versions scored on the labelled live traffic the champion served."""
    from noria.monitor.live import score_labelled
    from noria.monitor.monitor import labelled
    from noria.pipeline.runner import load_artifact
    from noria.registry import get_version

    old = get_version(project.metadata, name, champion)
    new = get_version(project.metadata, name, challenger)
    inputs = [f"input.{s['name']}" for s in new.signature]
    frame, _ = labelled(project, name, inputs)
    frame = frame[frame["version"] == champion]
    if frame.empty:
        return {"labels": 0}
    x = frame[inputs].rename(columns=lambda c: c.removeprefix("input."))
    scores = {}
    for label, version in (("champion", old), ("challenger", new)):
        model = load_artifact(project.metadata, project.artifacts, version.artifact_id)
        task = version.params.get("task", "classification")
        classes = list(getattr(model, "classes_", [])) if task == "classification" else []
        scored = frame.assign(**{"output.prediction": model.predict(x)})
        if classes:
            proba = model.predict_proba(x)
            scored = scored.assign(
                **{f"output.proba.{c}": proba[:, i] for i, c in enumerate(classes)}
            )
        scores[label] = score_labelled(scored, task, classes).get(metric)
    return {"labels": len(frame), "metric": metric, **scores}


def _audit(project: Project, name: str, decision: Decision, state: dict[str, Any]) -> None:
    with project.metadata.write() as tx:
        project.metadata.audit(
            tx,
            action="loop",
            object=name,
            detail={
                "decision": decision.action,
                "reason": decision.reason,
                "evidence": decision.evidence,
                **state,
            },
            actor=ACTOR,
        )


def loop_once(
    project: Project,
    *,
    on_window: Callable[[WindowReport], None] | None = None,
    say: Callable[[str], None] = print,
) -> list[Decision]:
    """One iteration of the loop (see the module docstring); the decisions, in order."""
    from noria.errors import NotFoundError
    from noria.monitor.monitor import MonitorResult, monitor_and_report
    from noria.registry import (
        PromotionGates,
        alias_holder,
        judged_metric,
        promote,
        rollback,
    )

    spec = project.spec
    name, alias = check_policies(project)
    assert spec is not None
    champion = alias_holder(project.metadata, name, alias)
    state = _last_state(project, name)
    carried = {"data": data_signature(project), "retrained_at": state.get("retrained_at")}
    decisions: list[Decision] = []

    def decide(decision: Decision) -> None:
        decisions.append(decision)
        _audit(project, name, decision, carried)
        say(f"loop: {decision.action}: {decision.reason}")

    result = MonitorResult(name)
    if champion is not None:
        try:
            result, path = monitor_and_report(project, model=name, on_window=on_window)
        except NotFoundError as exc:  # no log yet, or a version without a profile
            say(f"loop: monitor skipped: {exc}")
        else:
            for line in result.warnings:
                say(f"warning: {line}")
            say(f"loop: monitor report: {path}")

    policy = spec.loop
    if policy.rollback is not None and champion is not None:
        breach = _floor_breached(project, name, champion, policy.rollback)
        if breach:
            try:
                old, new = rollback(
                    project.metadata,
                    name,
                    alias=alias,
                    reason=f"live {breach['metric']} {breach['value']:.4g} beyond the floor "
                    f"{breach['floor']:.4g} over {breach['labels']} labels",
                    actor=ACTOR,
                )
            except UserError as exc:  # no previous holder: say so, go on
                decide(Decision("none", f"rollback wanted but impossible: {exc}", breach))
            else:
                decide(
                    Decision(
                        "rollback",
                        f"{name}@{alias} rolled back from version {old} to {new}: live "
                        f"{breach['metric']} {breach['value']:.4g} beyond {breach['floor']:.4g}",
                        {**breach, "from": old, "to": new},
                    )
                )
                return decisions  # the restored champion is judged afresh next time

    if state.get("decision") == "retrain":  # the last iteration died in its retrain
        reasons, evidence = [f"resuming the interrupted retrain ({state['reason']})"], {}
    else:
        reasons, evidence = _retrain_reasons(project, name, champion, result, state)
    if not reasons:
        decide(Decision("none", "no policy asks for a retrain", {}))
        return decisions
    decide(Decision("retrain", "; ".join(reasons), evidence))
    run = project.run()
    carried["retrained_at"] = time.time()
    registered = run.get("registered_model") or {}
    version = registered.get("version")
    decide(
        Decision(
            "trained",
            f"run {run.run_id[:8]} registered version {version}",
            {"run": run.run_id, "version": version},
        )
    )
    champion_now = alias_holder(project.metadata, name, alias)
    if version is None or version == champion_now or not policy.promote:
        return decisions
    if champion is not None and champion_now is not None and version < champion_now:
        return decisions  # a cached run re-registered nothing new
    metric = judged_metric(project.metadata, name, spec.models.metric)
    shadow: dict[str, Any] = {}
    if policy.shadow and champion_now is not None and metric:
        from noria.evaluate.metrics import greater_is_better

        shadow = _shadow(project, name, champion_now, version, metric)
        old, new = shadow.get("champion"), shadow.get("challenger")
        if old is not None and new is not None:
            worse = new < old if greater_is_better(metric) else new > old
            if worse:
                decide(
                    Decision(
                        "refuse",
                        f"version {version} scores {new:.4g} on live traffic, champion {old:.4g}",
                        {"shadow": shadow},
                    )
                )
                return decisions
    gates = PromotionGates.from_spec(spec.promotion, default_metric=metric)
    try:
        results = promote(
            project.metadata,
            name,
            version,
            to=alias,
            gates=gates,
            reason=f"loop: {'; '.join(reasons)}",
            actor=ACTOR,
            artifacts=project.artifacts,
        )
    except PromotionRefused as exc:
        decide(Decision("refuse", str(exc), {"shadow": shadow} if shadow else {}))
        return decisions
    verdicts = {r.gate: r.detail for r in results}
    decide(
        Decision(
            "promote",
            f"{name}@{alias} → version {version}",
            {"gates": verdicts, **({"shadow": shadow} if shadow else {})},
        )
    )
    return decisions


def run_loop(
    project: Project,
    *,
    once: bool = False,
    on_window: Callable[[WindowReport], None] | None = None,
    say: Callable[[str], None] = print,
) -> None:
    """Iterate :func:`loop_once` every ``loop.interval`` seconds (once with ``once``)."""
    check_policies(project)
    assert project.spec is not None
    while True:
        started = time.monotonic()
        loop_once(project, on_window=on_window, say=say)
        if once:
            return
        time.sleep(max(0.0, project.spec.loop.interval - (time.monotonic() - started)))
