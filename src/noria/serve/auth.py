"""The bearer-token check shared by the HTTP servers (``noria serve`` and ``noria ui``).

When ``NORIA_TOKEN`` is set, a request must carry ``Authorization: Bearer <token>``. The token is
compared in constant time (:func:`hmac.compare_digest`), so its content cannot be guessed from
response times. Not here: what a server does with a refused request (401 JSON for the model
server, a login page for the dashboard).
"""

from __future__ import annotations

import hmac
import os

__all__ = ["bearer_ok", "env_token"]


def env_token() -> str | None:
    """The token of ``NORIA_TOKEN``, or ``None`` when unset or empty."""
    return os.environ.get("NORIA_TOKEN") or None


def bearer_ok(authorization: str | None, token: str | None) -> bool:
    """Whether an ``Authorization`` header carries ``token`` (always true without a token)."""
    if not token:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )
