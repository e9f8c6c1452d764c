"""The prediction log, read exactly once: which segments are new, and recording them as read.

The server writes ``.noria/predictions/<model>/segment-<time>-<hash>.parquet`` segments that are
never rewritten (:mod:`noria.predlog`); a name holds the hash of the segment's bytes and is
never reused, so recording a name records that content: a segment deleted by a clean-up and a
new one written after a restart never share a name (older versions numbered segments
``segment-NNNNNN.parquet`` from zero in each empty folder, and a new segment could take the name of
a consumed one: it was never monitored). The metadata store's ``monitor_segments`` table records
every segment a monitor window consumed; :func:`commit_window` inserts the window and its
segments in one transaction. So a monitor killed at any moment (``kill -9`` included) has either
recorded a window with all of its segments or nothing at all, and the next run reads exactly the
segments no window holds: nothing is lost, nothing is counted twice. Two monitors running at
once cannot both record a segment either (it is the table's primary key): the second one's
commit fails and is reported, never doubled.

A segment that cannot be read (cut off mid-write by a crash of a writer that did not use the
temporary-name protocol, a half-copied file) is skipped with a warning and stays unread: it is
picked up by a later run once it is complete.

Not here: the log's folder, names and reading (:mod:`noria.predlog`; :class:`Segment`,
:func:`log_folder`, :func:`segment_paths`, :func:`read_segments` and :func:`split_windows` are
re-exported here), what a window is judged by (:mod:`noria.monitor.monitor`), labels
(:mod:`noria.monitor.labels`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from noria.errors import StoreError
from noria.predlog.layout import log_folder, segment_paths
from noria.predlog.reader import Segment, read_segments, split_windows

if TYPE_CHECKING:
    from noria.store.metadata import MetadataStore

__all__ = [
    "Segment",
    "commit_window",
    "log_folder",
    "pending_segments",
    "read_segments",
    "segment_paths",
    "split_windows",
    "window_of_segments",
    "windows",
]


def pending_segments(metadata: MetadataStore, folder: Path, model: str) -> list[str]:
    """Names of the segments of ``folder`` that no monitor window has consumed, oldest first."""
    if not folder.is_dir():
        return []
    done = {
        name
        for (name,) in metadata.read(
            "SELECT segment FROM monitor_segments WHERE model = :m", {"m": model}
        )
    }
    return [p.name for p in segment_paths(folder) if p.name not in done]


def commit_window(
    metadata: MetadataStore,
    *,
    model: str,
    segments: Sequence[Segment],
    versions: Sequence[int],
    status: str,
    drifted: Sequence[str],
    report_artifact: str,
    first_time: float | None,
    last_time: float | None,
) -> int:
    """Record a monitored window and the segments it consumed, atomically; the window's id.

    Raises:
        StoreError: one of the segments was recorded by another monitor meanwhile (nothing is
            written then).
    """
    from noria.store.metadata import dumps

    rows = sum(s.rows for s in segments)
    try:
        with metadata.write() as tx:
            tx.execute(
                "INSERT INTO monitor_windows (model, created_at, first_time, last_time, rows, "
                "versions, status, drifted, report_artifact) VALUES (:model, :created, :first, "
                ":last, :rows, :versions, :status, :drifted, :report)",
                {
                    "model": model,
                    "created": time.time(),
                    "first": first_time,
                    "last": last_time,
                    "rows": rows,
                    "versions": dumps(sorted(set(int(v) for v in versions))),
                    "status": status,
                    "drifted": dumps(list(drifted)),
                    "report": report_artifact,
                },
            )
            (window_id,) = tx.execute(
                "SELECT MAX(id) FROM monitor_windows WHERE model = :m", {"m": model}
            )[0]
            tx.executemany(
                "INSERT INTO monitor_segments (model, segment, window_id, rows) "
                "VALUES (:model, :segment, :window, :rows)",
                [
                    {"model": model, "segment": s.name, "window": window_id, "rows": s.rows}
                    for s in segments
                ],
            )
    except Exception as exc:
        if "UNIQUE" in str(exc).upper() or "DUPLICATE" in str(exc).upper():
            raise StoreError(
                f"prediction-log segments of '{model}' were monitored by another process "
                "meanwhile; this window was not recorded (run `noria monitor` again)"
            ) from None
        raise
    return int(window_id)


def window_of_segments(metadata: MetadataStore, model: str) -> dict[str, int]:
    """``{segment name: window id}`` of every consumed segment of ``model``."""
    return {
        name: int(window)
        for name, window in metadata.read(
            "SELECT segment, window_id FROM monitor_segments WHERE model = :m", {"m": model}
        )
    }


def windows(metadata: MetadataStore, model: str, limit: int = 50) -> list[dict[str, Any]]:
    """The latest monitored windows of ``model``, newest first."""
    import orjson

    rows = metadata.read(
        "SELECT id, created_at, first_time, last_time, rows, versions, status, drifted, "
        "report_artifact FROM monitor_windows WHERE model = :m ORDER BY id DESC LIMIT :n",
        {"m": model, "n": limit},
    )
    keys = ("id", "created_at", "first_time", "last_time", "rows", "versions", "status")
    out = []
    for row in rows:
        record = dict(zip(keys, row[:7], strict=True))
        record["versions"] = orjson.loads(record["versions"])
        record["drifted"] = orjson.loads(row[7])
        record["report_artifact"] = row[8]
        out.append(record)
    return out
