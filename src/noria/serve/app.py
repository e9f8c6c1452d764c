"""The model server: FastAPI on uvicorn, micro-batched, following its alias, logging predictions.

Routes (JSON, but binary tensors on ``/v2``; the OpenAPI document, which describes the served
model's own input, is at ``/openapi.json``, the docs at ``/docs``):

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
``GET /model``                     the model served: name, version, signature, metrics
=================================  ===========================================================

How a request is served: the body is read with a size limit (413 beyond), parsed by orjson (400
when malformed), checked against the signature (422 naming the field), queued for the
:class:`MicroBatcher`, which gathers concurrent requests into one predict call and splits the
results back. Bad input is always a 4xx with ``{"error": {"status", "message"}}`` (MLflow's
``{"error_code", "message"}`` on ``/invocations``, ``{"error"}`` on ``/v2``), never a 500.

The alias is followed: a thread polls the registry every ``poll_seconds``; when the alias moves,
the new version is loaded in that thread and swapped in with one assignment. Requests already
checked against the old version finish on it, so no request fails during a swap.

The wire protocols live in their own modules (:mod:`noria.serve.noria_api`,
:mod:`noria.serve.mlflow_api`, :mod:`noria.serve.oip`), the HTTP plumbing they share in
:mod:`noria.serve.wire`, the OpenAPI document and ``/docs`` in :mod:`noria.serve.openapi`.

Security: the server binds 127.0.0.1 unless told otherwise, and refuses another address without
a token unless told ``insecure``; when ``NORIA_TOKEN`` is set every route but the health checks
(the docs and ``/openapi.json`` included) requires ``Authorization: Bearer <token>`` (401
otherwise). Request headers must arrive within ``header_timeout_s`` and a body within
``body_timeout_s`` (408 otherwise); an ``X-Request-Id`` is at most 128 plain characters (400).
"""

from __future__ import annotations

import asyncio
import bisect
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
from fastapi import FastAPI, Request  # at module level: FastAPI resolves route annotations here
from fastapi.responses import Response

from noria.errors import NoriaError, Unauthorized, UserError
from noria.serve.schema import Columns, input_metrics
from noria.serve.wire import BodyGuard, check_token, error_body

if TYPE_CHECKING:
    from noria.predlog import PredictionLog
    from noria.project import Project
    from noria.serve.predictor import Prediction, Predictor

__all__ = ["ServeSettings", "Server", "create_app", "serve"]

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
    body_timeout_s: float = 60.0
    header_timeout_s: float = 10.0
    insecure: bool = False


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
            out += log.metrics_lines()  # written, dropped, pending rows; failed writes
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
            from noria.predlog import PredictionLog, log_folder

            folder = log_folder(self.project.home, self.model_name)
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
        check_token(self.settings.token, authorization)

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


# --------------------------------------------------------------------------- the app


def create_app(server: Server, *, manage: bool = True) -> Any:
    """The FastAPI application of ``server``: the wire protocols, health, metrics, the docs.

    Args:
        server: the serving state.
        manage: start the server (load, log, follow) at startup and stop it at shutdown.
    """
    import contextlib

    from noria.serve import mlflow_api, noria_api, oip, openapi

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
            f"Serves {server.settings.reference}. Bad input is answered 400/413/422 with "
            "the field and the reason."
        ),
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.body_timeout_s = server.settings.body_timeout_s

    def respond(body: Any, status: int = 200) -> Response:
        return Response(
            orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY),
            status_code=status,
            media_type="application/json",
        )

    predict = noria_api.add_routes(app, server)
    invocations = mlflow_api.add_routes(app, server)
    oip.add_routes(app, server)

    # ------------------------------------------------------------------ health, metrics

    @app.get("/health", summary="Liveness")
    async def health() -> Response:
        return respond({"status": "ok"})

    @app.get("/ready", summary="Readiness: a model is loaded")
    async def ready() -> Response:
        p = server.predictor
        if p is None:
            return respond({"status": "loading"}, 503)
        body = {"status": "ready", "model": p.name, "version": p.version, "path": p.path}
        if server.log is not None:  # still ready (answers are right) when the log is failing
            body["prediction_log"] = server.log.health()
        return respond(body)

    @app.get("/metrics", summary="Prometheus metrics")
    async def metrics(request: Request) -> Response:
        try:
            server.check_token(request.headers.get("authorization"))
        except Unauthorized as exc:
            return Response(
                error_body("noria", 401, str(exc)),
                401,
                media_type="application/json",
                headers={"www-authenticate": "Bearer"},
            )
        text = server.metrics.render(server.predictor, server.log)
        return Response(text, media_type="text/plain; version=0.0.4")

    openapi.install(app, server)
    app.fast_routes = {"/predict": predict, "/invocations": invocations}
    app.state.server = server
    return app


class _App(FastAPI):
    """FastAPI, with the two scoring routes answered before its middleware and routing, and every
    HTTP request's body guarded (:class:`~noria.serve.wire.BodyGuard`: a deadline, and the rest
    of an unread body discarded before an early answer, so that the client gets it).

    ``POST /predict`` and ``POST /invocations`` go straight to their endpoints (the same
    functions FastAPI routes to, which never raise: every error is already a response), skipping
    what FastAPI does around them — the middleware stack, the route search, dependency solving —
    a good share of a single-row request's time. Every other request, and these paths with
    another method, go through FastAPI as usual.
    """

    fast_routes: dict[str, Callable[[Request], Any]] = {}  # noqa: RUF012 - set per app
    body_timeout_s: float = 60.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        guard = BodyGuard(scope, receive, send, self.body_timeout_s)
        if scope["method"] == "POST":
            endpoint = self.fast_routes.get(scope["path"])
            if endpoint is not None:
                scope["app"] = self
                response = await endpoint(Request(scope, guard.receive))
                await response(scope, guard.receive, guard.send)
                return
        await super().__call__(scope, guard.receive, guard.send)


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


def exposure(settings: ServeSettings) -> str | None:
    """Refuse to serve beyond this machine without a token, unless told ``insecure``.

    Returns:
        A warning to print (an exposed server told ``insecure``), or ``None``.

    Raises:
        UserError: a host other than loopback, no ``NORIA_TOKEN``, and not ``insecure``.
    """
    import ipaddress

    host = settings.host
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback or settings.token:
        return None
    if not settings.insecure:
        raise UserError(
            f"--host {host}: refusing to serve beyond this machine without a token (anyone who "
            "can reach the port could predict, read /metrics and the model's signature); set "
            "NORIA_TOKEN=<a secret> (clients send 'Authorization: Bearer <it>'), or pass "
            "--insecure when a proxy or a private network guards the port"
        )
    return (
        f"WARNING: serving on {host} with no token (--insecure): anyone who can reach the port "
        "can use the model; set NORIA_TOKEN to require one"
    )


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

    from noria.serve.wire import protocol_class

    warning = exposure(settings)
    if warning:
        print(warning, file=sys.stderr, flush=True)
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

        async def shutdown(self, sockets: Any = None) -> None:
            await super().shutdown(sockets=sockets)
            server.stop()  # write the log now: uvicorn then re-raises SIGTERM, which ends us

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
        backlog=2048,
        http=protocol_class(settings.header_timeout_s),
    )
    try:
        _Server(config).run(sockets=[sock] if sock is not None else None)
    finally:
        server.stop()


def default_cache(project: Project) -> Path:
    """Where compiled models are indexed: ``.noria/serve``."""
    return project.home / "serve"
