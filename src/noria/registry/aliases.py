"""Aliases: set, promote through the gates, roll back; every move audited with its evidence.

Aliases (``champion``, ``challenger``, any name) point at versions; every move is an audit
event with who, when and why, in the same transaction as the move itself.

Promotion (:func:`promote`) moves an alias only when the gates pass (:mod:`noria.registry.gates`)
and otherwise refuses with every reason (the refusal is audited too). Both carry the gates'
verdicts and, when the gates compared the candidate with the alias's holder, that comparison
(the metric's difference and its paired-bootstrap 95 % interval on the same rows) as evidence.

Rollback (:func:`rollback`) moves an alias back to its previous holder. The history of holders is
replayed from the audit log (:func:`~noria.registry.audit.alias_history`), so rolling back
twice walks two steps back instead of flipping between two versions.

Concurrency: a promotion or a rollback moves the alias by compare-and-set against the holder its
gates compared with (one conditional ``UPDATE``, atomic on SQLite and PostgreSQL). When another
promotion moved the alias in between, the gates run again against the new holder, so a version
never replaces one it was not compared with while the audit log says it beat another.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from noria.errors import PromotionRefused, UserError
from noria.registry import gates as _gates
from noria.registry.audit import alias_history
from noria.registry.versions import (
    CHAMPION,
    alias_holder,
    check_alias_name,
    get_version,
    resolve,
)
from noria.store.metadata import MetadataStore

if TYPE_CHECKING:
    from noria.registry.gates import GateResult, PromotionGates
    from noria.store.artifacts import ArtifactStore

__all__ = [
    "AliasMoved",
    "promote",
    "rollback",
    "rollback_target",
    "set_alias",
]

#: How many times a promotion re-runs its gates when the alias moved under it.
_CAS_ATTEMPTS = 5


class AliasMoved(UserError):
    """The alias no longer points where the caller last saw it (another process moved it)."""

    def __init__(self, name: str, alias: str, expected: int | None, found: int | None) -> None:
        self.found = found
        super().__init__(
            f"'{name}@{alias}' moved from version {expected} to {found} while this change was "
            "being decided; run it again"
        )


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
    check_alias_name(alias)
    _move(metadata, name, alias, version, action="set_alias", reason=reason, actor=actor)


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
    check_alias_name(to)
    for _ in range(_CAS_ATTEMPTS):
        holder = alias_holder(metadata, name, to)
        results = _gates.check_gates(
            metadata,
            candidate,
            gates or _gates.PromotionGates(),
            alias=to,
            artifacts=artifacts,
            holder=holder,
        )
        failed = [r for r in results if not r.passed]
        verdicts = {r.gate: {"passed": r.passed, "detail": r.detail} for r in results}
        evidence = {r.gate: _evidence(r.evidence) for r in results if r.evidence is not None}
        if failed and not force:
            with metadata.write() as tx:
                metadata.audit(
                    tx,
                    action="promote_refused",
                    object=f"{name}/{version}",
                    detail={
                        "alias": to,
                        "reason": reason,
                        "gates": verdicts,
                        "holder": holder,
                        "evidence": evidence,
                    },
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
                extra={"gates": verdicts, "forced": bool(failed), "evidence": evidence},
                expected=holder,
            )
        except AliasMoved:
            continue  # another promotion won the race: judge the candidate against the new holder
        return results
    raise UserError(
        f"'{name}@{to}' kept moving while version {version}'s gates ran "
        f"({_CAS_ATTEMPTS} tries); run the promotion again"
    )


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


def _evidence(evidence: Mapping[str, Any]) -> dict[str, Any]:
    """The evidence as stored in the audit log: the figures (curves) are left out."""
    return {k: v for k, v in evidence.items() if k != "figures"}
