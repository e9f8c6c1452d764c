"""The Data pages: each data version, its profile, its schema and its validation.

A **data version** is the artifact the ``raw_data`` step of a pipeline run produced: its id is
the content hash of the data, so runs on the same data share it. Everything shown is what the runs
recorded: the ``data_profile`` step's JSON artifact (per column: counts, nulls, distinct values,
range, mean, quantiles, a histogram or the top values), the validation verdict of the
``validated_data`` step (the ``validation_passed`` tag, the error and warning counts, the rows
rejected or quarantined, the quarantined rows themselves when the policy kept them), and the
schema file of the project.

The failed checks with their example rows are computed on demand (``?check=1``): the version is
validated again against the project's *current* schema and ``validation.checks`` (the pipeline
keeps the verdict and the counts, not the failing rows), which loads pandas and DuckDB into the
dashboard process for that request only.

Not here: the other pages (:mod:`noria.ui.pages`), previews of artifacts (:mod:`noria.ui.previews`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from noria.errors import NoriaError, NotFoundError
from noria.ui import svg

if TYPE_CHECKING:
    from noria.ui.pages import Dashboard

__all__ = ["data_version", "data_versions"]

Page = tuple[str, dict[str, Any], int]
_OUTPUT_OF = (
    "SELECT s.run_id, s.started_at, l.artifact_id FROM step_runs s JOIN lineage l "
    "ON l.step_run_id = s.id AND l.direction = 'out' AND l.name = :name "
    "WHERE s.step = :step AND s.run_id IN ({runs})"
)
_VALIDATION_METRICS = (
    "validation_errors",
    "validation_warnings",
    "rows_raw",
    "rows_rejected",
    "rows_quarantined",
    "rows_valid",
)


def data_versions(d: Dashboard, limit: int = 500) -> Page:
    """Every data version (newest first) with its runs, rows and latest validation verdict."""
    store = d.store
    rows = store.read(
        "SELECT l.artifact_id, MIN(s.started_at), MAX(s.started_at), COUNT(DISTINCT s.run_id), "
        "a.size FROM step_runs s JOIN lineage l ON l.step_run_id = s.id AND l.direction = 'out' "
        "AND l.name = 'output' LEFT JOIN artifacts a ON a.id = l.artifact_id "
        "WHERE s.step = 'raw_data' GROUP BY l.artifact_id, a.size "
        "ORDER BY MAX(s.started_at) DESC LIMIT :n",
        {"n": limit},
    )
    versions = []
    for artifact_id, first, last, runs, size in rows:
        latest = _latest_run(d, artifact_id)
        verdict = store.tags(latest).get("validation_passed") if latest else None
        versions.append(
            {
                "id": artifact_id,
                "first": first,
                "last": last,
                "runs": int(runs),
                "size": size,
                "run": latest,
                "passed": verdict,
                "metrics": _run_metrics(d, latest),
            }
        )
    return "data.html.j2", {"versions": versions}, 200


def _latest_run(d: Dashboard, artifact_id: str) -> str | None:
    rows = d.store.read(
        "SELECT s.run_id FROM lineage l JOIN step_runs s ON s.id = l.step_run_id "
        "WHERE l.artifact_id = :a AND l.direction = 'out' AND s.step = 'raw_data' "
        "ORDER BY s.started_at DESC LIMIT 1",
        {"a": artifact_id},
    )
    return rows[0][0] if rows else None


def _run_metrics(d: Dashboard, run_id: str | None) -> dict[str, float]:
    if run_id is None:
        return {}
    from noria.ui.queries import latest

    return latest(d.store, [run_id], _VALIDATION_METRICS).get(run_id, {})


def data_version(d: Dashboard, artifact_id: str, q: Mapping[str, str]) -> Page:
    """One data version: its profile, the schema, the validations the runs recorded, and on
    demand (``?check=1``) the failed checks with examples."""
    if not re.fullmatch(r"[0-9a-f]{16,128}", artifact_id):
        raise NotFoundError(f"no data version '{artifact_id[:80]}'")
    store = d.store
    runs = store.read(
        "SELECT s.run_id, r.name, r.status, s.started_at FROM lineage l JOIN step_runs s "
        "ON s.id = l.step_run_id JOIN runs r ON r.id = s.run_id WHERE l.artifact_id = :a "
        "AND l.direction = 'out' AND s.step = 'raw_data' ORDER BY s.started_at DESC LIMIT 200",
        {"a": artifact_id},
    )
    if not runs:
        raise NotFoundError(f"no data version '{artifact_id[:80]}' (no run read it)")
    record = store.artifact(artifact_id)
    run_ids = [r[0] for r in runs]
    profile, profile_id = _profile(d, run_ids)
    columns = []
    for c in (profile or {}).get("columns", []):
        columns.append({**_column_row(c), "chart": _column_chart(c)})
    validations = []
    for run_id, name, status, started in runs[:20]:
        tags = store.tags(run_id)
        validations.append(
            {
                "run": run_id,
                "name": name,
                "status": status,
                "started": started,
                "passed": tags.get("validation_passed"),
                "quarantine": tags.get("quarantine_artifact"),
                "metrics": _run_metrics(d, run_id),
            }
        )
    ctx: dict[str, Any] = {
        "id": artifact_id,
        "artifact": record,
        "runs": runs,
        "profile": profile,
        "profile_id": profile_id,
        "columns": columns,
        "schema": _schema(d),
        "validations": validations,
        "check": None,
        "check_error": None,
    }
    if q.get("check") == "1":
        try:
            ctx["check"] = _check_now(d, artifact_id)
        except NoriaError as exc:
            ctx["check_error"] = str(exc)
    return "data_version.html.j2", ctx, 200


def _profile(d: Dashboard, run_ids: list[str]) -> tuple[dict[str, Any] | None, str | None]:
    """The ``data_profile`` output of the newest of these runs that has one."""
    marks = ", ".join(f":r{i}" for i in range(len(run_ids)))
    binds = {f"r{i}": r for i, r in enumerate(run_ids)}
    rows = d.store.read(
        _OUTPUT_OF.format(runs=marks) + " ORDER BY s.started_at DESC LIMIT 1",
        {**binds, "step": "data_profile", "name": "output"},
    )
    if not rows:
        return None, None
    try:
        return orjson.loads(d.project.artifacts.get(rows[0][2])), rows[0][2]
    except (NoriaError, OSError, orjson.JSONDecodeError):
        return None, rows[0][2]


def _column_row(c: Mapping[str, Any]) -> dict[str, Any]:
    count = c.get("count") or 0
    nulls = c.get("nulls") or 0
    quantiles = c.get("quantiles") or {}
    return {
        "name": c.get("name"),
        "kind": c.get("kind"),
        "dtype": c.get("dtype"),
        "count": count,
        "nulls": nulls,
        "null_share": nulls / count if count else 0.0,
        "distinct": c.get("distinct"),
        "min": c.get("min"),
        "max": c.get("max"),
        "mean": c.get("mean"),
        "std": c.get("std"),
        "p50": quantiles.get("p50"),
        "top": [(str(v), n) for v, n in (c.get("values") or [])[:5]],
    }


def _column_chart(c: Mapping[str, Any]) -> Any:
    hist = c.get("hist")
    if isinstance(hist, dict) and hist.get("counts"):
        start, step = float(hist.get("start", 0.0)), float(hist.get("step", 1.0))
        bars = [
            (f"{start + i * step:.4g} – {start + (i + 1) * step:.4g}", n)
            for i, n in enumerate(hist["counts"])
        ]
        return svg.bars(bars, str(c.get("name")))
    values = c.get("values") or []
    if values:
        return svg.bars([(str(v), n) for v, n in values[:12]], str(c.get("name")))
    return ""


def _schema(d: Dashboard) -> dict[str, Any] | None:
    """The project's schema file, as its columns and table rules (``None`` without one)."""
    try:
        spec = d.project.spec
    except NoriaError as exc:
        return {"error": str(exc), "columns": [], "file": "noria.yaml"}
    name = spec.validation.schema_file if spec is not None else "noria.schema.yaml"
    path = d.project.root / name
    if not path.is_file():
        return None
    from noria.data.schema import load_schema

    try:
        schema = load_schema(path)
    except NoriaError as exc:
        return {"error": str(exc), "columns": [], "file": name}
    data = schema.to_dict()
    columns = data.get("columns", {})
    listed = [{"name": k, **v} for k, v in columns.items()] if isinstance(columns, dict) else []
    rules = {k: v for k, v in data.items() if k != "columns"}
    return {"file": name, "columns": listed, "rules": rules, "error": None}


def _check_now(d: Dashboard, artifact_id: str) -> dict[str, Any]:
    """Validate the version against the current schema and checks: the result's dict."""
    import io

    import pandas as pd

    from noria.data.schema import load_schema
    from noria.data.validate import parse_checks, validate_frame

    record = d.store.artifact(artifact_id)
    if record.get("materializer") != "parquet":
        raise NotFoundError(f"data version {artifact_id[:12]} is not a table")
    frame = pd.read_parquet(io.BytesIO(d.project.artifacts.get(artifact_id)))
    spec = d.project.spec
    schema = None
    checks: list[dict[str, Any]] = []
    if spec is not None:
        path = d.project.root / spec.validation.schema_file
        schema = load_schema(path) if path.is_file() else None
        checks = spec.validation.check_dicts()
    result = validate_frame(frame, schema, parse_checks(checks)).to_dict()
    result["failed"] = [c for c in result["checks"] if not c["passed"]]
    return result
