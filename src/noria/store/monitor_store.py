"""Monitoring: the monitored windows of a model's prediction log and the segments they consumed.

A segment is recorded once (its primary key is ``(model, segment)``): two monitors that read the
same segments at once cannot both record them, which is what makes monitoring exactly-once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import orjson

from noria.errors import StoreError
from noria.store.backend import ConcernStore
from noria.store.records import dumps

__all__ = ["MonitorStore"]

_WINDOW_COLUMNS = (
    "id, created_at, first_time, last_time, rows, versions, status, drifted, report_artifact"
)


class MonitorStore(ConcernStore):
    """Monitored windows and consumed prediction-log segments."""

    def consumed_segments(self, model: str) -> dict[str, int]:
        """``{segment name: window id}`` of every segment of ``model`` a window consumed."""
        rows = self.read(
            "SELECT segment, window_id FROM monitor_segments WHERE model = :m", {"m": model}
        )
        return {name: int(window) for name, window in rows}

    def commit_window(
        self,
        *,
        model: str,
        segments: Sequence[tuple[str, int]],
        versions: Sequence[int],
        status: str,
        drifted: Sequence[str],
        report_artifact: str,
        first_time: float | None,
        last_time: float | None,
    ) -> int:
        """Record a monitored window and its ``(segment name, rows)``, atomically; its id.

        Raises:
            StoreError: one of the segments was recorded by another monitor meanwhile (nothing
                is written then).
        """
        try:
            with self.write() as tx:
                (window_id,) = tx.execute(
                    "INSERT INTO monitor_windows (model, created_at, first_time, last_time, rows, "
                    "versions, status, drifted, report_artifact) VALUES (:model, :created, "
                    ":first, :last, :rows, :versions, :status, :drifted, :report) RETURNING id",
                    {
                        "model": model,
                        "created": time.time(),
                        "first": first_time,
                        "last": last_time,
                        "rows": sum(rows for _, rows in segments),
                        "versions": dumps(sorted({int(v) for v in versions})),
                        "status": status,
                        "drifted": dumps(list(drifted)),
                        "report": report_artifact,
                    },
                )[0]
                tx.executemany(
                    "INSERT INTO monitor_segments (model, segment, window_id, rows) "
                    "VALUES (:model, :segment, :window, :rows)",
                    [
                        {"model": model, "segment": name, "window": window_id, "rows": rows}
                        for name, rows in sorted(segments)
                    ],
                )
        except Exception as exc:
            if self._backend.is_conflict(exc):
                raise StoreError(
                    f"prediction-log segments of '{model}' were monitored by another process "
                    "meanwhile; this window was not recorded (run `noria monitor` again)"
                ) from None
            raise
        return int(window_id)

    def windows(self, model: str, limit: int = 50) -> list[dict[str, Any]]:
        """The latest monitored windows of ``model``, newest first."""
        rows = self.read(
            f"SELECT {_WINDOW_COLUMNS} FROM monitor_windows WHERE model = :m "
            "ORDER BY id DESC LIMIT :n",
            {"m": model, "n": limit},
        )
        keys = ("id", "created_at", "first_time", "last_time", "rows")
        out = []
        for row in rows:
            record: dict[str, Any] = dict(zip(keys, row[:5], strict=True))
            record["versions"] = orjson.loads(row[5])
            record["status"] = row[6]
            record["drifted"] = orjson.loads(row[7])
            record["report_artifact"] = row[8]
            out.append(record)
        return out
