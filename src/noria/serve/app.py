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

This module is the server's core: :class:`Server` (the state: predictor, log, alias follower),
:func:`create_app` and :func:`serve`. The wire protocols live in their own modules
(:mod:`noria.serve.noria_api`, :mod:`noria.serve.mlflow_api`, :mod:`noria.serve.oip`), the HTTP
plumbing they share in :mod:`noria.serve.wire`, the OpenAPI document and ``/docs`` in
:mod:`noria.serve.openapi`, micro-batching in :mod:`noria.serve.batching`, ``/metrics`` in
:mod:`noria.serve.metrics`, the settings and the exposure check in :mod:`noria.serve.settings`
(re-exported here).

Security: the server binds 127.0.0.1 unless told otherwise, and refuses another address without
a token unless told ``insecure``; when ``NORIA_TOKEN`` is set every route but the health checks
(the docs and ``/openapi.json`` included) requires ``Authorization: Bearer <token>`` (401
otherwise). Request headers must arrive within ``header_timeout_s`` and a body within
``body_timeout_s`` (408 otherwise); an ``X-Request-Id`` is at most 128 plain characters (400).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import FastAPI, Request  # at module level: FastAPI resolves route annotations here
from fastapi.responses import Response

from noria.errors import NoriaError, Unauthorized
from noria.serve.batching import THREAD_ROWS, MicroBatcher
from noria.serve.metrics import Metrics
from noria.serve.settings import ServeSettings, exposure, settings_from_project
from noria.serve.wire import BodyGuard, check_token, error_body

if TYPE_CHECKING:
    from noria.predlog import PredictionLog
    from noria.project import Project
    from noria.serve.predictor import Prediction, Predictor
    from noria.serve.schema import Columns

__all__ = [
    "THREAD_ROWS",
    "Metrics",
    "MicroBatcher",
    "ServeSettings",
    "Server",
    "create_app",
    "exposure",
    "serve",
    "settings_from_project",
]


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
