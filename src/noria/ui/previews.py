"""Previews of artifacts: the first rows of a table, JSON pretty-printed, an array's head.

A preview never runs code from an artifact: Parquet is read by PyArrow (only the first row group
batch is decoded), JSON by orjson, NumPy arrays with ``allow_pickle=False``; joblib and pickle
artifacts (models, splits) are listed with their type and size and offered for download only,
since unpickling executes whatever the file says. What is shown is bounded: at most
``ROWS`` rows and ``COLUMNS`` columns of a table, ``JSON_CHARS`` characters of JSON, and every
value is escaped by the template.

Not here: the download itself (:mod:`noria.ui.app`), the data pages (:mod:`noria.ui.datapages`).
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Any

import orjson

from noria.errors import NotFoundError

if TYPE_CHECKING:
    from noria.ui.pages import Dashboard

__all__ = ["COLUMNS", "JSON_CHARS", "ROWS", "preview"]

ROWS = 50
COLUMNS = 60
JSON_CHARS = 60_000
PREVIEWABLE = frozenset({"parquet", "json", "npy"})


def preview(d: Dashboard, artifact_id: str) -> tuple[str, dict[str, Any], int]:
    """The preview page of an artifact.

    Raises:
        NotFoundError: an unknown artifact id.
    """
    record = d.store.artifact(artifact_id)
    producers = d.store.read(
        "SELECT s.run_id, s.step, l.name, r.name FROM lineage l JOIN step_runs s "
        "ON s.id = l.step_run_id JOIN runs r ON r.id = s.run_id WHERE l.artifact_id = :a "
        "AND l.direction = 'out' ORDER BY s.started_at DESC LIMIT 10",
        {"a": artifact_id},
    )
    ctx: dict[str, Any] = {
        "artifact": record,
        "producers": producers,
        "table": None,
        "json": None,
        "array": None,
        "note": None,
    }
    kind = record["materializer"]
    if kind not in PREVIEWABLE:
        ctx["note"] = (
            f"a {kind} artifact ({record['type_name']}) is not previewed: loading it would run "
            "code from the file; download it to open it where you trust it"
        )
        return "artifact.html.j2", ctx, 200
    try:
        data = d.project.artifacts.get(artifact_id)
    except FileNotFoundError:
        message = f"artifact '{artifact_id[:40]}' is recorded but its file is gone"
        raise NotFoundError(message) from None
    if kind == "parquet":
        ctx["table"] = table_head(data)
    elif kind == "json":
        ctx["json"] = json_text(data)
    else:
        ctx["array"] = array_head(data)
    return "artifact.html.j2", ctx, 200


def table_head(data: bytes, rows: int = ROWS, columns: int = COLUMNS) -> dict[str, Any]:
    """``{"columns", "types", "rows", "total", "more_columns"}`` of a Parquet file's first rows."""
    import pyarrow.parquet as pq

    file = pq.ParquetFile(io.BytesIO(data))
    names = file.schema_arrow.names
    shown = names[:columns]
    batch = next(file.iter_batches(batch_size=rows, columns=shown), None)
    body = batch.to_pylist() if batch is not None else []
    types = {f.name: str(f.type) for f in file.schema_arrow if f.name in shown}
    return {
        "columns": shown,
        "types": types,
        "rows": [[_cell(r.get(c)) for c in shown] for r in body],
        "total": file.metadata.num_rows,
        "more_columns": len(names) - len(shown),
    }


def _cell(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    return value


def json_text(data: bytes, limit: int = JSON_CHARS) -> dict[str, Any]:
    """``{"text", "truncated", "chars"}``: the JSON indented, cut at ``limit`` characters."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        text = data[:limit].decode("utf-8", "replace")
        return {"text": text, "truncated": len(data) > limit, "chars": len(data)}
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    return {"text": text[:limit], "truncated": len(text) > limit, "chars": len(text)}


def array_head(data: bytes, items: int = 200) -> dict[str, Any]:
    """``{"shape", "dtype", "head"}`` of a ``.npy`` array (no pickled objects)."""
    import numpy as np

    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:  # an object array: it would need pickle
        return {"shape": "?", "dtype": "object", "head": f"not shown ({exc})"}
    flat = array.reshape(-1)[:items].tolist()
    return {"shape": " × ".join(map(str, array.shape)), "dtype": str(array.dtype), "head": flat}
