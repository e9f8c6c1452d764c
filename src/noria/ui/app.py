"""The ``noria ui`` web app: Starlette on uvicorn, server-rendered pages, no script in the page.

The stack is the one of ``noria serve`` (uvicorn, Starlette underneath FastAPI) without FastAPI
itself: the dashboard has no JSON API to describe, and skipping FastAPI and pydantic keeps
``noria ui`` ready in well under a second. Pages are Jinja2 templates inside the package
(autoescaped: a run name, tag or param value is text everywhere), charts are inline SVG
(:mod:`noria.ui.svg`), and the stylesheet is served from the package: nothing comes from the
network, and the Content-Security-Policy forbids scripts and any other origin.

Every URL is a deep link: the runs page's filter, sort, columns and page, a comparison's runs and
axes live in the query string. Handlers are plain functions that uvicorn's thread pool runs, so a
slow query never blocks the event loop; the store is read through its public API, so a
``noria run`` writing meanwhile is seen at the next request (SQLite in WAL mode never blocks
readers).

Security (see :mod:`noria.ui.auth`): 127.0.0.1 by default; with ``NORIA_TOKEN`` set every page but
``/health``, ``/login`` and the stylesheet needs the bearer header or the login cookie (401 and
the login page otherwise). Read-only unless ``--allow-actions``: then the models page has promote
and rollback forms, which go through :func:`noria.registry.promote` / :func:`~noria.registry.
rollback` (gates included), are audited with the actor ``USER (ui)``, and need the session's CSRF
token. Unknown ids are a 404 page, bad query values a 400 page: never a 500 for bad input.
"""

from __future__ import annotations

import datetime as dt
import getpass
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode

from noria.errors import NoriaError, NotFoundError, UserError
from noria.ui import auth, datapages, pages, previews

if TYPE_CHECKING:
    from noria.project import Project
    from noria.ui.project import DashboardProject

__all__ = ["UISettings", "create_app", "serve_ui"]

_HERE = Path(__file__).parent
_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
_OPEN = {"/health", "/login", "/static/ui.css"}
_MAX_FORM = 64 * 1024
_EXTENSIONS = {
    "parquet": "parquet",
    "npy": "npy",
    "joblib": "joblib",
    "json": "json",
    "pickle": "pkl",
}


@dataclass
class UISettings:
    """How ``noria ui`` runs."""

    host: str = "127.0.0.1"
    port: int = 8765
    allow_actions: bool = False
    token: str | None = None


def _templates() -> Any:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(_HERE / "templates")),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=_when,
        num=_num,
        dur=_dur,
        size=_size,
        short=lambda s: (s or "")[:8],
        pathpart=lambda s: quote(str(s), safe=""),
    )
    env.globals.update(link=link, value_text=_value_text)
    return env


def _when(t: float | None) -> str:
    return "-" if t is None else dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M:%S")


def _num(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return "" if v is None else str(v).lower()
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _dur(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def num_text(v: Any) -> str:
    """A metric or param value as the tables show it (``0.9123``, ``true``, empty for none)."""
    return _num(v)


def value_text(v: Any) -> str:
    """A param value as text: JSON for lists and dicts, else as :func:`num_text`."""
    return _value_text(v)


def _value_text(v: Any) -> str:
    if isinstance(v, (dict, list)):
        import orjson

        return orjson.dumps(v, option=orjson.OPT_SORT_KEYS).decode()
    return _num(v)


def link(path: str, current: dict[str, str] | None = None, **changes: Any) -> str:
    """``path`` with the query of ``current`` updated by ``changes`` (``None`` removes a key)."""
    values = dict(current or {})
    for key, value in changes.items():
        if value is None or value == "":
            values.pop(key, None)
        else:
            values[key] = str(value)
    query = urlencode(sorted(values.items()))
    return f"{path}?{query}" if query else path


class _Ctx:
    """The per-process state: the dashboard, the guard, the templates."""

    def __init__(self, project: Project | DashboardProject, settings: UISettings) -> None:
        self.settings = settings
        self.dash = pages.Dashboard(project, allow_actions=settings.allow_actions)
        self.guard = auth.Guard(settings.token)
        self.env = _templates()
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        self.actor = f"{user} (ui)"


def create_app(project: Project | DashboardProject, settings: UISettings) -> Any:
    """The Starlette app of the dashboard for ``project``."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
    from starlette.routing import Route

    ctx = _Ctx(project, settings)

    def html(
        request: Request,
        template: str,
        data: dict[str, Any],
        status: int = 200,
        session: str | None = None,
    ) -> Response:
        session = session or request.cookies.get(auth.SESSION_COOKIE) or auth.new_session()
        body = ctx.env.get_template(template).render(
            **data,
            q=dict(request.query_params),
            path=request.url.path,
            actions=settings.allow_actions,
            csrf=ctx.guard.csrf_token(session),
            login=bool(settings.token),
        )
        response = HTMLResponse(body, status_code=status)
        _secure(response)
        if request.cookies.get(auth.SESSION_COOKIE) != session:
            response.headers.append("set-cookie", auth.cookie(auth.SESSION_COOKIE, session))
        return response

    def error(request: Request, status: int, message: str) -> Response:
        return html(request, "error.html.j2", {"status": status, "message": message}, status)

    def refused(request: Request) -> Response:
        """A browser's page view goes to the login page; anything else gets a 401."""
        nxt = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        browser = "text/html" in request.headers.get("accept", "")
        if browser and request.method == "GET" and "authorization" not in request.headers:
            return RedirectResponse(link("/login", None, next=nxt), status_code=303)
        return html(request, "login.html.j2", {"next": nxt, "wrong": False}, 401)

    def page(fn: Callable[..., Any]) -> Callable[[Request], Any]:
        def endpoint(request: Request) -> Response:
            if request.url.path not in _OPEN and not ctx.guard.allowed(
                request.headers.get("authorization"), request.cookies
            ):
                return refused(request)
            try:
                return fn(request)
            except NotFoundError as exc:
                return error(request, 404, str(exc))
            except NoriaError as exc:
                return error(request, getattr(exc, "http_status", 400) or 400, str(exc))

        return endpoint

    def show(request: Request, result: tuple[str, dict[str, Any], int]) -> Response:
        template, data, status = result
        return html(request, template, data, status)

    # ----------------------------------------------------------------- pages

    def home(request: Request) -> Response:
        return RedirectResponse("/runs", status_code=303)

    def runs(request: Request) -> Response:
        return show(request, pages.runs(ctx.dash, dict(request.query_params)))

    def one_run(request: Request) -> Response:
        return show(
            request, pages.run(ctx.dash, request.path_params["run_id"], dict(request.query_params))
        )

    def compare(request: Request) -> Response:
        refs = [r for v in request.query_params.getlist("run") for r in v.split(",")]
        refs += [r for r in request.query_params.get("runs", "").split(",") if r]
        return show(request, pages.compare(ctx.dash, dict(request.query_params), refs))

    def models(request: Request) -> Response:
        return show(request, pages.models(ctx.dash))

    def one_model(request: Request) -> Response:
        return show(
            request, pages.model(ctx.dash, request.path_params["name"], dict(request.query_params))
        )

    def version(request: Request) -> Response:
        p = request.path_params
        return show(request, pages.card(ctx.dash, p["name"], p["version"]))

    def monitor(request: Request) -> Response:
        return show(request, pages.monitor(ctx.dash))

    def window(request: Request) -> Response:
        p = request.path_params
        return show(request, pages.window(ctx.dash, p["name"], p["window"]))

    def data(request: Request) -> Response:
        return show(request, datapages.data_versions(ctx.dash))

    def data_version(request: Request) -> Response:
        artifact_id = request.path_params["artifact_id"]
        return show(
            request, datapages.data_version(ctx.dash, artifact_id, dict(request.query_params))
        )

    def artifact_view(request: Request) -> Response:
        artifact_id = request.path_params["artifact_id"]
        if not re.fullmatch(r"[0-9a-f]{16,128}", artifact_id):
            raise NotFoundError(f"no artifact '{artifact_id[:80]}'")
        return show(request, previews.preview(ctx.dash, artifact_id))

    def report(request: Request) -> Response:
        path = pages.report_file(project, request.path_params["file"])
        response = FileResponse(path, media_type="text/html; charset=utf-8")
        _secure(response, _REPORT_CSP)
        return response

    def artifact(request: Request) -> Response:
        artifact_id = request.path_params["artifact_id"]
        if not re.fullmatch(r"[0-9a-f]{16,128}", artifact_id):
            raise NotFoundError(f"no artifact '{artifact_id[:80]}'")
        record = ctx.dash.store.artifact(artifact_id)  # only what the store recorded
        data = project.artifacts.get(artifact_id)  # hash-checked
        ext = _EXTENSIONS.get(record["materializer"], "bin")
        response = Response(
            data,
            media_type="application/octet-stream",
            headers={"content-disposition": f'attachment; filename="{artifact_id[:12]}.{ext}"'},
        )
        _secure(response)
        return response

    def health(request: Request) -> Response:
        return Response("ok", media_type="text/plain")

    def css(request: Request) -> Response:
        response = FileResponse(_HERE / "static" / "ui.css", media_type="text/css")
        response.headers["cache-control"] = "max-age=3600"
        return response

    # ----------------------------------------------------------------- login, actions

    async def login(request: Request) -> Response:
        nxt = request.query_params.get("next", "/runs")
        if request.method == "GET":
            return html(request, "login.html.j2", {"next": nxt, "wrong": False})
        form = await _form(request)
        nxt = form.get("next", "/runs")
        if not nxt.startswith("/") or nxt.startswith("//") or "\\" in nxt:
            nxt = "/runs"  # never an open redirect
        if not ctx.guard.token_matches(form.get("token", "")):
            return html(request, "login.html.j2", {"next": nxt, "wrong": True}, 401)
        response = RedirectResponse(nxt, status_code=303)
        response.headers.append("set-cookie", auth.cookie(auth.LOGIN_COOKIE, ctx.guard.login_value))
        return response

    def logout(request: Request) -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.headers.append("set-cookie", auth.cookie(auth.LOGIN_COOKIE, "", max_age=0))
        return response

    async def action(request: Request) -> Response:
        if not ctx.guard.allowed(request.headers.get("authorization"), request.cookies):
            return error(request, 401, "log in first")
        if not settings.allow_actions:
            return error(
                request,
                403,
                "this dashboard is read-only: start it with "
                "`noria ui --allow-actions` to promote or roll back",
            )
        form = await _form(request)
        session = request.cookies.get(auth.SESSION_COOKIE, "")
        if not ctx.guard.csrf_ok(
            session,
            form.get("csrf", ""),
            request.headers.get("origin"),
            request.headers.get("host"),
        ):
            return error(
                request,
                403,
                "the form's security token is missing or stale: reload the page and try again",
            )
        name = request.path_params["name"]
        what = request.path_params["action"]
        from starlette.concurrency import run_in_threadpool

        try:
            done = await run_in_threadpool(_act, ctx, project, name, what, form)
        except NotFoundError as exc:
            return error(request, 404, str(exc))
        except NoriaError as exc:
            data = (
                pages.model(ctx.dash, name, {})[1] if ctx.dash.store.model_versions(name) else None
            )
            if data is None:
                return error(request, 400, str(exc))
            data["failure"] = str(exc)
            return html(request, "model.html.j2", data, getattr(exc, "http_status", 400))
        return RedirectResponse(
            link(f"/models/{quote(name, safe='')}", None, **done), status_code=303
        )

    routes = [
        Route("/", page(home)),
        Route("/health", health),
        Route("/static/ui.css", css),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout),
        Route("/runs", page(runs)),
        Route("/runs/{run_id}", page(one_run)),
        Route("/compare", page(compare)),
        Route("/models", page(models)),
        Route("/models/{name}", page(one_model)),
        Route("/models/{name}/versions/{version}", page(version)),
        Route("/models/{name}/{action:str}", action, methods=["POST"]),
        Route("/monitor", page(monitor)),
        Route("/monitor/{name}/windows/{window}", page(window)),
        Route("/data", page(data)),
        Route("/data/{artifact_id}", page(data_version)),
        Route("/reports/{file:path}", page(report)),
        Route("/artifacts/{artifact_id}", page(artifact)),
        Route("/artifacts/{artifact_id}/view", page(artifact_view)),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        if status == 405:
            return error(request, 405, "method not allowed")
        if not ctx.guard.allowed(request.headers.get("authorization"), request.cookies):
            return refused(request)
        return error(request, 404, f"no page at {request.url.path[:200]}")

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})
    app.state.dashboard = ctx.dash
    return app


def _secure(response: Any, csp: str = _CSP) -> None:
    response.headers["content-security-policy"] = csp
    response.headers["x-content-type-options"] = "nosniff"
    response.headers["referrer-policy"] = "same-origin"
    response.headers["cache-control"] = "no-store"
    response.headers["x-frame-options"] = "DENY"


async def _form(request: Any) -> dict[str, str]:
    """An urlencoded form body (at most 64 KB; no multipart parser needed)."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM:
            raise UserError("form too large")
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _act(
    ctx: _Ctx, project: Project | DashboardProject, name: str, what: str, form: dict[str, str]
) -> dict:
    """Promote or roll back through the registry; the redirect's query values."""
    from noria.registry import PromotionGates, judged_metric, promote, rollback

    store = ctx.dash.store
    reason = (form.get("reason") or "").strip()[:500] or None
    if what == "promote":
        try:
            version = int(form.get("version", ""))
        except ValueError:
            raise UserError("promote: which version? (the form sent none)") from None
        alias = (form.get("alias") or "champion").strip()
        gates = PromotionGates()
        if project.spec is not None:
            metric = judged_metric(store, name, project.spec.models.metric)
            gates = PromotionGates.from_spec(project.spec.promotion, default_metric=metric)
        promote(
            store,
            name,
            version,
            to=alias,
            gates=gates,
            reason=reason or f"promoted to {alias} from the dashboard",
            actor=ctx.actor,
            artifacts=project.artifacts,
        )
        return {"done": "promoted", "version": version, "alias": alias}
    if what == "rollback":
        alias = (form.get("alias") or "champion").strip()
        _, target = rollback(
            store,
            name,
            alias=alias,
            reason=reason or "rolled back from the dashboard",
            actor=ctx.actor,
        )
        return {"done": "rolled back", "version": target, "alias": alias}
    raise NotFoundError(f"no action '{what[:40]}' (promote or rollback)")


def serve_ui(
    project: Project | DashboardProject,
    settings: UISettings,
    *,
    sock: Any = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve the dashboard until interrupted (uvicorn, one process).

    Args:
        project: the project whose stores are shown.
        settings: host, port, actions, token.
        sock: an already bound socket (the CLI binds first to report a busy port nicely).
        on_ready: called once the server listens.
    """
    import uvicorn

    app = create_app(project, settings)

    class _Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets=sockets)
            if on_ready is not None and not self.should_exit:
                on_ready()
            if not self.should_exit:  # the keys of the store load in the background from now
                app.state.dashboard.catalogs.peek()

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,
    )
    _Server(config).run(sockets=[sock] if sock is not None else None)
