"""The registry and the audit log: model versions, aliases, and every event that moved them.

Version numbers are given under a lock on the model's name (:meth:`Backend.lock`), so two
processes registering the same model at once get two versions, never one twice. What a
promotion may do (gates) is :mod:`noria.registry`'s business, not this module's.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import orjson

from noria.store.backend import ConcernStore, Connection
from noria.store.records import MODEL_COLUMNS, ModelVersion, current_user, dumps, model_from_row

__all__ = ["RegistryStore"]


class RegistryStore(ConcernStore):
    """Model versions, aliases and the audit log."""

    def insert_model_version(
        self,
        tx: Connection,
        *,
        name: str,
        artifact_id: str,
        run_id: str | None,
        signature: list[dict[str, Any]],
        metrics: Mapping[str, float],
        params: Mapping[str, Any],
        description: str | None = None,
    ) -> ModelVersion:
        """Register the next version of ``name`` inside ``tx`` and return it."""
        self._backend.lock(tx, f"noria:model:{name}")
        rows = tx.execute(
            "SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE name = :n", {"n": name}
        )
        version = int(rows[0][0]) + 1
        record = ModelVersion(
            name=name,
            version=version,
            artifact_id=artifact_id,
            run_id=run_id,
            signature=list(signature),
            metrics=dict(metrics),
            params=dict(params),
            description=description,
            created_at=time.time(),
        )
        tx.execute(
            f"INSERT INTO model_versions ({MODEL_COLUMNS}) VALUES (:name, :version, "
            ":artifact_id, :run_id, :signature, :metrics, :params, :description, :created_at)",
            {
                "name": name,
                "version": version,
                "artifact_id": artifact_id,
                "run_id": run_id,
                "signature": dumps(record.signature),
                "metrics": dumps(record.metrics),
                "params": dumps(record.params),
                "description": description,
                "created_at": record.created_at,
            },
        )
        return record

    def model_versions(self, name: str | None = None) -> list[ModelVersion]:
        """Registered versions, of one model or of all, oldest first."""
        where = "WHERE name = :n" if name else ""
        rows = self.read(
            f"SELECT {MODEL_COLUMNS} FROM model_versions {where} ORDER BY name, version",
            {"n": name} if name else {},
        )
        return [model_from_row(r) for r in rows]

    def model_version(self, name: str, version: int) -> ModelVersion | None:
        """One version, or ``None``."""
        rows = self.read(
            f"SELECT {MODEL_COLUMNS} FROM model_versions WHERE name = :n AND version = :v",
            {"n": name, "v": version},
        )
        return model_from_row(rows[0]) if rows else None

    def aliases(self, name: str | None = None) -> list[tuple[str, str, int]]:
        """``(model name, alias, version)`` rows."""
        where = "WHERE name = :n" if name else ""
        rows = self.read(
            f"SELECT name, alias, version FROM aliases {where} ORDER BY name, alias",
            {"n": name} if name else {},
        )
        return [(r[0], r[1], int(r[2])) for r in rows]

    def alias_version(self, name: str, alias: str, tx: Connection | None = None) -> int | None:
        """The version ``alias`` of ``name`` points at (inside ``tx`` when given), or ``None``."""
        sql = "SELECT version FROM aliases WHERE name = :n AND alias = :a"
        params = {"n": name, "a": alias}
        rows = tx.execute(sql, params) if tx is not None else self.read(sql, params)
        return int(rows[0][0]) if rows else None

    def set_alias(self, tx: Connection, name: str, alias: str, version: int) -> None:
        """Point ``alias`` of model ``name`` at ``version`` inside ``tx``."""
        tx.execute(
            "INSERT INTO aliases (name, alias, version, updated_at) VALUES (:n, :a, :v, :t) "
            "ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version, "
            "updated_at = excluded.updated_at",
            {"n": name, "a": alias, "v": version, "t": time.time()},
        )

    def audit(
        self,
        tx: Connection,
        *,
        action: str,
        object: str,
        detail: Mapping[str, Any],
        actor: str | None = None,
    ) -> None:
        """Append an event to the audit log inside ``tx``."""
        tx.execute(
            "INSERT INTO audit_events (time, actor, action, object, detail) VALUES "
            "(:t, :actor, :action, :object, :detail)",
            {
                "t": time.time(),
                "actor": actor or current_user(),
                "action": action,
                "object": object,
                "detail": dumps(dict(detail)),
            },
        )

    def audit_events(self, object: str | None = None) -> list[dict[str, Any]]:
        """Audit events, oldest first, optionally of one object."""
        where = "WHERE object = :o" if object else ""
        rows = self.read(
            f"SELECT time, actor, action, object, detail FROM audit_events {where} ORDER BY id",
            {"o": object} if object else {},
        )
        return [
            {"time": t, "actor": a, "action": act, "object": o, "detail": orjson.loads(d)}
            for t, a, act, o, d in rows
        ]
