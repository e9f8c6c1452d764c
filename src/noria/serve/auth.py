"""The bearer-token check shared by the HTTP servers (``noria serve`` and ``noria ui``).

When ``NORIA_TOKEN`` is set, a request must carry ``Authorization: Bearer <token>``. The token is
compared as bytes in constant time (:func:`hmac.compare_digest`), so its content cannot be
guessed from response times, and a header with any bytes at all (non-ASCII included) is a plain
refusal, never an error. Not here: what a server does with a refused request (401 JSON for the
model server, a login page for the dashboard).
"""

from __future__ import annotations

import hmac
import os

__all__ = ["bearer_ok", "env_token", "header_bytes", "token_matches"]


def env_token() -> str | None:
    """The token of ``NORIA_TOKEN``, or ``None`` when unset or empty."""
    return os.environ.get("NORIA_TOKEN") or None


def header_bytes(text: str) -> bytes:
    """A header value's bytes (Starlette decodes headers as latin-1; other text as UTF-8)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode()


def token_matches(sent: bytes | None, token: str) -> bool:
    """Whether ``sent`` is ``token``, compared in constant time (``None`` never matches)."""
    return sent is not None and hmac.compare_digest(sent, token.encode())


def bearer_ok(authorization: str | None, token: str | None) -> bool:
    """Whether an ``Authorization`` header carries ``token`` (always true without a token)."""
    if not token:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and token_matches(header_bytes(given.strip()), token)
