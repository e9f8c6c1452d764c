"""How the model server serves: :class:`ServeSettings` (noria.yaml's ``serve:``) and the refusal
to serve beyond this machine without a token (:func:`exposure`).

Importing this module loads neither FastAPI nor the model: the CLI checks the settings before
it starts anything.

Not here: the server (:mod:`noria.serve.app`), the bearer-token check of requests
(:mod:`noria.serve.wire`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from noria.errors import UserError

if TYPE_CHECKING:
    from noria.project import Project

__all__ = ["ServeSettings", "exposure", "settings_from_project"]


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
