"""Runs and the cache: runs, step runs, artifacts' records, lineage, cache entries, file hashes.

What the pipeline engine writes and reads: a run and its step runs, which artifact each step
consumed and produced, the fingerprint → artifact cache, and the content hashes of source files
(the size+mtime fast path of fingerprints). SQL only; no pipeline logic.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping, Sequence
from typing import Any

from noria.errors import NotFoundError
from noria.store.backend import ConcernStore, Connection, in_list, redact
from noria.store.records import RUN_COLUMNS, STEP_COLUMNS, RunRecord, StepRunRecord, current_user

__all__ = ["RunStore"]


class RunStore(ConcernStore):
    """Runs, step runs, artifacts' records, lineage, the cache and file hashes."""

    # ----------------------------------------------------------------- runs

    def create_run(
        self,
        run_id: str,
        *,
        name: str,
        kind: str,
        pipeline: str | None = None,
        parent_id: str | None = None,
        started_at: float | None = None,
    ) -> None:
        """Insert a run in state ``running``."""
        self._backend.write_one(
            "INSERT INTO runs (id, name, pipeline, kind, parent_id, status, started_at, pid, "
            "host, owner) VALUES (:id, :name, :pipeline, :kind, :parent_id, 'running', "
            ":started_at, :pid, :host, :owner)",
            {
                "id": run_id,
                "name": name,
                "pipeline": pipeline,
                "kind": kind,
                "parent_id": parent_id,
                "started_at": started_at if started_at is not None else time.time(),
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "owner": current_user(),
            },
        )

    def get_run(self, run_id: str) -> RunRecord:
        """The run with this id, or with an id that starts with it (at least 4 characters).

        Raises:
            NotFoundError: no run, or an ambiguous prefix.
        """
        rows = self.read(f"SELECT {RUN_COLUMNS} FROM runs WHERE id = :id", {"id": run_id})
        if not rows and len(run_id) >= 4:
            rows = self.read(
                f"SELECT {RUN_COLUMNS} FROM runs WHERE id LIKE :prefix LIMIT 2",
                {"prefix": run_id.replace("%", "").replace("_", "") + "%"},
            )
            if len(rows) > 1:
                raise NotFoundError(f"run id prefix '{run_id}' is ambiguous: give more characters")
        if not rows:
            raise NotFoundError(
                f"no run '{run_id}' in {redact(self.url)}: `noria runs` lists the runs"
            )
        return RunRecord(*rows[0])

    def list_runs(
        self, *, limit: int = 50, parent_id: str | None = None, kind: str | None = None
    ) -> list[RunRecord]:
        """The newest runs first, top-level ones unless ``parent_id`` is given."""
        where = ["parent_id = :parent" if parent_id else "parent_id IS NULL"]
        if kind:
            where.append("kind = :kind")
        rows = self.read(
            f"SELECT {RUN_COLUMNS} FROM runs WHERE {' AND '.join(where)} "
            "ORDER BY started_at DESC LIMIT :limit",
            {"parent": parent_id, "kind": kind, "limit": limit},
        )
        return [RunRecord(*r) for r in rows]

    def insert_runs(self, tx: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert finished runs at once (a search's trials), inside ``tx``.

        Each row has ``id, name, kind, parent_id, status, started_at, ended_at`` and optionally
        ``error``.
        """
        tx.executemany(
            "INSERT INTO runs (id, name, pipeline, kind, parent_id, status, started_at, ended_at, "
            "error, pid, host, owner) VALUES (:id, :name, NULL, :kind, :parent_id, :status, "
            ":started_at, :ended_at, :error, :pid, :host, :owner)",
            [
                {
                    "error": None,
                    **r,
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "owner": current_user(),
                }
                for r in rows
            ],
        )

    def finish_run(
        self,
        tx: Connection,
        run_id: str,
        *,
        status: str,
        error: str | None = None,
        ended_at: float | None = None,
    ) -> None:
        """Mark a run finished, inside the caller's transaction ``tx``."""
        tx.execute(
            "UPDATE runs SET status = :status, ended_at = :ended_at, error = :error WHERE id = :id",
            {
                "id": run_id,
                "status": status,
                "error": error,
                "ended_at": ended_at if ended_at is not None else time.time(),
            },
        )

    def mark_abandoned_runs(self) -> int:
        """Mark runs of this host whose process is gone as ``interrupted``; returns how many.

        A run killed with SIGKILL cannot mark itself; the next open of the store does.
        """
        host = socket.gethostname()
        rows = self.read(
            "SELECT id, pid FROM runs WHERE status = 'running' AND host = :host", {"host": host}
        )
        dead = [run_id for run_id, pid in rows if pid is not None and not _alive(pid)]
        if dead:
            with self.write() as tx:
                for run_id in dead:
                    self.finish_run(tx, run_id, status="interrupted", error="process ended")
        return len(dead)

    # ----------------------------------------------------------------- steps, artifacts, cache

    def step_runs(self, run_id: str) -> list[StepRunRecord]:
        """The step runs of a run, in the order they started."""
        rows = self.read(
            f"SELECT {STEP_COLUMNS} FROM step_runs WHERE run_id = :run ORDER BY started_at, id",
            {"run": run_id},
        )
        return [StepRunRecord(*r) for r in rows]

    def step_counts(self, run_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """For each run, how many step runs ended in each status."""
        if not run_ids:
            return {}
        marks, params = in_list(run_ids, "r")
        rows = self.read(
            f"SELECT run_id, status, COUNT(*) FROM step_runs WHERE run_id IN ({marks}) "
            "GROUP BY run_id, status",
            params,
        )
        out: dict[str, dict[str, int]] = {}
        for run_id, status, count in rows:
            out.setdefault(run_id, {})[status] = int(count)
        return out

    def insert_step_runs(self, tx: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert step runs (dicts with every column of ``step_runs``)."""
        tx.executemany(
            "INSERT INTO step_runs (id, run_id, step, fingerprint, status, started_at, ended_at, "
            "duration, attempts, error, output_artifact, cached_from) VALUES (:id, :run_id, "
            ":step, :fingerprint, :status, :started_at, :ended_at, :duration, :attempts, :error, "
            ":output_artifact, :cached_from)",
            rows,
        )

    def insert_artifacts(self, tx: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Record artifacts (id, materializer, type_name, size, created_at); known ids are kept."""
        # in key order: two concurrent writers take row locks in one order (no deadlock)
        tx.executemany(
            "INSERT INTO artifacts (id, materializer, type_name, size, created_at) VALUES "
            "(:id, :materializer, :type_name, :size, :created_at) ON CONFLICT (id) DO NOTHING",
            sorted(rows, key=lambda r: r["id"]),
        )

    def insert_lineage(self, tx: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Record which step run consumed (``in``) and produced (``out``) which artifact."""
        tx.executemany(
            "INSERT INTO lineage (step_run_id, direction, name, artifact_id) VALUES "
            "(:step_run_id, :direction, :name, :artifact_id)",
            rows,
        )

    def insert_cache(self, tx: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Map fingerprints to the artifact and the step run that produced it."""
        tx.executemany(
            "INSERT INTO cache (fingerprint, step, artifact_id, step_run_id, created_at) VALUES "
            "(:fingerprint, :step, :artifact_id, :step_run_id, :created_at) "
            "ON CONFLICT (fingerprint) DO UPDATE SET artifact_id = excluded.artifact_id, "
            "step_run_id = excluded.step_run_id, created_at = excluded.created_at",
            sorted(rows, key=lambda r: r["fingerprint"]),
        )

    def lookup_cache(self, fingerprint: str) -> tuple[str, str, str] | None:
        """``(artifact_id, materializer, step_run_id)`` cached for a fingerprint, or ``None``."""
        rows = self.read(
            "SELECT c.artifact_id, a.materializer, c.step_run_id FROM cache c "
            "JOIN artifacts a ON a.id = c.artifact_id WHERE c.fingerprint = :fp",
            {"fp": fingerprint},
        )
        return (rows[0][0], rows[0][1], rows[0][2]) if rows else None

    def artifact(self, artifact_id: str) -> dict[str, Any]:
        """The record of an artifact: id, materializer, type_name, size, created_at."""
        rows = self.read(
            "SELECT id, materializer, type_name, size, created_at FROM artifacts WHERE id = :id",
            {"id": artifact_id},
        )
        if not rows:
            raise NotFoundError(f"no artifact '{artifact_id}' in {redact(self.url)}")
        keys = ("id", "materializer", "type_name", "size", "created_at")
        return dict(zip(keys, rows[0], strict=True))

    def lineage_of_run(self, run_id: str) -> list[tuple[str, str, str, str]]:
        """``(step, direction, name, artifact_id)`` for every step run of a run."""
        return [
            (r[0], r[1], r[2], r[3])
            for r in self.read(
                "SELECT s.step, l.direction, l.name, l.artifact_id FROM lineage l "
                "JOIN step_runs s ON s.id = l.step_run_id WHERE s.run_id = :run "
                "ORDER BY s.started_at, l.direction, l.name",
                {"run": run_id},
            )
        ]

    def producers_of(self, artifact_id: str) -> list[tuple[str, str]]:
        """``(run_id, step)`` of the step runs that produced an artifact (oldest first)."""
        rows = self.read(
            "SELECT s.run_id, s.step FROM lineage l JOIN step_runs s ON s.id = l.step_run_id "
            "WHERE l.artifact_id = :a AND l.direction = 'out' AND s.status = 'completed' "
            "ORDER BY s.started_at",
            {"a": artifact_id},
        )
        return [(r[0], r[1]) for r in rows]

    # ----------------------------------------------------------------- file hashes

    def file_hash(self, path: str, size: int, mtime_ns: int) -> str | None:
        """The remembered content hash of a file with this size and mtime, if any."""
        rows = self.read(
            "SELECT hash FROM file_hashes WHERE path = :p AND size = :s AND mtime_ns = :m",
            {"p": path, "s": size, "m": mtime_ns},
        )
        return rows[0][0] if rows else None

    def remember_file_hash(self, path: str, size: int, mtime_ns: int, digest: str) -> None:
        """Remember a file's content hash for the size+mtime fast path."""
        self._backend.write_one(
            "INSERT INTO file_hashes (path, size, mtime_ns, hash) VALUES (:p, :s, :m, :h) "
            "ON CONFLICT (path) DO UPDATE SET size = excluded.size, "
            "mtime_ns = excluded.mtime_ns, hash = excluded.hash",
            {"p": path, "s": size, "m": mtime_ns, "h": digest},
        )


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
