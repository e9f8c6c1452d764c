"""MLflow's scoring protocol: ``POST /invocations``, as ``mlflow models serve`` answers it.

The body is one of ``dataframe_split`` (``{"columns", "data", "index"?}``), ``dataframe_records``
(a list of records), ``instances`` or ``inputs`` (records, rows of values in signature order, or a
mapping of columns), with optional ``params`` (an object, accepted and unused). The answer is
``{"predictions": [...]}``; errors are ``{"error_code", "message"}``.

Not here: the checks of values against the signature (:mod:`noria.serve.schema`), the HTTP
plumbing (:mod:`noria.serve.wire`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from noria.errors import DataError
from noria.serve.wire import exchange, only, parse_json, read_body

if TYPE_CHECKING:
    from noria.serve.app import Server
    from noria.serve.openapi import Shapes
    from noria.serve.predictor import Predictor
    from noria.serve.schema import Columns

__all__ = ["add_routes", "mlflow_columns", "request_schema"]

KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")


def mlflow_columns(payload: Any) -> Callable[[Predictor], Columns]:
    """Columns from MLflow's ``/invocations`` payloads."""
    only(payload, (*KEYS, "params"))
    given = [k for k in KEYS if k in payload]
    if len(given) != 1:
        raise DataError(
            "body: send exactly one of "
            + ", ".join(KEYS)
            + (f" (got {', '.join(given)})" if given else "")
        )
    if "params" in payload and not isinstance(payload["params"], dict):
        raise DataError("params: expected an object of parameters")
    key = given[0]
    value = payload[key]
    if key == "dataframe_split":
        if not isinstance(value, dict):
            raise DataError("dataframe_split: expected an object with columns and data")
        only(value, ("columns", "data", "index"), where="dataframe_split")
        if "columns" not in value or "data" not in value:
            raise DataError("dataframe_split: needs 'columns' and 'data'")
        if "index" in value and not isinstance(value["index"], list):
            raise DataError("dataframe_split.index: expected a list")
        return lambda p: p.signature.from_split(
            value["columns"], value["data"], where="dataframe_split."
        )
    if key == "dataframe_records":
        return lambda p: p.signature.from_records(value, where="dataframe_records")
    if isinstance(value, dict):
        return lambda p: p.signature.from_mapping(value, where=key)
    if isinstance(value, list) and value and isinstance(value[0], list):
        return lambda p: p.signature.from_rows(value, where=key)
    return lambda p: p.signature.from_records(value, where=key)


def request_schema(shapes: Shapes) -> dict[str, Any]:
    """``/invocations``' body as JSON Schema, for the served model's columns."""
    split = dict(shapes.split_body)
    split["properties"] = {**split["properties"], "index": {"type": "array"}}
    params = {"type": "object"}

    def one(key: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {key: schema, "params": params},
            "required": [key],
            "additionalProperties": False,
        }

    return {
        "oneOf": [
            one("dataframe_split", split),
            one("dataframe_records", shapes.records),
            one("instances", {"anyOf": [shapes.records, shapes.rows, shapes.mapping]}),
            one("inputs", {"anyOf": [shapes.records, shapes.mapping]}),
        ]
    }


def add_routes(app: Any, server: Server) -> Callable[[Request], Any]:
    """Add ``POST /invocations`` to ``app`` and return its endpoint (answered before routing)."""

    @app.post("/invocations", summary="MLflow scoring protocol")
    async def invocations(request: Request) -> Response:
        async def work(request_id: str, started: float) -> bytes:
            payload = parse_json(await read_body(request, server.max_body))
            columns_of = mlflow_columns(payload)
            _, result = await server.run(columns_of, request_id, started)
            return orjson.dumps({"predictions": result.predictions})

        return await exchange(server, request, "/invocations", "mlflow", work)

    return invocations
