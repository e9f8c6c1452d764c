"""The audit log of the registry: the history of an alias, the evidence linked to a version.

Every registration, alias move, refusal, evaluation and model-test run is an audit event on
``NAME/VERSION`` (who, when, why, and a JSON detail), written in the same transaction as the
change it records. This module reads them back:

* :func:`alias_history` replays the holders of an alias (promotions and alias moves push,
  rollbacks pop), so that a rollback walks back one step at a time;
* :func:`latest_event` finds the newest event of an action on a version (the stored evaluation
  of ``noria evaluate``, the model tests of the registration);
* :func:`record` writes one event.

Not here: what the events' details mean (their writers: :mod:`~noria.registry.aliases`, the
``noria evaluate`` command, :mod:`~noria.registry.evidence`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from noria.registry.versions import CHAMPION
from noria.store.metadata import MetadataStore, ModelVersion

__all__ = ["MOVES", "alias_history", "latest_event", "record"]

#: Audit actions that move an alias (replayed by :func:`alias_history`).
MOVES = ("set_alias", "promote", "rollback")


def alias_history(metadata: MetadataStore, name: str, alias: str = CHAMPION) -> list[int]:
    """The stack of holders of ``alias``, oldest first, replayed from the audit log.

    A promotion or alias move pushes its version; a rollback pops the current holder.
    """
    stack: list[int] = []
    for event in metadata.audit_events():
        model, _, number = event["object"].rpartition("/")
        detail = event["detail"]
        if model != name or event["action"] not in MOVES or detail.get("alias") != alias:
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


def latest_event(
    metadata: MetadataStore, version: ModelVersion, action: str
) -> dict[str, Any] | None:
    """The newest audit event ``action`` on ``version`` (``None``: there is none)."""
    found = None
    for event in metadata.audit_events(f"{version.name}/{version.version}"):
        if event["action"] == action:
            found = event
    return found


def record(
    metadata: MetadataStore,
    version: ModelVersion,
    action: str,
    detail: Mapping[str, Any],
    *,
    actor: str | None = None,
) -> None:
    """Write one audit event ``action`` on ``version`` with ``detail`` (JSON values)."""
    with metadata.write() as tx:
        metadata.audit(
            tx,
            action=action,
            object=f"{version.name}/{version.version}",
            detail=dict(detail),
            actor=actor,
        )
