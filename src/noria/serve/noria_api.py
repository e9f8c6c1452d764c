"""noria's own wire protocol: ``POST /predict`` and ``GET /model``.

``POST /predict`` takes ``{"records": [{column: value, …}, …]}`` or ``{"columns": [...],
"data": [[...], …]}`` and answers ``{"predictions", "probabilities", "classes", "model",
"version", "request_id"}`` (the last three for classifiers only: ``probabilities`` and
``classes``). Errors are ``{"error": {"status", "message"}}``.

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
    from noria.serve.predictor import Prediction, Predictor
    from noria.serve.schema import Columns

__all__ = ["add_routes", "noria_body", "noria_columns", "request_schema", "response_schema"]


def noria_columns(payload: Any) -> Callable[[Predictor], Columns]:
    """Columns from ``/predict``'s body: records, or columns + data."""
    only(payload, ("records", "columns", "data"))
    if "records" in payload:
        if "columns" in payload or "data" in payload:
            raise DataError("body: send either 'records' or 'columns' with 'data', not both")
        records = payload["records"]
        return lambda p: p.signature.from_records(records)
    if "columns" in payload and "data" in payload:
        return lambda p: p.signature.from_split(payload["columns"], payload["data"])
    missing = "data" if "columns" in payload else "columns" if "data" in payload else "records"
    raise DataError(
        f"body: missing field '{missing}'; send {{\"records\": [...]}} or "
        '{"columns": [...], "data": [[...]]}'
    )


def noria_body(predictor: Predictor, result: Prediction, request_id: str) -> bytes:
    """``/predict``'s answer."""
    body: dict[str, Any] = {
        "predictions": result.predictions,
        "model": predictor.name,
        "version": predictor.version,
        "request_id": request_id,
    }
    if result.probabilities is not None:
        body["classes"] = predictor.classes
        body["probabilities"] = result.probabilities
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


def request_schema(shapes: Shapes) -> dict[str, Any]:
    """``/predict``'s body as JSON Schema, for the served model's columns."""
    return {"oneOf": [shapes.records_body, shapes.split_body]}


def response_schema(predictor: Predictor) -> dict[str, Any]:
    """``/predict``'s answer as JSON Schema."""
    properties: dict[str, Any] = {
        "predictions": {"type": "array"},
        "model": {"type": "string"},
        "version": {"type": "integer"},
        "request_id": {"type": "string"},
    }
    if predictor.classes:
        properties["classes"] = {"type": "array"}
        properties["probabilities"] = {
            "type": "array",
            "items": {"type": "array", "items": {"type": "number"}},
        }
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
    }


def add_routes(app: Any, server: Server) -> Callable[[Request], Any]:
    """Add ``POST /predict`` and ``GET /model`` to ``app``; the predict endpoint is returned
    (the app answers it before FastAPI's routing)."""

    @app.post("/predict", summary="Predict a batch of rows")
    async def predict(request: Request) -> Response:
        async def work(request_id: str, started: float) -> bytes:
            payload = parse_json(await read_body(request, server.max_body))
            columns_of = noria_columns(payload)
            predictor, result = await server.run(columns_of, request_id, started)
            return noria_body(predictor, result, request_id)

        return await exchange(server, request, "/predict", "noria", work)

    @app.get("/model", summary="The model being served: name, version, signature")
    async def model(request: Request) -> Response:
        async def work(request_id: str, started: float) -> bytes:
            p = server.ready_predictor()
            return orjson.dumps(
                {
                    "model": p.name,
                    "version": p.version,
                    "alias": server.alias,
                    "path": p.path,
                    "task": p.task,
                    "classes": p.classes,
                    "signature": p.model_version.signature,
                    "metrics": p.model_version.metrics,
                }
            )

        return await exchange(server, request, "/model", "noria", work)

    return predict
