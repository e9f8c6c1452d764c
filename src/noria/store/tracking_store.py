"""Tracking: the params, metrics (time series) and tags of runs, and queries over them.

Writes come in batches (:meth:`TrackingStore.log_batch`, one transaction for what a run
buffered), so logging a metric costs an append in the caller and a row here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from noria.store.backend import ConcernStore, Connection, in_list
from noria.store.records import dumps

__all__ = ["TrackingStore"]


class TrackingStore(ConcernStore):
    """Params, metrics and tags of runs."""

    def log_batch(
        self,
        tx: Connection,
        *,
        params: Iterable[tuple[str, str, Any]] = (),
        metrics: Iterable[tuple[str, str, float, int, float]] = (),
        tags: Iterable[tuple[str, str, str]] = (),
    ) -> None:
        """Write params ``(run, key, value)``, metrics ``(run, key, value, step, time)``, tags."""
        # upserts in key order: concurrent writers take row locks in one order (no deadlock)
        tx.executemany(
            "INSERT INTO params (run_id, key, value) VALUES (:r, :k, :v) "
            "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
            sorted(({"r": r, "k": k, "v": dumps(v)} for r, k, v in params), key=_run_key),
        )
        tx.executemany(
            "INSERT INTO metrics (run_id, key, value, step, timestamp) VALUES (:r, :k, :v, :s, :t)",
            [{"r": r, "k": k, "v": v, "s": s, "t": t} for r, k, v, s, t in metrics],
        )
        tx.executemany(
            "INSERT INTO tags (run_id, key, value) VALUES (:r, :k, :v) "
            "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
            sorted(({"r": r, "k": k, "v": str(v)} for r, k, v in tags), key=_run_key),
        )

    def params(self, run_id: str) -> dict[str, Any]:
        """The params of a run."""
        rows = self.read(
            "SELECT key, value FROM params WHERE run_id = :r ORDER BY key", {"r": run_id}
        )
        return {k: orjson.loads(v) for k, v in rows}

    def tags(self, run_id: str) -> dict[str, str]:
        """The tags of a run."""
        rows = self.read(
            "SELECT key, value FROM tags WHERE run_id = :r ORDER BY key", {"r": run_id}
        )
        return {k: v for k, v in rows}

    def metrics(self, run_id: str) -> list[tuple[str, float, int, float]]:
        """Every metric point of a run: ``(key, value, step, timestamp)`` in logging order."""
        rows = self.read(
            "SELECT key, value, step, timestamp FROM metrics WHERE run_id = :r ORDER BY id",
            {"r": run_id},
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def latest_metrics(self, run_ids: Sequence[str]) -> dict[str, dict[str, float]]:
        """For each run, the last logged value of each metric key."""
        if not run_ids:
            return {}
        marks, params = in_list(run_ids, "r")
        rows = self.read(
            f"SELECT run_id, key, value FROM metrics WHERE id IN (SELECT MAX(id) FROM metrics "
            f"WHERE run_id IN ({marks}) GROUP BY run_id, key)",
            params,
        )
        out: dict[str, dict[str, float]] = {}
        for run_id, key, value in rows:
            out.setdefault(run_id, {})[key] = value
        return out

    def tags_of(self, run_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        """Tags of several runs at once."""
        if not run_ids:
            return {}
        marks, params = in_list(run_ids, "r")
        rows = self.read(f"SELECT run_id, key, value FROM tags WHERE run_id IN ({marks})", params)
        out: dict[str, dict[str, str]] = {}
        for run_id, key, value in rows:
            out.setdefault(run_id, {})[key] = value
        return out

    def best_runs(
        self, *, kind: str, name_prefix: str, metric: str, maximize: bool, limit: int = 5
    ) -> list[tuple[str, float]]:
        """``(run_id, value)`` of the completed runs of ``kind`` whose name starts with
        ``name_prefix``, best last-logged ``metric`` first."""
        order = "DESC" if maximize else "ASC"
        rows = self.read(
            "SELECT r.id, m.value FROM runs r JOIN metrics m ON m.run_id = r.id "
            "WHERE r.kind = :kind AND r.status = 'completed' "
            "AND substr(r.name, 1, length(:prefix)) = :prefix "
            f"AND m.key = :metric ORDER BY m.value {order} LIMIT :limit",
            {"kind": kind, "prefix": name_prefix, "metric": metric, "limit": limit},
        )
        return [(r[0], r[1]) for r in rows]


def _run_key(row: dict[str, Any]) -> tuple[str, str]:
    return row["r"], row["k"]
