"""The loop's memory: which live evidence is new, and which versions people moved away from.

Three rules keep :mod:`noria.monitor.loop` from acting twice on the same facts:

* **The champion is judged on its own tenure.** Its live metric counts only the labelled
  predictions it made *after* it took the alias (the alias's ``updated_at``): labels of the
  predictions it served in an earlier tenure, before a rollback or a person moved it away and
  back, say nothing about this one.
* **Evidence acted on is spent.** A decision taken on live labels (a rollback, a rollback that
  was wanted but impossible, a retrain for performance) records the newest prediction time and
  the newest label time it used (``evidence.spent``). A labelled prediction at or before both
  marks of any earlier decision is never counted again; labels that arrive later for other
  predictions, or predictions made later, are new.
* **A person's choice (and a rollback) stands until something changes.** A version that a
  rollback, or a person (any actor but the loop), moved off the alias is not put back by the
  loop — neither promoted nor rolled back to — unless new evidence for it arrived since: data
  files of the source modified after the move, or labels added after it for predictions that
  version made (under another alias, say) and that do not put it beyond the rollback floor.

Not here: the policies themselves (:mod:`noria.monitor.loop`), the join of labels with the
log (:mod:`noria.monitor.labels`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from noria.project import Project
    from noria.spec import MetricFloor

__all__ = [
    "LiveEvidence",
    "champion_evidence",
    "moved_off",
    "new_evidence_since",
    "spent_marks",
]

#: Actions of the audit log that move an alias.
_MOVES = ("set_alias", "promote", "rollback")


@dataclass(frozen=True)
class LiveEvidence:
    """The champion's live metric over the labelled predictions not yet acted on.

    Attributes:
        metric: The metric.
        value: Its value (NaN without labels, or when it cannot be computed).
        labels: Labelled predictions counted.
        since: When the champion took the alias (predictions before are not counted).
        spent: ``{"time": newest prediction, "added": newest label}`` counted: the mark a
            decision on this evidence records.
        ignored: Labelled predictions of this version left out (older tenure, or spent).
    """

    metric: str
    value: float
    labels: int
    since: float
    spent: dict[str, float]
    ignored: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (decision evidence)."""
        value = None if math.isnan(self.value) else self.value
        return {
            "metric": self.metric,
            "value": value,
            "labels": self.labels,
            "since": self.since,
            "spent": self.spent,
            "ignored": self.ignored,
        }


def spent_marks(events: Sequence[dict[str, Any]]) -> list[dict[str, float]]:
    """The ``spent`` marks of the loop decisions among ``events`` (audit events of a model)."""
    marks = []
    for event in events:
        if event["action"] != "loop":
            continue
        evidence = event["detail"].get("evidence") or {}
        for part in (evidence, *(v for v in evidence.values() if isinstance(v, dict))):
            mark = part.get("spent") if isinstance(part, dict) else None
            if isinstance(mark, dict) and "time" in mark and "added" in mark:
                marks.append({"time": float(mark["time"]), "added": float(mark["added"])})
    return marks


def _fresh(frame: pd.DataFrame, marks: Sequence[dict[str, float]]) -> pd.Series:
    """Rows of ``frame`` covered by no mark (a mark covers a row at or before both its times)."""
    import pandas as pd

    keep = pd.Series(True, index=frame.index)
    times = frame["time"].astype(float)
    added = frame["label_added"].astype(float)
    for mark in marks:
        keep &= ~((times <= mark["time"]) & (added <= mark["added"]))
    return keep


def champion_evidence(
    project: Project,
    name: str,
    alias: str,
    metric: str,
    marks: Sequence[dict[str, float]],
) -> LiveEvidence | None:
    """The live ``metric`` of the holder of ``name@alias`` over its new evidence.

    ``None`` when the alias has no holder.
    """
    from noria.monitor.live import score_labelled
    from noria.monitor.monitor import labelled
    from noria.registry import alias_since, get_version

    held = alias_since(project.metadata, name, alias)
    if held is None:
        return None
    version, since = held
    frame, _ = labelled(project, name)
    if not frame.empty:
        frame = frame[frame["version"].astype(int) == version]
    mine = len(frame)
    if not frame.empty:
        frame = frame[frame["time"].astype(float) >= since]
        frame = frame[_fresh(frame, marks)] if not frame.empty else frame
    if frame.empty:
        return LiveEvidence(metric, float("nan"), 0, since, {}, mine)
    record = get_version(project.metadata, name, version)
    scores = score_labelled(
        frame,
        record.params.get("task", "classification"),
        record.params.get("classes") or (),
    )
    spent = {
        "time": float(frame["time"].astype(float).max()),
        "added": float(frame["label_added"].astype(float).max()),
    }
    value = scores.get(metric, float("nan"))
    return LiveEvidence(metric, float(value), len(frame), since, spent, mine - len(frame))


def moved_off(
    project: Project, name: str, alias: str, version: int, *, loop_actor: str
) -> dict[str, Any] | None:
    """The latest audit event that moved ``alias`` off ``version`` by a rollback or by a person
    (an actor other than ``loop_actor``); ``None`` if none, or if a later move by the loop
    itself moved it off again (then the loop had put it back: the person's move is older)."""
    found = None
    for event in project.metadata.audit_events():
        model, _, _ = event["object"].rpartition("/")
        detail = event["detail"]
        if model != name or event["action"] not in _MOVES or detail.get("alias") != alias:
            continue
        if detail.get("previous") != version or event["object"] == f"{name}/{version}":
            continue
        by_person = event["actor"] != loop_actor
        found = event if (event["action"] == "rollback" or by_person) else None
    return found


def new_evidence_since(
    project: Project, name: str, version: int, since: float, *, floor: MetricFloor | None = None
) -> str | None:
    """What arrived after ``since`` that speaks for ``version``: changed data files of the
    source, or labels of predictions it made (that, with a ``floor``, do not put its live metric
    beyond it); ``None`` if nothing did."""
    from noria.data.sources import resolve_files
    from noria.evaluate.metrics import greater_is_better
    from noria.monitor.live import score_labelled
    from noria.monitor.monitor import labelled
    from noria.registry import get_version

    spec = project.spec
    if spec is not None:
        files = resolve_files(spec.data.source, base=project.root)
        changed = [p for p in files if p.stat().st_mtime > since]
        if changed:
            return f"the data changed ({', '.join(p.name for p in changed[:3])})"
    frame, _ = labelled(project, name)
    if frame.empty:
        return None
    fresh = frame[
        (frame["version"].astype(int) == version) & (frame["label_added"].astype(float) > since)
    ]
    if fresh.empty:
        return None
    if floor is not None:
        record = get_version(project.metadata, name, version)
        task = record.params.get("task", "classification")
        value = score_labelled(fresh, task, record.params.get("classes") or ()).get(floor.metric)
        if value is None or value != value:
            return None
        bad = value < floor.below if greater_is_better(floor.metric) else value > floor.below
        if bad:
            return None
    return f"{len(fresh)} new labels of its predictions"
