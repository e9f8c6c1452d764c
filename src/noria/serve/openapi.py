"""The server's OpenAPI document and its docs page, both about the model being served.

The document is FastAPI's, completed for the served version: each scoring route's request body
is the model's own input (the signature's columns as properties with their JSON types, the
required ones listed, unknown ones refused unless ``serve.extra_columns: ignore``), every status
each route can answer is listed with its body (400, 401 when a token is set, 404, 408, 413, 422),
``/metrics`` is ``text/plain``, and the ``{name}`` and ``{version}`` of the ``/v2`` routes are the
served model's. It is rebuilt when the alias moves to another version.

``/docs`` is Swagger UI from files vendored in the package (``serve/docs/``, with their licence):
nothing is loaded from a CDN, and a Content-Security-Policy forbids it. ReDoc (``/redoc``) is not
served: its bundle would be another megabyte of vendored script for a second view of the same
document. With ``NORIA_TOKEN`` set, ``/docs``, its files and ``/openapi.json`` need the token, as
``Authorization: Bearer <token>`` or as the password of HTTP Basic credentials (the user name is
ignored), so that a browser can open them: it asks for the password.

Not here: the routes themselves (:mod:`noria.serve.noria_api`, :mod:`noria.serve.mlflow_api`,
:mod:`noria.serve.oip`).
"""

from __future__ import annotations

import copy
import gzip
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from noria.errors import Unauthorized
from noria.serve.wire import REQUEST_ID_PATTERN, check_token, error_body

if TYPE_CHECKING:
    from noria.serve.app import Server
    from noria.serve.predictor import Predictor

__all__ = ["OPEN_PATHS", "ROUTES", "Shapes", "document", "install", "shapes_of"]

#: Routes open without the bearer token (load balancers and orchestrators probe them).
OPEN_PATHS = frozenset({"/health", "/ready", "/v2/health/live", "/v2/health/ready"})

#: Every documented route: its error style and the statuses it answers (401 is added when a
#: token is set, except on :data:`OPEN_PATHS`). ``None``: the route answers no error body.
ROUTES: dict[tuple[str, str], tuple[str | None, tuple[int, ...]]] = {
    ("post", "/predict"): ("noria", (200, 400, 408, 413, 422)),
    ("post", "/invocations"): ("mlflow", (200, 400, 408, 413, 422)),
    ("post", "/v2/models/{name}/infer"): ("v2", (200, 400, 404, 408, 413, 422)),
    ("post", "/v2/models/{name}/versions/{version}/infer"): (
        "v2",
        (200, 400, 404, 408, 413, 422),
    ),
    ("get", "/v2"): ("v2", (200, 400)),
    ("get", "/v2/models/{name}"): ("v2", (200, 400, 404)),
    ("get", "/v2/models/{name}/versions/{version}"): ("v2", (200, 400, 404)),
    ("get", "/v2/models/{name}/ready"): ("v2", (200, 400, 404)),
    ("get", "/model"): ("noria", (200, 400)),
    ("get", "/metrics"): ("noria", (200,)),
    ("get", "/health"): (None, (200,)),
    ("get", "/ready"): (None, (200, 503)),
    ("get", "/v2/health/live"): (None, (200,)),
    ("get", "/v2/health/ready"): (None, (200, 503)),
}

_WHY = {
    400: "malformed JSON, an empty body, a bad X-Request-Id, or binary data that does not match",
    401: "missing or wrong bearer token",
    404: "unknown model or version",
    408: "the body did not arrive within the server's body timeout",
    413: "body over serve.max_body_mb",
    422: "input that does not fit the model's signature: the field and the reason",
    503: "no model loaded yet",
}

_ERRORS = {
    "noria": {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {"status": {"type": "integer"}, "message": {"type": "string"}},
                "required": ["status", "message"],
            }
        },
        "required": ["error"],
    },
    "mlflow": {
        "type": "object",
        "properties": {"error_code": {"type": "string"}, "message": {"type": "string"}},
        "required": ["error_code", "message"],
    },
    "v2": {
        "type": "object",
        "properties": {"error": {"type": "string"}},
        "required": ["error"],
    },
}

_FLOAT_MAX = 1.7976931348623157e308


# --------------------------------------------------------------------------- the model's input


@dataclass(frozen=True)
class Shapes:
    """The JSON Schemas of a model's input in every shape the protocols take."""

    names: list[str]
    kinds: dict[str, str]
    required: list[str]
    values: dict[str, dict[str, Any]]
    extra: bool
    classifier: bool

    @property
    def row(self) -> dict[str, Any]:
        """One record: ``{column: value}``."""
        return {
            "type": "object",
            "properties": self.values,
            "required": self.required,
            "additionalProperties": self.extra,
        }

    @property
    def records(self) -> dict[str, Any]:
        """A non-empty list of records."""
        return {"type": "array", "items": self.row, "minItems": 1}

    @property
    def rows(self) -> dict[str, Any]:
        """A non-empty list of rows of values in signature order."""
        row = {
            "type": "array",
            "prefixItems": [self.values[n] for n in self.names],
            "items": False,
            "minItems": len(self.names),
        }
        return {"type": "array", "items": row, "minItems": 1}

    @property
    def mapping(self) -> dict[str, Any]:
        """``{column: value}`` for one row, each value alone or in a list of one."""
        properties = {
            n: {"anyOf": [v, {"type": "array", "items": v, "minItems": 1, "maxItems": 1}]}
            for n, v in self.values.items()
        }
        return {
            "type": "object",
            "properties": properties,
            "required": self.required,
            "additionalProperties": self.extra,
        }

    @property
    def records_body(self) -> dict[str, Any]:
        """``{"records": [...]}``."""
        return {
            "type": "object",
            "properties": {"records": self.records},
            "required": ["records"],
            "additionalProperties": False,
        }

    @property
    def split_body(self) -> dict[str, Any]:
        """``{"columns": [...], "data": [[...], …]}`` with the columns in signature order."""
        columns = {
            "type": "array",
            "prefixItems": [{"const": n} for n in self.names],
            "items": False,
            "minItems": len(self.names),
        }
        return {
            "type": "object",
            "properties": {"columns": columns, "data": self.rows},
            "required": ["columns", "data"],
            "additionalProperties": False,
        }


def _value(kind: str, limits: tuple[float, float] | None = None) -> dict[str, Any]:
    if kind == "numeric":  # the range the model computes with (its scaled value is finite)
        lo, hi = limits or (-_FLOAT_MAX, _FLOAT_MAX)
        return {"type": ["number", "null"], "minimum": lo, "maximum": hi}
    if kind == "boolean":
        return {"type": ["boolean", "null"]}
    return {"type": ["string", "null"]}


def shapes_of(predictor: Predictor) -> Shapes:
    """The input schemas of ``predictor``'s signature."""
    signature = predictor.signature
    names = list(signature.names)
    required = list(getattr(signature, "required", None) or names)
    return Shapes(
        names=names,
        kinds=dict(signature.kinds),
        required=required,
        values={n: _value(signature.kinds[n], signature.limits.get(n)) for n in names},
        extra=signature.extra_columns == "ignore",
        classifier=bool(predictor.classes),
    )


# --------------------------------------------------------------------------- the document


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _successes(predictor: Predictor) -> dict[tuple[str, str], dict[str, Any]]:
    from noria.serve import noria_api

    v2_meta = _json(
        {
            "type": "object",
            "properties": {"name": {"type": "string"}, "inputs": {"type": "array"}},
            "required": ["name", "inputs"],
        }
    )
    infer = {
        **_json(
            {
                "type": "object",
                "properties": {
                    "model_name": {"type": "string"},
                    "model_version": {"type": "string"},
                    "id": {"type": "string"},
                    "outputs": {"type": "array"},
                },
                "required": ["model_name", "model_version", "outputs"],
            }
        ),
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    }
    return {
        ("post", "/predict"): _json(noria_api.response_schema(predictor)),
        ("post", "/invocations"): _json(
            {
                "type": "object",
                "properties": {"predictions": {"type": "array"}},
                "required": ["predictions"],
            }
        ),
        ("post", "/v2/models/{name}/infer"): infer,
        ("post", "/v2/models/{name}/versions/{version}/infer"): infer,
        ("get", "/v2"): _json(
            {
                "type": "object",
                "properties": {"extensions": {"type": "array", "items": {"type": "string"}}},
                "required": ["extensions"],
            }
        ),
        ("get", "/v2/models/{name}"): v2_meta,
        ("get", "/v2/models/{name}/versions/{version}"): v2_meta,
        ("get", "/metrics"): {"text/plain": {"schema": {"type": "string"}}},
    }


_INFER_NOTE = (
    "One tensor per column. With the binary tensor data extension (header "
    "Inference-Header-Content-Length: the size of the JSON part), inputs whose parameters carry "
    "binary_data_size are sent as raw little-endian bytes after the JSON, and outputs asked with "
    "parameters.binary_data (or the request's parameters.binary_data_output) come back the same "
    "way, as application/octet-stream."
)


def document(base: dict[str, Any], server: Server) -> dict[str, Any]:
    """``base`` (FastAPI's document) completed for the version being served."""
    from noria.serve import mlflow_api, noria_api, oip

    doc = copy.deepcopy(base)
    predictor = server.predictor
    token = bool(server.settings.token)
    bodies: dict[str, dict[str, Any]] = {}
    successes: dict[tuple[str, str], dict[str, Any]] = {}
    if predictor is not None:
        shapes = shapes_of(predictor)
        infer = oip.request_schema(shapes)
        bodies = {
            "/predict": noria_api.request_schema(shapes),
            "/invocations": mlflow_api.request_schema(shapes),
            "/v2/models/{name}/infer": infer,
            "/v2/models/{name}/versions/{version}/infer": infer,
        }
        successes = _successes(predictor)
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            style, statuses = ROUTES.get((method, path), ("noria", (200,)))
            responses: dict[str, Any] = {}
            for status in statuses:
                if status == 200:
                    content = successes.get((method, path), _json({"type": "object"}))
                    responses["200"] = {"description": "OK", "content": content}
                else:
                    schema = _ERRORS[style] if style else {"type": "object"}
                    responses[str(status)] = {"description": _WHY[status], "content": _json(schema)}
            if token and path not in OPEN_PATHS:
                responses["401"] = {
                    "description": _WHY[401],
                    "content": _json(_ERRORS[style or "noria"]),
                }
            operation["responses"] = responses
            if path in OPEN_PATHS:
                operation["security"] = []
            parameters = []
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and predictor is not None:
                    value = (
                        predictor.name if parameter["name"] == "name" else str(predictor.version)
                    )
                    parameter["schema"] = {"type": "string", "enum": [value]}
                parameters.append(parameter)
            if style is not None and path not in ("/metrics",):
                parameters.append(
                    {
                        "name": "x-request-id",
                        "in": "header",
                        "required": False,
                        "description": "your id for the request (logged, used to join labels); "
                        "the server makes one when absent",
                        "schema": {"type": "string", "pattern": REQUEST_ID_PATTERN},
                    }
                )
            if parameters:
                operation["parameters"] = parameters
            if method == "post" and path in bodies:
                operation["requestBody"] = {"required": True, "content": _json(bodies[path])}
                if "/v2/" in path:
                    operation["description"] = _INFER_NOTE
    schemas = doc.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    if not schemas:
        doc.get("components", {}).pop("schemas", None)
    if not doc.get("components"):
        doc.pop("components", None)
    if token:
        doc.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer"}
        }
        doc["security"] = [{"bearer": []}]
    return doc


# --------------------------------------------------------------------------- routes


_ASSETS = {
    "swagger-ui-bundle.js": ("swagger-ui-bundle.js.gz", "text/javascript; charset=utf-8"),
    "swagger-ui.css": ("swagger-ui.css.gz", "text/css; charset=utf-8"),
    "init.js": ("init.js", "text/javascript; charset=utf-8"),
    "favicon-32x32.png": ("favicon-32x32.png", "image/png"),
    "LICENSE": ("LICENSE", "text/plain; charset=utf-8"),
    "NOTICE": ("NOTICE", "text/plain; charset=utf-8"),
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""

#: The docs load nothing but the server's own files.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)


def install(app: Any, server: Server) -> None:
    """Give ``app`` the completed document at ``/openapi.json`` and the docs at ``/docs``."""
    from fastapi.openapi.utils import get_openapi

    cache: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        predictor = server.predictor
        key = (
            None if predictor is None else (predictor.name, predictor.version, predictor.path),
            bool(server.settings.token),
        )
        if cache.get("key") != key:
            if "base" not in cache:
                cache["base"] = get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            cache["doc"] = document(cache["base"], server)
            cache["key"] = key
        return cache["doc"]

    app.openapi = openapi

    def guard(request: Request) -> Response | None:
        try:
            check_token(server.settings.token, request.headers.get("authorization"), basic=True)
        except Unauthorized as exc:
            return Response(
                error_body("noria", 401, str(exc)),
                401,
                media_type="application/json",
                headers={"www-authenticate": 'Bearer, Basic realm="noria"'},
            )
        return None

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_json(request: Request) -> Response:
        return guard(request) or Response(orjson.dumps(openapi()), media_type="application/json")

    @app.get("/docs", include_in_schema=False)
    async def docs(request: Request) -> Response:
        page = _PAGE.format(title=f"{app.title}: {server.settings.reference}")
        return guard(request) or Response(
            page, media_type="text/html", headers={"content-security-policy": CSP}
        )

    @app.get("/docs/{asset}", include_in_schema=False)
    async def docs_asset(request: Request, asset: str) -> Response:
        denied = guard(request)
        if denied is not None:
            return denied
        if asset not in _ASSETS:
            return Response(
                error_body("noria", 404, f"no docs file '{asset[:64]}'"),
                404,
                media_type="application/json",
            )
        name, media = _ASSETS[asset]
        data = resources.files("noria.serve").joinpath("docs", name).read_bytes()
        headers = {"cache-control": "private, max-age=3600"}
        if name.endswith(".gz"):
            if "gzip" in request.headers.get("accept-encoding", ""):
                headers["content-encoding"] = "gzip"
                headers["vary"] = "Accept-Encoding"
            else:
                data = gzip.decompress(data)
        return Response(data, media_type=media, headers=headers)
