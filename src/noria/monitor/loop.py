"""The closed loop: monitor, then retrain, promote or roll back by the policies of noria.yaml.

One iteration (:func:`loop_once`; ``noria loop --once`` from cron or CI, ``noria loop`` every
``loop.interval`` seconds):

1. **Monitor** the new prediction-log windows (:func:`noria.monitor.monitor.monitor_and_report`):
   drift, data quality, live metrics, the HTML report, alerts.
2. **Roll back** when ``loop.rollback`` is set and the champion's live metric, over at least
   ``min_labels`` labelled predictions it served since it took the alias and that no earlier
   decision acted on (:mod:`noria.monitor.evidence`), is below the floor (above the ceiling for
   a loss or an error): the alias goes back to its previous holder.
3. **Retrain** when one of ``loop.retrain_on`` holds: a window of this pass drifted (more than
   ``drift_share`` of its columns), the champion's live metric fell below
   ``retrain_on.performance``, the data source changed since the last iteration (its files'
   names, sizes and modification times), the ``schedule`` is due, or no model is registered
   yet. The retrain is the project's pipeline on the current data, warm-started from the
   champion (``models.warm_start``). When the data and the code are unchanged, every step comes
   from the cache and the run gives back a model already registered: the loop says there is
   "nothing new to learn from" (and, for drift, that retraining on unchanged data cannot cure
   it) and promotes nothing. That decision records its basis: the data source's signature, a
   fingerprint of the code (``noria.yaml``, the pipeline's step sources, the library versions)
   and the champion. While all three stay as they were, later iterations do not retrain at all:
   the first says so once (a ``none`` decision, audited), the next ones say and audit nothing
   until something else happens.
4. **Promote** the new version when ``loop.promote`` is on and it passes the promotion gates of
   ``promotion:`` against the champion (and, with ``loop.shadow``, scores at least as well as
   the champion on the labelled live traffic). Never a version flagged as not beating the
   trivial baseline (``beats_baseline`` false), nor one that a rollback or a person moved off
   the alias, unless new labels or new data arrived since.

Every decision, with its evidence, is an audit event (action ``loop``) of the model, and the
data signature the iteration saw is stored with it. A retrain is recorded when it starts
(``retrain``) and when its run ends (``trained``): a loop killed in the middle of a retrain leaves
the registry as it was (a version is registered and an alias moved in one transaction each), and
the next iteration sees the unfinished ``retrain`` and runs it again, resuming from the
pipeline's cache.

One loop per model at a time: an iteration holds a lease on the model in the metadata store
(``leases`` table, renewed while it runs, expiring two minutes after a crash), so two
``noria loop --once`` started together, on one machine or several sharing a PostgreSQL store,
never retrain or register the same model twice: the second one says who holds the lease and
does nothing.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from noria.errors import ConfigError, PromotionRefused, UserError

if TYPE_CHECKING:
    from noria.monitor.evidence import LiveEvidence
    from noria.monitor.monitor import MonitorResult, WindowReport
    from noria.project import Project
    from noria.spec import MetricFloor

__all__ = ["Decision", "loop_once", "run_loop"]

ACTOR = "noria loop"

#: How a decision's action reads in the loop's output.
_SAID = {"none": "no change", "refuse": "not promoted", "trained": "trained", "busy": "busy"}

#: Seconds a loop's lease on a model lasts without renewal (a crashed loop frees it then).
LEASE_TTL = 120.0


@dataclass(frozen=True)
class Decision:
    """One thing the loop did (or decided not to do), and why.

    Attributes:
        action: ``rollback``, ``retrain`` (started), ``trained`` (the run ended),
            ``promote``, ``refuse``, ``none``, or ``busy`` (another loop holds the model's
            lease; not audited).
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


def code_fingerprint(project: Project) -> str:
    """A hash of what a retrain's result depends on besides the data: ``noria.yaml``, the
    normalized source of every step of the project's pipeline and the library versions."""
    import xxhash

    from noria.pipeline.cache import library_versions, source_hash

    digest = xxhash.xxh3_128()
    digest.update(project.spec_path.read_bytes())
    digest.update(library_versions().encode())
    for step_name, step in sorted(project.pipeline().steps.items()):
        digest.update(f"{step_name}:{source_hash(step.func)};".encode())
    return digest.hexdigest()


def _basis(project: Project, champion: int | None) -> dict[str, Any]:
    """What decides a retrain's outcome: the data, the code and the champion it starts from."""
    code = code_fingerprint(project)
    return {"data": data_signature(project), "code": code, "champion": champion}


def _last_nothing_new(project: Project, name: str) -> dict[str, Any] | None:
    """The detail of the latest loop decision that found nothing new (or skipped for it)."""
    for event in reversed(project.metadata.audit_events(name)):
        if event["action"] != "loop":
            continue
        evidence = event["detail"].get("evidence") or {}
        if evidence.get("nothing_new") or evidence.get("skipped"):
            return {**event["detail"], "time": event.get("time")}
    return None


def _last_state(project: Project, name: str) -> dict[str, Any]:
    for event in reversed(project.metadata.audit_events(name)):
        if event["action"] == "loop":
            return event["detail"]
    return {}


def _below(value: float, floor: MetricFloor) -> bool:
    from noria.evaluate.metrics import greater_is_better

    return value < floor.below if greater_is_better(floor.metric) else value > floor.below


def _beyond(floor: MetricFloor) -> str:
    """``below the floor 0.95`` or, for a loss or an error, ``above the ceiling 0.3``."""
    from noria.evaluate.metrics import greater_is_better

    if greater_is_better(floor.metric):
        return f"below the floor {floor.below:.4g}"
    return f"above the ceiling {floor.below:.4g}"


def _floor_breached(
    project: Project, name: str, alias: str, floor: MetricFloor, marks: list[dict[str, float]]
) -> dict[str, Any] | None:
    """The evidence that the champion's new live metric breaks ``floor``; ``None`` otherwise."""
    from noria.monitor.evidence import champion_evidence

    found: LiveEvidence | None = champion_evidence(project, name, alias, floor.metric, marks)
    if found is None or found.labels < floor.min_labels or found.value != found.value:
        return None  # too few new labels to judge, or NaN
    if not _below(found.value, floor):
        return None
    return {**found.to_dict(), "floor": floor.below, "beyond": _beyond(floor)}


def _drift_evidence(result: MonitorResult, share: float) -> dict[str, Any] | None:
    drifted: list[WindowReport] = [w for w in result.windows if w.drifted and w.drift.share > share]
    if not drifted:
        return None
    return {
        "windows": [w.id for w in drifted],
        "columns": sorted({c for w in drifted for c in w.drifted}),
    }


def _retrain_reasons(
    project: Project,
    name: str,
    alias: str,
    champion: int | None,
    result: MonitorResult,
    state: dict,
    marks: list[dict[str, float]],
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
        breach = _floor_breached(project, name, alias, policy.performance, marks)
        if breach:
            reasons.append(
                f"live {breach['metric']} {breach['value']:.4g} {breach['beyond']} over "
                f"{breach['labels']} new labels"
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


class _Lease:
    """The loop's lease on a model, renewed by a daemon thread while held."""

    def __init__(self, project: Project, name: str, ttl: float = LEASE_TTL) -> None:
        self.metadata = project.metadata
        self.key = f"loop:{name}"
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.ttl = ttl
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> bool:
        if not self.metadata.acquire_lease(self.key, self.owner, self.ttl):
            held = self.metadata.lease(self.key)
            dead = held[0] if held is not None and _dead_here(held[0]) else None
            if dead is None or not self.metadata.acquire_lease(
                self.key, self.owner, self.ttl, replace=dead
            ):
                return False
        self._thread = threading.Thread(target=self._renew, name="noria-loop-lease", daemon=True)
        self._thread.start()
        return True

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 4):
            self.metadata.acquire_lease(self.key, self.owner, self.ttl)

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.metadata.release_lease(self.key, self.owner)


def _dead_here(owner: str) -> bool:
    """Whether a lease ``owner`` (``host:pid:token``) is a process of this host that is gone."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@contextlib.contextmanager
def _leased(project: Project, name: str) -> Iterator[_Lease | None]:
    """The model's lease while the block runs, or ``None`` if another loop holds it."""
    lease = _Lease(project, name)
    if not lease.acquire():
        yield None
        return
    try:
        yield lease
    finally:
        lease.release()


def loop_once(
    project: Project,
    *,
    on_window: Callable[[WindowReport], None] | None = None,
    say: Callable[[str], None] = print,
) -> list[Decision]:
    """One iteration of the loop (see the module docstring); the decisions, in order.

    Returns ``[Decision("busy", …)]``, and does nothing else, when another loop holds the
    model's lease.
    """
    name, _ = check_policies(project)
    with _leased(project, name) as lease:
        if lease is None:
            held = project.metadata.lease(f"loop:{name}")
            who = f"{held[0]} until {time.strftime('%H:%M:%S', time.localtime(held[1]))}"
            busy = Decision(
                "busy",
                f"another loop is working on {name} ({who if held else 'just now'}); "
                "this iteration does nothing",
            )
            say(f"loop: {busy.action}: {busy.reason}")
            return [busy]
        return _iteration(project, on_window=on_window, say=say)


def _iteration(
    project: Project,
    *,
    on_window: Callable[[WindowReport], None] | None,
    say: Callable[[str], None],
) -> list[Decision]:
    from noria.errors import NotFoundError
    from noria.monitor.evidence import spent_marks
    from noria.monitor.monitor import MonitorResult, monitor_and_report
    from noria.registry import alias_holder

    spec = project.spec
    name, alias = check_policies(project)
    assert spec is not None
    champion = alias_holder(project.metadata, name, alias)
    state = _last_state(project, name)
    marks = spent_marks(project.metadata.audit_events(name))
    carried = {"data": data_signature(project), "retrained_at": state.get("retrained_at")}
    decisions: list[Decision] = []

    def decide(decision: Decision) -> None:
        decisions.append(decision)
        _audit(project, name, decision, carried)
        say(f"loop: {_SAID.get(decision.action, decision.action)}: {decision.reason}")

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
        breach = _floor_breached(project, name, alias, policy.rollback, marks)
        if breach and _roll_back(project, name, alias, champion, breach, decide):
            return decisions  # the restored champion is judged afresh next time

    resuming = state.get("decision") == "retrain"  # the last iteration died in its retrain
    if resuming:
        reasons, evidence = [f"resuming the interrupted retrain ({state['reason']})"], {}
    else:
        reasons, evidence = _retrain_reasons(project, name, alias, champion, result, state, marks)
    if not reasons:
        decide(Decision("none", "no policy asks for a retrain", {}))
        return decisions
    basis = _basis(project, champion)
    if not resuming and champion is not None:
        skipped = _skip_unchanged(project, name, reasons, evidence, basis, state)
        if skipped is not None:
            if skipped.evidence.get("repeat"):  # said once already: neither said nor audited
                return [skipped]
            decide(skipped)
            return decisions
    decide(Decision("retrain", "; ".join(reasons), evidence))
    known = {v.version for v in project.metadata.model_versions(name)}
    run = project.run()
    carried["retrained_at"] = time.time()
    registered = run.get("registered_model") or {}
    version = registered.get("version")
    if version is not None and version in known:
        same = _nothing_new(
            run, version, drift="drift" in evidence or "drift" in state.get("evidence", {})
        )
        decide(Decision(same.action, same.reason, {**same.evidence, "basis": basis}))
        return decisions
    decide(
        Decision(
            "trained",
            f"run {run.run_id[:8]} registered version {version}",
            {"run": run.run_id, "version": version},
        )
    )
    if version is None or not policy.promote:
        return decisions
    _promote(project, name, alias, version, reasons, decide)
    return decisions


def _roll_back(
    project: Project,
    name: str,
    alias: str,
    champion: int,
    breach: dict[str, Any],
    decide: Callable[[Decision], None],
) -> bool:
    """Roll ``alias`` back on ``breach``; whether it moved. Whatever happens, the evidence is
    spent: the same labels never ask for it again."""
    from noria.registry import AliasMoved, rollback, rollback_target

    why = (
        f"live {breach['metric']} {breach['value']:.4g} {breach['beyond']} over "
        f"{breach['labels']} labelled predictions of version {champion} since it took {alias}"
    )
    try:
        _, target = rollback_target(project.metadata, name, alias=alias)
        held = _held_back(project, name, alias, target)
        if held is not None:
            decide(Decision("none", f"rollback wanted ({why}), but {held}", breach))
            return False
        old, new = rollback(project.metadata, name, alias=alias, reason=why, actor=ACTOR)
    except (UserError, AliasMoved) as exc:  # no previous holder, or a person moved it just now
        decide(Decision("none", f"rollback wanted ({why}) but impossible: {exc}", breach))
        return False
    decide(
        Decision(
            "rollback",
            f"{name}@{alias} rolled back from version {old} to {new}: {why}",
            {**breach, "from": old, "to": new},
        )
    )
    return True


def _held_back(project: Project, name: str, alias: str, version: int) -> str | None:
    """Why the loop must not put ``version`` back on ``alias`` (a rollback or a person moved it
    off, and nothing new arrived since); ``None`` when it may."""
    from noria.monitor.evidence import moved_off, new_evidence_since

    off = moved_off(project, name, alias, version, loop_actor=ACTOR)
    floor = project.spec.loop.rollback if project.spec is not None else None
    if off is None or new_evidence_since(project, name, version, off["time"], floor=floor):
        return None
    how = "rolled back from" if off["action"] == "rollback" else "moved off"
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(off["time"]))
    why = off["detail"].get("reason") or "no reason given"
    return (
        f"version {version} was {how} {alias} by {off['actor']} at {when} ({why}), and no new "
        f"labels of its predictions nor new data arrived since: the loop leaves that choice "
        f"standing (`noria promote {name} {version} --force` overrides it)"
    )


def _skip_unchanged(
    project: Project,
    name: str,
    reasons: list[str],
    evidence: dict[str, Any],
    basis: dict[str, Any],
    state: dict[str, Any],
) -> Decision | None:
    """A ``none`` decision when the last "nothing new" retrain had this very ``basis`` (the same
    data, code and champion: a retrain would give the same version back); ``None`` otherwise.

    Its evidence has ``repeat: True`` when the last audited decision already said so."""
    last = _last_nothing_new(project, name)
    if last is None or (last.get("evidence") or {}).get("basis") != basis:
        return None
    version = last["evidence"].get("version")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(last.get("time") or time.time()))
    reason = (
        f"{'; '.join(reasons)}, but nothing new to learn from: the data and the code are "
        f"unchanged since {when}, when a retrain gave back version {version}; not retraining "
        "until the data source or noria.yaml changes"
    )
    if "drift" in evidence:
        reason += (
            "; retraining on unchanged data cannot cure drift: add data that looks like the new "
            "traffic (with its labels) to the source"
        )
    said = (state.get("evidence") or {}).get("skipped") and state["evidence"].get("basis") == basis
    out = {**evidence, "skipped": True, "basis": basis, "version": version}
    if said:
        out["repeat"] = True
    return Decision("none", reason, out)


def _nothing_new(run: Any, version: int, *, drift: bool) -> Decision:
    """The decision after a retrain that gave back a version already registered."""
    cached = run.cache_hits == len(run.steps)
    how = "every step came from the cache" if cached else "the run fitted the very same model"
    reason = (
        f"nothing new to learn from: the data and the code are unchanged ({how}; it is version "
        f"{version}, registered before); nothing to promote"
    )
    if drift:
        reason += (
            "; retraining on unchanged data cannot cure drift: add data that looks like the new "
            "traffic (with its labels) to the source, then the next iteration retrains on it"
        )
    return Decision(
        "trained",
        reason,
        {"run": run.run_id, "version": version, "nothing_new": True, "cached": cached},
    )


def _promote(
    project: Project,
    name: str,
    alias: str,
    version: int,
    reasons: list[str],
    decide: Callable[[Decision], None],
) -> None:
    """Promote ``version`` to ``alias`` if nothing forbids it and the gates pass."""
    from noria.registry import (
        AliasMoved,
        PromotionGates,
        alias_holder,
        beats_baseline,
        get_version,
        judged_metric,
        promote,
    )

    spec = project.spec
    assert spec is not None
    record = get_version(project.metadata, name, version)
    if beats_baseline(project.metadata, record) is False:
        decide(
            Decision(
                "refuse",
                f"version {version} does not beat the trivial baseline on its holdout: the loop "
                "never promotes it (promote it by hand if you must)",
                {"beats_baseline": False},
            )
        )
        return
    held = _held_back(project, name, alias, version)
    if held is not None:
        decide(Decision("refuse", held, {}))
        return
    champion_now = alias_holder(project.metadata, name, alias)
    metric = judged_metric(project.metadata, name, spec.models.metric)
    shadow: dict[str, Any] = {}
    if spec.loop.shadow and champion_now is not None and metric:
        from noria.evaluate.metrics import greater_is_better

        shadow = _shadow(project, name, champion_now, version, metric)
        old, new = shadow.get("champion"), shadow.get("challenger")
        if old is not None and new is not None:
            worse = new < old if greater_is_better(metric) else new > old
            if worse:
                decide(
                    Decision(
                        "refuse",
                        f"version {version} scores {metric} {new:.4g} on the labelled live "
                        f"traffic, the champion (version {champion_now}) {old:.4g}",
                        {"shadow": shadow},
                    )
                )
                return
    gates = PromotionGates.from_spec(spec.promotion, default_metric=metric)
    extra = {"shadow": shadow} if shadow else {}
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
    except (PromotionRefused, AliasMoved) as exc:
        decide(Decision("refuse", str(exc), extra))
        return
    verdicts = {r.gate: r.detail for r in results}
    decide(
        Decision(
            "promote",
            f"{name}@{alias} → version {version}",
            {"gates": verdicts, "version": version, **extra},
        )
    )


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
