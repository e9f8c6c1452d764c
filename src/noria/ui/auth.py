"""Who may see the dashboard, and which forms may change something.

- **Token.** When ``NORIA_TOKEN`` is set, every page needs either the header
  ``Authorization: Bearer <token>`` (scripts, ``curl``) or the login cookie that ``/login`` sets
  after the token was typed once. The cookie holds ``HMAC-SHA256(token, "noria-ui-login/1")``,
  not the token: it is worthless elsewhere, survives a restart of ``noria ui`` and dies when the
  token changes. It is ``HttpOnly`` and ``SameSite=Strict``. Both checks compare in constant time.
- **CSRF.** Every browser gets a random session cookie (``HttpOnly``, ``SameSite=Strict``); the
  forms that change something (promote, rollback) carry ``HMAC(server secret, session)`` in a
  hidden field, which the server recomputes on POST. A foreign page can neither read the field
  nor send the cookie, and a request with a foreign ``Origin`` is refused outright.

Not here: whether actions are allowed at all (``--allow-actions``, :mod:`noria.ui.app`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

from noria.serve.auth import bearer_ok

__all__ = ["Guard"]

LOGIN_COOKIE = "noria_login"
SESSION_COOKIE = "noria_session"


class Guard:
    """The token, the login cookie and the CSRF tokens of one ``noria ui`` process.

    Args:
        token: the ``NORIA_TOKEN`` (``None``: no login needed).
    """

    def __init__(self, token: str | None) -> None:
        self.token = token
        self._secret = secrets.token_bytes(32)

    @property
    def login_value(self) -> str:
        """The login cookie's value for the current token."""
        if not self.token:
            return ""
        return hmac.new(self.token.encode(), b"noria-ui-login/1", hashlib.sha256).hexdigest()

    def token_matches(self, given: str) -> bool:
        """Whether a typed token is the token (constant time)."""
        return bool(self.token) and hmac.compare_digest(
            given.strip().encode(), (self.token or "").encode()
        )

    def allowed(self, authorization: str | None, cookies: dict[str, str]) -> bool:
        """Whether a request may see pages: no token set, a bearer header, or the login cookie."""
        if not self.token:
            return True
        if authorization and bearer_ok(authorization, self.token):
            return True
        given = cookies.get(LOGIN_COOKIE, "")
        return bool(given) and hmac.compare_digest(given.encode(), self.login_value.encode())

    def csrf_token(self, session: str) -> str:
        """The form token of a session."""
        return hmac.new(self._secret, session.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: str, given: str, origin: str | None, host: str | None) -> bool:
        """Whether a POST carries its session's form token and comes from this site."""
        if origin and origin != "null":
            if urlsplit(origin).netloc != (host or ""):
                return False
        elif origin == "null":
            return False
        return (
            bool(session)
            and bool(given)
            and hmac.compare_digest(given.encode(), self.csrf_token(session).encode())
        )


def new_session() -> str:
    """A fresh session id."""
    return secrets.token_urlsafe(24)


def parse_cookies(header: str | None) -> dict[str, str]:
    """The cookies of a ``Cookie`` header (malformed ones ignored)."""
    if not header:
        return {}
    jar = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed header: no cookies
        return {}
    return {k: m.value for k, m in jar.items()}


def cookie(name: str, value: str, *, max_age: int | None = None) -> str:
    """A ``Set-Cookie`` value: HttpOnly, SameSite=Strict, the whole site."""
    age = f"; Max-Age={max_age}" if max_age is not None else ""
    return f"{name}={value}; Path=/; HttpOnly; SameSite=Strict{age}"
