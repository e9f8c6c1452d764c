"""The model server: FastAPI on uvicorn, micro-batched, following its alias, logging predictions.

Routes (all JSON; the OpenAPI document is at ``/openapi.json``, the docs at ``/docs``):

=================================  ===========================================================
``POST /predict``                  ``{"records": [...]}`` or ``{"columns": [...], "data": [...]}``
                                   → ``{"predictions", "probabilities", "classes", "model",
                                   "version", "request_id"}``
``POST /invocations``              MLflow's scoring payloads (``dataframe_split``,
                                   ``dataframe_records``, ``instances``, ``inputs``) →
                                   ``{"predictions": [...]}``, as ``mlflow models serve`` answers
``/v2/…``                          the Open Inference Protocol (KServe V2): server and model
                                   metadata, health, ``POST /v2/models/{name}/infer``
``GET /health``, ``GET /ready``    liveness, and readiness (a model is loaded)
``GET /metrics``                   Prometheus text: requests, latencies, errors, rows, batches,
                                   the model version, the prediction log
=================================  ===========================================================

How a request is served: the body is read with a size limit (413 beyond), parsed by orjson (400
when malformed), checked against the signature (422 naming the field), queued for the
:class:`MicroBatcher`, which gathers concurrent requests into one predict call and splits the
results back. Bad input is always a 4xx with ``{"error": {"status", "message"}}`` (MLflow's
``{"error_code", "message"}`` on ``/invocations``, ``{"error"}`` on ``/v2``), never a 500.

The alias is followed: a thread polls the registry every ``poll_seconds``; when the alias moves,
the new version is loaded in that thread and swapped in with one assignment. Requests already
checked against the old version finish on it, so no request fails during a swap.

Security: the server binds 127.0.0.1 unless told otherwise; when ``NORIA_TOKEN`` is set every
route but the health checks requires ``Authorization: Bearer <token>`` (401 otherwise).
"""

from __future__ import annotations

import asyncio
import bisect
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
from fastapi import FastAPI, Request  # at module level: FastAPI resolves route annotations here
from fastapi.responses import Response

from noria.errors import (
    DataError,
    NoriaError,
    NotFoundError,
    PayloadTooLarge,
    Unauthorized,
    UserError,
)
from noria.serve.auth import bearer_ok
from noria.serve.schema import Columns, input_metrics

if TYPE_CHECKING:
    from noria.project import Project
    from noria.serve.predictor import Prediction, Predictor
    from noria.serve.predlog import PredictionLog

__all__ = ["ServeSettings", "Server", "create_app", "serve"]

#: Routes open without the bearer token (load balancers and orchestrators probe them).
OPEN_PATHS = frozenset({"/health", "/ready", "/v2/health/live", "/v2/health/ready"})

#: Batches of at least this many rows are predicted in a worker thread, not on the event loop.
THREAD_ROWS = 256


@dataclass
class ServeSettings:
    """How the server serves; ``noria.yaml``'s ``serve:`` section, or these defaults."""

    reference: str
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_mb: float = 16.0
    max_batch_rows: int = 2048
    batch_window_ms: float = 0.0
    extra_columns: str = "reject"
    log_predictions: bool = True
    follow_alias: bool = True
    poll_seconds: float = 1.0
    onnx: str = "auto"
    token: str | None = field(default_factory=lambda: os.environ.get("NORIA_TOKEN") or None)


# --------------------------------------------------------------------------- metrics

_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """Counters and histograms in Prometheus's text format (no client library needed)."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, int], int] = {}
        self.latency: dict[str, list[int]] = {}
        self.latency_sum: dict[str, float] = {}
        self.rows = 0
        self.batches = 0
        self.batch_rows: list[int] = [0] * 8  # 1, 2-3, 4-7, … 128+
        self.swaps = 0
        self.swap_errors = 0
        self.started = time.time()

    def observe(self, route: str, status: int, seconds: float) -> None:
        """Count one request."""
        key = (route, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        counts = self.latency.get(route)
        if counts is None:
            counts = self.latency[route] = [0] * (len(_BUCKETS) + 1)
            self.latency_sum[route] = 0.0
        counts[bisect.bisect_left(_BUCKETS, seconds)] += 1
        self.latency_sum[route] += seconds

    def batch(self, rows: int) -> None:
        """Count one predict call of ``rows`` rows."""
        self.batches += 1
        self.rows += rows
        self.batch_rows[min(rows.bit_length() - 1, 7)] += 1

    def render(self, predictor: Predictor | None, log: PredictionLog | None) -> str:
        """The exposition text."""
        out = [
            "# HELP noria_requests_total Requests by route and HTTP status.",
            "# TYPE noria_requests_total counter",
        ]
        for (route, status), n in sorted(self.requests.items()):
            out.append(f'noria_requests_total{{route="{route}",status="{status}"}} {n}')
        out += [
            "# HELP noria_request_errors_total Requests answered with a 4xx or 5xx status.",
            "# TYPE noria_request_errors_total counter",
        ]
        errors: dict[str, int] = {}
        for (route, status), n in self.requests.items():
            if status >= 400:
                errors[route] = errors.get(route, 0) + n
        for route, n in sorted(errors.items()):
            out.append(f'noria_request_errors_total{{route="{route}"}} {n}')
        out += [
            "# HELP noria_request_duration_seconds Time from request to response.",
            "# TYPE noria_request_duration_seconds histogram",
        ]
        for route, counts in sorted(self.latency.items()):
            total = 0
            for bound, n in zip((*_BUCKETS, float("inf")), counts, strict=True):
                total += n
                le = "+Inf" if bound == float("inf") else repr(bound)
                out.append(
                    f'noria_request_duration_seconds_bucket{{route="{route}",le="{le}"}} {total}'
                )
            out.append(
                f'noria_request_duration_seconds_sum{{route="{route}"}} '
                f"{self.latency_sum[route]:.6f}"
            )
            out.append(f'noria_request_duration_seconds_count{{route="{route}"}} {total}')
        out += [
            "# TYPE noria_predicted_rows_total counter",
            f"noria_predicted_rows_total {self.rows}",
            "# TYPE noria_predict_batches_total counter",
            f"noria_predict_batches_total {self.batches}",
            "# HELP noria_predict_batch_rows_total Predict calls by rows per call (power of two).",
            "# TYPE noria_predict_batch_rows_total counter",
        ]
        for i, n in enumerate(self.batch_rows):
            label = f"{2**i}+" if i == 7 else f"{2**i}-{2 ** (i + 1) - 1}"
            out.append(f'noria_predict_batch_rows_total{{rows="{label}"}} {n}')
        out += [
            "# TYPE noria_model_swaps_total counter",
            f"noria_model_swaps_total {self.swaps}",
            "# TYPE noria_model_swap_errors_total counter",
            f"noria_model_swap_errors_total {self.swap_errors}",
            "# HELP noria_model_version The version being served.",
            "# TYPE noria_model_version gauge",
        ]
        if predictor is not None:
            out.append(
                f'noria_model_version{{model="{predictor.name}",path="{predictor.path}"}} '
                f"{predictor.version}"
            )
            out += input_metrics(predictor.signature.totals, predictor.name)  # unseen, range
        if log is not None:
            out += [
                "# TYPE noria_prediction_log_rows_total counter",
                f"noria_prediction_log_rows_total {log.written_rows}",
                "# TYPE noria_prediction_log_dropped_total counter",
                f"noria_prediction_log_dropped_total {log.dropped}",
                "# TYPE noria_prediction_log_segments_total counter",
                f"noria_prediction_log_segments_total {log.segments}",
            ]
        out.append("# TYPE noria_uptime_seconds gauge")
        out.append(f"noria_uptime_seconds {time.time() - self.started:.1f}")
        return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- batching


class MicroBatcher:
    """Gathers concurrent requests into one predict call per model version.

    A request's columns, already checked against a predictor's signature, wait on a future; the
    batching task takes everything queued (after ``window_s`` when set, else after one turn of
    the event loop, so requests that arrived together go together), predicts each predictor's
    share in one call of at most ``max_rows`` rows, and hands each request its slice.
    """

    def __init__(self, metrics: Metrics, max_rows: int, window_s: float) -> None:
        self.metrics = metrics
        self.max_rows = max_rows
        self.window_s = window_s
        self._pending: list[tuple[Predictor, Columns, asyncio.Future[Any]]] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor: Any = None

    async def submit(self, predictor: Predictor, columns: Columns) -> Prediction:
        """Predict ``columns`` with ``predictor``, batched with concurrent requests."""
        loop = asyncio.get_running_loop()
        if self._task is None:
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._run())
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((predictor, columns, future))
        assert self._wake is not None
        self._wake.set()
        return await future

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(self.window_s)
            while self._pending:
                batch, rows = [], 0
                first = self._pending[0][0]
                rest = []
                for item in self._pending:
                    if item[0] is first and (rows + item[1].n <= self.max_rows or not batch):
                        batch.append(item)
                        rows += item[1].n
                    else:
                        rest.append(item)
                self._pending = rest
                await self._predict(first, batch, rows)

    async def _predict(
        self,
        predictor: Predictor,
        batch: list[tuple[Predictor, Columns, asyncio.Future[Any]]],
        rows: int,
    ) -> None:
        if len(batch) == 1:
            columns = batch[0][1]
        else:
            names = list(batch[0][1].values)
            columns = Columns(
                {k: np.concatenate([b[1].values[k] for b in batch]) for k in names}, rows
            )
        try:
            if rows >= THREAD_ROWS:
                if self._executor is None:
                    from concurrent.futures import ThreadPoolExecutor

                    self._executor = ThreadPoolExecutor(1, thread_name_prefix="noria-predict")
                loop = asyncio.get_running_loop()
                result = await loop.run_in_executor(self._executor, predictor.predict, columns)
            else:
                result = predictor.predict(columns)
        except Exception as exc:
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self.metrics.batch(rows)
        if len(batch) == 1:
            if not batch[0][2].done():
                batch[0][2].set_result(result)
            return
        from noria.serve.predictor import Prediction

        start = 0
        for _, cols, future in batch:
            end = start + cols.n
            proba = result.probabilities
            part = Prediction(
                result.predictions[start:end], None if proba is None else proba[start:end]
            )
            if not future.done():
                future.set_result(part)
            start = end


# --------------------------------------------------------------------------- the server


class Server:
    """The serving state: the current predictor, settings, metrics, the prediction log.

    Args:
        settings: what to serve and how.
        project: the project whose registry and stores are used.
        predictor: an already loaded predictor (else loaded from ``settings.reference``).
    """

    def __init__(
        self, settings: ServeSettings, project: Project, predictor: Predictor | None = None
    ) -> None:
        self.settings = settings
        self.project = project
        name, _, which = settings.reference.partition("@")
        self.model_name = name
        self.alias = which or "champion"
        self.metrics = Metrics()
        self.batcher = MicroBatcher(
            self.metrics, settings.max_batch_rows, settings.batch_window_ms / 1000
        )
        self.max_body = int(settings.max_body_mb * 1024 * 1024)
        self.predictor: Predictor | None = predictor
        self.log: PredictionLog | None = None
        self._stop = threading.Event()
        self._follower: threading.Thread | None = None
        self.load_error: str | None = None
        self.uvicorn: Any = None

    # ------------------------------------------------------------------ lifecycle

    def load(self) -> Predictor:
        """Load the version the reference names now (hash checked)."""
        from noria.serve.predictor import Predictor

        project = self.project
        return Predictor.load(
            project.metadata,
            project.artifacts,
            self.settings.reference,
            cache_dir=project.home / "serve",
            extra_columns=self.settings.extra_columns,
            onnx=self.settings.onnx,
        )

    def start(self) -> None:
        """Load the model (unless given), start the prediction log and the alias follower."""
        if self.predictor is None:
            self.predictor = self.load()
        if self.settings.log_predictions and self.log is None:
            from noria.serve.predlog import PredictionLog

            folder = self.project.home / "predictions" / self.model_name
            self.log = PredictionLog(folder, self.model_name).start()
        if self.settings.follow_alias and not self.alias.isdigit() and self._follower is None:
            self._follower = threading.Thread(target=self._follow, name="noria-follow", daemon=True)
            self._follower.start()

    def stop(self) -> None:
        """Stop following and flush the prediction log."""
        self._stop.set()
        if self._follower is not None:
            self._follower.join(timeout=10)
            self._follower = None
        if self.log is not None:
            self.log.close()

    def _follow(self) -> None:
        from noria.registry import alias_holder

        while not self._stop.wait(self.settings.poll_seconds):
            try:
                holder = alias_holder(self.project.metadata, self.model_name, self.alias)
                current = self.predictor
                if holder is None or (current is not None and holder == current.version):
                    continue
                self.swap(self.load())
            except Exception as exc:  # keep serving the loaded version
                self.metrics.swap_errors += 1
                self.load_error = f"{type(exc).__name__}: {exc}"

    def swap(self, predictor: Predictor) -> None:
        """Serve ``predictor`` from now on (requests in flight finish on the old one)."""
        self.predictor = predictor
        self.metrics.swaps += 1
        self.load_error = None

    # ------------------------------------------------------------------ requests

    def check_token(self, authorization: str | None) -> None:
        """Raise :class:`Unauthorized` unless the bearer token matches (when one is set)."""
        if not bearer_ok(authorization, self.settings.token):
            raise Unauthorized(
                "missing or wrong bearer token: send the header 'Authorization: Bearer "
                "<NORIA_TOKEN>'"
            )

    def ready_predictor(self) -> Predictor:
        """The current predictor, or an error when none is loaded."""
        predictor = self.predictor
        if predictor is None:
            raise NoriaError("no model is loaded yet")
        return predictor

    async def run(
        self,
        columns_of: Callable[[Predictor], Columns],
        request_id: str,
        started: float,
    ) -> tuple[Predictor, Prediction]:
        """Check input with the current predictor, predict it batched, log it."""
        predictor = self.ready_predictor()
        columns = columns_of(predictor)
        result = await self.batcher.submit(predictor, columns)
        if self.log is not None:
            self.log.append(
                request_id,
                predictor.version,
                columns,
                result.predictions,
                result.probabilities,
                predictor.classes,
                (time.perf_counter() - started) * 1000,
            )
        return predictor, result


async def read_body(request: Any, limit: int) -> Any:
    """The request's JSON body, read with a size limit.

    Raises:
        PayloadTooLarge: over ``limit`` bytes. UserError: malformed JSON (400); the body is
            parsed as JSON whatever its content type says (curl sends form types by default).
    """
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(
            f"body: {int(length):,} bytes is over the limit of {limit:,}; send smaller batches "
            "(or raise serve.max_body_mb)"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"body: over the limit of {limit:,} bytes; send smaller batches "
                "(or raise serve.max_body_mb)"
            )
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body:
        raise UserError("body: empty; send a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise UserError(f"body: malformed JSON ({exc}); NaN and Infinity are not JSON") from None


def _only(payload: Any, allowed: tuple[str, ...], where: str = "body") -> str:
    """The one key of ``payload`` among ``allowed`` (errors name unknown and missing ones)."""
    from noria.errors import did_you_mean

    if not isinstance(payload, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(payload).__name__}")
    for key in payload:
        if key not in allowed:
            raise DataError(
                f"{where}: unknown field '{key}'{did_you_mean(key, allowed)}; "
                f"allowed: {', '.join(allowed)}"
            )
    return ""


def noria_columns(payload: Any) -> Callable[[Predictor], Columns]:
    """Columns from ``/predict``'s body: records, or columns + data."""
    _only(payload, ("records", "columns", "data"))
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


_MLFLOW_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")


def mlflow_columns(payload: Any) -> Callable[[Predictor], Columns]:
    """Columns from MLflow's ``/invocations`` payloads."""
    _only(payload, (*_MLFLOW_KEYS, "params"))
    given = [k for k in _MLFLOW_KEYS if k in payload]
    if len(given) != 1:
        raise DataError(
            "body: send exactly one of "
            + ", ".join(_MLFLOW_KEYS)
            + (f" (got {', '.join(given)})" if given else "")
        )
    key = given[0]
    value = payload[key]
    if key == "dataframe_split":
        if not isinstance(value, dict):
            raise DataError("dataframe_split: expected an object with columns and data")
        for extra in value:
            if extra not in ("columns", "data", "index"):
                raise DataError(f"dataframe_split: unknown field '{extra}'")
        if "columns" not in value or "data" not in value:
            raise DataError("dataframe_split: needs 'columns' and 'data'")
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


_V2_TYPES = {"number": "FP64", "string": "BYTES", "bool": "BOOL", "datetime": "BYTES"}


def v2_columns(payload: Any) -> Callable[[Predictor], Columns]:
    """Columns from an Open Inference Protocol request: one tensor per signature column."""
    _only(payload, ("id", "inputs", "outputs", "parameters"))
    inputs = payload.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise DataError("inputs: expected a non-empty list of tensors, one per column")
    mapping: dict[str, Any] = {}
    for i, tensor in enumerate(inputs):
        if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
            raise DataError(f"inputs[{i}]: expected a tensor with name, shape, datatype, data")
        for key in tensor:
            if key not in ("name", "shape", "datatype", "data", "parameters"):
                raise DataError(f"inputs[{i}]: unknown field '{key}'")
        data = tensor.get("data")
        if not isinstance(data, list):
            raise DataError(f"inputs[{i}].data: expected a list of values")
        if data and isinstance(data[0], list):
            data = [v[0] if isinstance(v, list) and len(v) == 1 else v for v in data]
        shape = tensor.get("shape")
        if shape is not None and (
            not isinstance(shape, list)
            or not all(isinstance(s, int) and not isinstance(s, bool) for s in shape)
            or (shape and shape[0] != len(data))
        ):
            raise DataError(f"inputs[{i}].shape: {shape!r} does not match {len(data)} values")
        mapping[tensor["name"]] = data
    return lambda p: p.signature.from_mapping(mapping, where="inputs")


def _error_body(style: str, status: int, message: str) -> bytes:
    if style == "mlflow":
        code = {400: "BAD_REQUEST", 404: "RESOURCE_DOES_NOT_EXIST", 413: "BAD_REQUEST"}.get(
            status, "INVALID_PARAMETER_VALUE" if status < 500 else "INTERNAL_ERROR"
        )
        return orjson.dumps({"error_code": code, "message": message})
    if style == "v2":
        return orjson.dumps({"error": message})
    return orjson.dumps({"error": {"status": status, "message": message}})


# --------------------------------------------------------------------------- the app


def create_app(server: Server, *, manage: bool = True) -> Any:
    """The FastAPI application of ``server``.

    Args:
        server: the serving state.
        manage: start the server (load, log, follow) at startup and stop it at shutdown.
    """
    import contextlib

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> Any:
        if manage:
            server.start()
        try:
            yield
        finally:
            if manage:
                server.stop()

    app = _App(
        title="noria model server",
        version="1",
        description=(
            f"Serves {server.settings.reference}. Bad input is answered 400/413/415/422 with "
            "the field and the reason."
        ),
        lifespan=lifespan,
    )

    json_type = "application/json"

    def respond(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(
            orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY),
            status_code=status,
            media_type=json_type,
            headers=headers,
        )

    async def handle(
        request: Request, route: str, style: str, work: Callable[[str, float], Any]
    ) -> Response:
        started = time.perf_counter()
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        try:
            server.check_token(request.headers.get("authorization"))
            body = await work(request_id, started)
            status = 200
            response = Response(body, media_type=json_type, headers={"x-request-id": request_id})
        except NoriaError as exc:
            status = exc.http_status
            response = Response(
                _error_body(style, status, str(exc)),
                status_code=status,
                media_type=json_type,
                headers={"x-request-id": request_id},
            )
            if status == 401:
                response.headers["www-authenticate"] = "Bearer"
        except Exception as exc:  # a bug: say so, keep serving
            status = 500
            response = Response(
                _error_body(style, 500, f"internal error: {type(exc).__name__}: {exc}"),
                status_code=500,
                media_type=json_type,
            )
        server.metrics.observe(route, status, time.perf_counter() - started)
        return response

    def noria_body(predictor: Predictor, result: Prediction, request_id: str) -> bytes:
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

    # ------------------------------------------------------------------ noria

    @app.post(
        "/predict",
        summary="Predict a batch of rows",
        openapi_extra={"requestBody": _request_schema("predict"), "responses": _RESPONSES},
    )
    async def predict(request: Request) -> Response:
        async def work(request_id: str, started: float) -> bytes:
            payload = await read_body(request, server.max_body)
            columns_of = noria_columns(payload)
            predictor, result = await server.run(columns_of, request_id, started)
            return noria_body(predictor, result, request_id)

        return await handle(request, "/predict", "noria", work)

    # ------------------------------------------------------------------ MLflow

    @app.post(
        "/invocations",
        summary="MLflow scoring protocol",
        openapi_extra={"requestBody": _request_schema("mlflow"), "responses": _RESPONSES},
    )
    async def invocations(request: Request) -> Response:
        async def work(request_id: str, started: float) -> bytes:
            payload = await read_body(request, server.max_body)
            columns_of = mlflow_columns(payload)
            _, result = await server.run(columns_of, request_id, started)
            return orjson.dumps({"predictions": result.predictions})

        return await handle(request, "/invocations", "mlflow", work)

    # ------------------------------------------------------------------ health, metrics

    @app.get("/health", summary="Liveness")
    async def health() -> Response:
        return respond({"status": "ok"})

    @app.get("/ready", summary="Readiness: a model is loaded")
    async def ready() -> Response:
        p = server.predictor
        if p is None:
            return respond({"status": "loading"}, 503)
        return respond({"status": "ready", "model": p.name, "version": p.version, "path": p.path})

    @app.get("/metrics", summary="Prometheus metrics")
    async def metrics(request: Request) -> Response:
        try:
            server.check_token(request.headers.get("authorization"))
        except Unauthorized as exc:
            return Response(_error_body("noria", 401, str(exc)), 401, media_type=json_type)
        text = server.metrics.render(server.predictor, server.log)
        return Response(text, media_type="text/plain; version=0.0.4")

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

        return await handle(request, "/model", "noria", work)

    # ------------------------------------------------------------------ Open Inference Protocol

    def v2_model(name: str, version: str | None = None) -> Predictor:
        p = server.ready_predictor()
        if name != p.name:
            raise NotFoundError(f"model '{name}' is not served here; this server serves '{p.name}'")
        if version is not None and version != str(p.version):
            raise NotFoundError(
                f"model '{name}' version '{version}' is not loaded; serving version {p.version}"
            )
        return p

    @app.get("/v2", summary="Open Inference Protocol: server metadata")
    async def v2_server(request: Request) -> Response:
        async def work(request_id: str, started: float) -> bytes:
            return orjson.dumps({"name": "noria", "version": "1", "extensions": []})

        return await handle(request, "/v2", "v2", work)

    @app.get("/v2/health/live", summary="Open Inference Protocol: liveness")
    async def v2_live() -> Response:
        return respond({"live": True})

    @app.get("/v2/health/ready", summary="Open Inference Protocol: readiness")
    async def v2_ready() -> Response:
        ok = server.predictor is not None
        return respond({"ready": ok}, 200 if ok else 503)

    def v2_metadata(p: Predictor) -> bytes:
        inputs = [
            {"name": n, "datatype": _V2_TYPES[p.signature.kinds[n]], "shape": [-1]}
            for n in p.signature.names
        ]
        outputs = [{"name": "predict", "datatype": "BYTES" if p.classes else "FP64", "shape": [-1]}]
        if p.classes:
            outputs.append(
                {"name": "predict_proba", "datatype": "FP64", "shape": [-1, len(p.classes)]}
            )
        return orjson.dumps(
            {
                "name": p.name,
                "versions": [str(p.version)],
                "platform": f"noria-{p.path}",
                "inputs": inputs,
                "outputs": outputs,
            }
        )

    async def v2_infer(request: Request, name: str, version: str | None) -> Response:
        async def work(request_id: str, started: float) -> bytes:
            v2_model(name, version)
            payload = await read_body(request, server.max_body)
            columns_of = v2_columns(payload)
            rid = payload.get("id") if isinstance(payload.get("id"), str) else request_id
            p, result = await server.run(columns_of, rid, started)
            n = len(result.predictions)
            outputs: list[dict[str, Any]] = [
                {
                    "name": "predict",
                    "shape": [n],
                    "datatype": "BYTES" if p.classes else "FP64",
                    "data": result.predictions,
                }
            ]
            if result.probabilities is not None:
                outputs.append(
                    {
                        "name": "predict_proba",
                        "shape": [n, len(p.classes)],
                        "datatype": "FP64",
                        "data": result.probabilities.reshape(-1),
                    }
                )
            return orjson.dumps(
                {
                    "model_name": p.name,
                    "model_version": str(p.version),
                    "id": rid,
                    "outputs": outputs,
                },
                option=orjson.OPT_SERIALIZE_NUMPY,
            )

        return await handle(request, "/v2/infer", "v2", work)

    @app.get("/v2/models/{name}", summary="Open Inference Protocol: model metadata")
    async def v2_model_metadata(request: Request, name: str) -> Response:
        async def work(request_id: str, started: float) -> bytes:
            return v2_metadata(v2_model(name))

        return await handle(request, "/v2/models", "v2", work)

    @app.get(
        "/v2/models/{name}/versions/{version}", summary="Open Inference Protocol: version metadata"
    )
    async def v2_version_metadata(request: Request, name: str, version: str) -> Response:
        async def work(request_id: str, started: float) -> bytes:
            return v2_metadata(v2_model(name, version))

        return await handle(request, "/v2/models", "v2", work)

    @app.get("/v2/models/{name}/ready", summary="Open Inference Protocol: model readiness")
    async def v2_model_ready(request: Request, name: str) -> Response:
        async def work(request_id: str, started: float) -> bytes:
            v2_model(name)
            return orjson.dumps({"name": name, "ready": True})

        return await handle(request, "/v2/models/ready", "v2", work)

    @app.post(
        "/v2/models/{name}/infer",
        summary="Open Inference Protocol: inference",
        openapi_extra={"requestBody": _request_schema("v2"), "responses": _RESPONSES},
    )
    async def v2_infer_latest(request: Request, name: str) -> Response:
        return await v2_infer(request, name, None)

    @app.post(
        "/v2/models/{name}/versions/{version}/infer",
        summary="Open Inference Protocol: inference on a version",
        openapi_extra={"requestBody": _request_schema("v2"), "responses": _RESPONSES},
    )
    async def v2_infer_version(request: Request, name: str, version: str) -> Response:
        return await v2_infer(request, name, version)

    app.fast_routes = {"/predict": predict, "/invocations": invocations}
    app.state.server = server
    return app


class _App(FastAPI):
    """FastAPI, with the two scoring routes answered before its middleware and routing.

    ``POST /predict`` and ``POST /invocations`` go straight to their endpoints (the same
    functions FastAPI routes to, which never raise: every error is already a response), skipping
    what FastAPI does around them — the middleware stack, the route search, dependency solving —
    a good share of a single-row request's time. Every other request, and these paths with
    another method, go through FastAPI as usual; the OpenAPI document is FastAPI's.
    """

    fast_routes: dict[str, Callable[[Request], Any]] = {}  # noqa: RUF012 - set per app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            endpoint = self.fast_routes.get(scope["path"])
            if endpoint is not None:
                scope["app"] = self
                response = await endpoint(Request(scope, receive))
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


_ERROR = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"error": {}, "error_code": {"type": "string"}, "message": {}},
            }
        }
    }
}
_RESPONSES = {
    str(code): {"description": text, **_ERROR}
    for code, text in (
        (400, "malformed JSON or an empty body"),
        (401, "missing or wrong bearer token (when NORIA_TOKEN is set)"),
        (404, "unknown model or version"),
        (413, "body over serve.max_body_mb"),
        (422, "input that does not fit the model's signature: the field and the reason"),
    )
}

_VALUE = {"type": ["number", "string", "boolean", "null"]}
_RECORDS = {"type": "array", "items": {"type": "object", "additionalProperties": _VALUE}}
_ROWS = {"type": "array", "items": {"type": "array", "items": _VALUE}}


def _request_schema(kind: str) -> dict[str, Any]:
    if kind == "predict":
        schema: dict[str, Any] = {
            "oneOf": [
                {
                    "type": "object",
                    "properties": {"records": _RECORDS},
                    "required": ["records"],
                    "additionalProperties": False,
                },
                {
                    "type": "object",
                    "properties": {
                        "columns": {"type": "array", "items": {"type": "string"}},
                        "data": _ROWS,
                    },
                    "required": ["columns", "data"],
                    "additionalProperties": False,
                },
            ]
        }
    elif kind == "mlflow":
        split = {
            "type": "object",
            "properties": {
                "columns": {"type": "array", "items": {"type": "string"}},
                "data": _ROWS,
                "index": {"type": "array"},
            },
            "required": ["columns", "data"],
        }
        schema = {
            "type": "object",
            "properties": {
                "dataframe_split": split,
                "dataframe_records": _RECORDS,
                "instances": {"type": "array"},
                "inputs": {"type": ["array", "object"]},
                "params": {"type": "object"},
            },
        }
    else:
        tensor = {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "shape": {"type": "array", "items": {"type": "integer"}},
                "datatype": {"type": "string"},
                "data": {"type": "array"},
            },
            "required": ["name", "datatype", "shape", "data"],
        }
        schema = {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "inputs": {"type": "array", "items": tensor},
                "outputs": {"type": "array"},
                "parameters": {"type": "object"},
            },
            "required": ["inputs"],
        }
    return {"required": True, "content": {"application/json": {"schema": schema}}}


# --------------------------------------------------------------------------- running


def settings_from_project(project: Project, **overrides: Any) -> ServeSettings:
    """Settings from ``noria.yaml``'s ``serve:`` (defaults without one), then ``overrides``."""
    spec = project.spec
    values: dict[str, Any] = {}
    if spec is not None:
        values = spec.serve.model_dump()
        model = values.pop("model") or f"{spec.name}@champion"
        values["reference"] = model
    values.update({k: v for k, v in overrides.items() if v is not None})
    if "reference" not in values:
        raise UserError("which model? pass --model NAME@ALIAS (no noria.yaml names one)")
    return ServeSettings(**values)


def serve(
    project: Project,
    settings: ServeSettings,
    *,
    on_ready: Callable[[Server], None] | None = None,
    sock: Any = None,
) -> None:
    """Load the model and serve it until interrupted (uvicorn, one process).

    Args:
        project: the project.
        settings: what and how.
        on_ready: called once the model is loaded and the port is bound.
        sock: an already bound socket (tests use port 0); else ``settings.host:port``.
    """
    import gc
    import sys

    import uvicorn

    server = Server(settings, project)
    server.start()
    app = create_app(server, manage=False)
    gc.collect()
    gc.freeze()  # the model and the imports are long-lived: keep them out of every GC pass
    # the event loop gets the interpreter back from a busy thread (the prediction log's writer,
    # a large batch's predict) within 1 ms instead of 5: the single-row latency tail
    sys.setswitchinterval(0.001)

    class _Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            server.uvicorn = self  # so that an embedding program can set should_exit
            if on_ready is not None and not self.should_exit:
                on_ready(server)

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
        backlog=2048,
    )
    try:
        _Server(config).run(sockets=[sock] if sock is not None else None)
    finally:
        server.stop()


def default_cache(project: Project) -> Path:
    """Where compiled models are indexed: ``.noria/serve``."""
    return project.home / "serve"
