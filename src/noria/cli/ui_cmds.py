"""``noria ui``: the dashboard in a browser."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    """Add ``noria ui`` to ``app``."""
    app.command("ui")(ui)


def ui(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (127.0.0.1)."),
    port: int = typer.Option(8765, "--port", help="Port (8765; 0 picks a free one)."),
    allow_actions: bool = typer.Option(
        False, "--allow-actions", help="Show promote and rollback buttons (audited as the UI)."
    ),
    path: Path = typer.Option(Path("."), "--path", help="The project folder."),
    token: Optional[str] = typer.Option(  # noqa: UP045
        None,
        "--token",
        envvar="NORIA_TOKEN",
        show_envvar=True,
        hidden=True,
        help="Require this token (default: NORIA_TOKEN).",
    ),
) -> None:
    """Browse runs, compare them, see models, their audit log and the monitor, in a browser."""
    import socket

    from noria.errors import UserError
    from noria.ui.app import UISettings, serve_ui
    from noria.ui.project import DashboardProject, find_root

    project = DashboardProject(find_root(path))  # the store section now, the rest when needed
    settings = UISettings(host=host, port=port, allow_actions=allow_actions, token=token or None)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        raise UserError(
            f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port"
        ) from None
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host

    def ready() -> None:
        mode = "promote/rollback allowed" if allow_actions else "read-only"
        auth = ", token required" if settings.token else ""
        print(f"noria ui on http://{shown}:{bound}/ ({mode}{auth}); Ctrl-C stops", flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        serve_ui(project, settings, sock=sock, on_ready=ready)
