"""The records read from the metadata store: frozen dataclasses, and how JSON values are kept.

Nothing here touches a database; the concern stores (:mod:`noria.store.run_store`, …) build
these records from rows.
"""

from __future__ import annotations

import functools
import getpass
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = ["ModelVersion", "RunRecord", "StepRunRecord", "current_user", "dumps"]

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One execution of a pipeline, a manual tracking run or a search trial."""

    id: str
    name: str
    pipeline: str | None
    kind: str
    parent_id: str | None
    status: str
    started_at: float
    ended_at: float | None
    error: str | None
    pid: int | None
    host: str | None
    owner: str | None

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, or ``None`` while it runs."""
        return None if self.ended_at is None else self.ended_at - self.started_at


@dataclass(frozen=True, slots=True)
class StepRunRecord:
    """One execution (or cache hit) of a step inside a run."""

    id: str
    run_id: str
    step: str
    fingerprint: str | None
    status: str
    started_at: float | None
    ended_at: float | None
    duration: float | None
    attempts: int
    error: str | None
    output_artifact: str | None
    cached_from: str | None


@dataclass(frozen=True, slots=True)
class ModelVersion:
    """A registered model: an artifact with its signature, metrics, params and lineage."""

    name: str
    version: int
    artifact_id: str
    run_id: str | None
    signature: list[dict[str, Any]]
    metrics: dict[str, float]
    params: dict[str, Any]
    description: str | None
    created_at: float


RUN_COLUMNS = (
    "id, name, pipeline, kind, parent_id, status, started_at, ended_at, error, pid, host, owner"
)
STEP_COLUMNS = (
    "id, run_id, step, fingerprint, status, started_at, ended_at, duration, attempts, error, "
    "output_artifact, cached_from"
)
MODEL_COLUMNS = (
    "name, version, artifact_id, run_id, signature, metrics, params, description, created_at"
)


def model_from_row(row: Row) -> ModelVersion:
    """A :class:`ModelVersion` from a row of :data:`MODEL_COLUMNS`."""
    return ModelVersion(
        name=row[0],
        version=int(row[1]),
        artifact_id=row[2],
        run_id=row[3],
        signature=orjson.loads(row[4]),
        metrics=orjson.loads(row[5]),
        params=orjson.loads(row[6]),
        description=row[7],
        created_at=row[8],
    )


def dumps(value: Any) -> str:
    """JSON text of ``value`` as the store keeps it (sorted keys; numpy scalars allowed)."""
    return orjson.dumps(
        value, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY, default=str
    ).decode()


@functools.lru_cache(maxsize=1)
def current_user() -> str:
    """The login name recorded as a run's owner and an audit event's actor."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
