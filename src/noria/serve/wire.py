"""HTTP plumbing that every route of the model server shares.

- :func:`exchange` runs one route's work: the bearer token, the request id, the mapping of an
  error to its status and body (in the route's protocol style), the metrics;
- :func:`read_body` reads a request body with a size limit (413); :func:`parse_json` parses it
  (400 when malformed);
- :class:`BodyGuard` wraps every HTTP request at the ASGI level. It puts a deadline on reading the
  body (408 past ``body_timeout_s``), and it makes an answer given before the body was read (a 413
  on the ``Content-Length``, a 401, a 404) reach a client that sends its whole body without waiting
  for ``100 Continue`` (Python's urllib, requests): the rest of the body is read and discarded, up
  to :data:`DRAIN_BYTES` and within the deadline, before the answer goes out. Past that bound the
  answer goes out with ``Connection: close`` (the client may then see a reset). A client that did
  send ``Expect: 100-continue`` (curl) is answered at once: it has not sent its body;
- :func:`protocol_class` gives uvicorn an HTTP protocol that answers 408 and closes a connection
  whose request headers do not arrive within ``header_timeout_s`` (slow clients, slow-loris);
- :func:`check_token` (bytes compared in constant time), :func:`request_id` (bounded ids),
  :func:`clip` and :func:`clip_message` (user text echoed in errors is bounded).

Not here: the wire protocols themselves (:mod:`noria.serve.noria_api`,
:mod:`noria.serve.mlflow_api`, :mod:`noria.serve.oip`), the OpenAPI document
(:mod:`noria.serve.openapi`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from noria.errors import (
    DataError,
    NoriaError,
    PayloadTooLarge,
    Unauthorized,
    UserError,
    did_you_mean,
)
from noria.serve.auth import header_bytes, token_matches

if TYPE_CHECKING:
    from noria.serve.app import Server

__all__ = [
    "DRAIN_BYTES",
    "REQUEST_ID_PATTERN",
    "BodyGuard",
    "RequestTimeout",
    "check_token",
    "clip",
    "clip_message",
    "error_body",
    "exchange",
    "only",
    "parse_json",
    "protocol_class",
    "read_body",
    "request_id",
]

#: The most bytes of an unread request body discarded so that an early answer reaches the client.
DRAIN_BYTES = 256 * 1024 * 1024

#: What an ``X-Request-Id`` (or an Open Inference ``id``) may be: 1 to 128 of these characters.
REQUEST_ID_PATTERN = r"^[A-Za-z0-9._:;=/+@-]{1,128}$"
_REQUEST_ID = re.compile(REQUEST_ID_PATTERN)

JSON = "application/json"


class RequestTimeout(UserError):
    """A request whose body did not arrive within the server's deadline (HTTP 408)."""

    http_status = 408


# --------------------------------------------------------------------------- user text


def clip(text: str, limit: int = 64) -> str:
    """``text``, or its first ``limit`` characters and how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


_QUOTED = re.compile(r"'([^']{65,})'")


def clip_message(message: str) -> str:
    """``message`` with every quoted name or value over 64 characters clipped (an unknown key of
    a megabyte is named by its start and its length, not echoed whole)."""
    if len(message) < 130:
        return message
    return _QUOTED.sub(
        lambda m: m.group(0) if " characters)" in m.group(1) else f"'{clip(m.group(1))}'", message
    )


def request_id(given: str | None, where: str = "header X-Request-Id") -> str:
    """The request's id: the client's (checked) or a new random one.

    Raises:
        UserError: an id over 128 characters or with other characters than letters, digits and
            ``- _ . : ; = / + @`` (it is logged and used to join labels, so it is refused rather
            than silently replaced: the client's own labels would never join).
    """
    if given is None:
        return uuid.uuid4().hex
    if _REQUEST_ID.match(given):
        return given
    bad = (
        "empty"
        if not given
        else f"{len(given):,} characters"
        if len(given) > 128
        else f"character {next(c for c in given if not _REQUEST_ID.match(c))!r} is not allowed"
    )
    raise UserError(
        f"{where}: {bad}; send 1 to 128 letters, digits or - _ . : ; = / + @ "
        "(or none, and the server makes one)"
    )


def check_token(token: str | None, authorization: str | None, *, basic: bool = False) -> None:
    """Raise :class:`Unauthorized` unless ``authorization`` carries ``token`` (when one is set).

    The comparison is of bytes, in constant time: a header with any bytes at all (non-ASCII
    included) is a 401, never an error. With ``basic``, ``Basic`` credentials whose password is
    the token are accepted too (a browser can open the docs that way; the user name is ignored).
    """
    if not token:
        return
    scheme, _, given = (authorization or "").partition(" ")
    scheme = scheme.lower()
    sent: bytes | None = None
    if scheme == "bearer":
        sent = header_bytes(given.strip())
    elif basic and scheme == "basic":
        try:
            decoded = base64.b64decode(header_bytes(given.strip()), validate=True)
        except (binascii.Error, ValueError):
            decoded = b""
        _, colon, password = decoded.partition(b":")
        sent = password if colon else None
    if not token_matches(sent, token):
        raise Unauthorized(
            "missing or wrong bearer token: send the header 'Authorization: Bearer <NORIA_TOKEN>'"
        )


# --------------------------------------------------------------------------- bodies


async def read_body(request: Request, limit: int) -> bytes:
    """The request's body, read with a size limit.

    Raises:
        PayloadTooLarge: over ``limit`` bytes (by its ``Content-Length``, or as it streams).
        RequestTimeout: the body did not arrive in time (from :class:`BodyGuard`).
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
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def only(payload: Any, allowed: tuple[str, ...], where: str = "body") -> dict[str, Any]:
    """``payload``, checked to be a JSON object whose keys are all among ``allowed``.

    Raises:
        DataError: not an object, or an unknown key (named, clipped, with a near match).
    """
    if not isinstance(payload, dict):
        raise DataError(f"{where}: expected a JSON object, got {type(payload).__name__}")
    for key in payload:
        if key not in allowed:
            raise DataError(
                f"{where}: unknown field '{clip(key)}'{did_you_mean(key[:64], allowed)}; "
                f"allowed: {', '.join(allowed)}"
            )
    return payload


def parse_json(body: bytes, where: str = "body") -> Any:
    """``body`` parsed as JSON (whatever the content type says: curl sends form types).

    Raises:
        UserError: an empty or malformed body (400).
    """
    if not body:
        raise UserError(f"{where}: empty; send a JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise UserError(f"{where}: malformed JSON ({exc}); NaN and Infinity are not JSON") from None


class BodyGuard:
    """One HTTP request's ``receive`` and ``send``, with a body deadline and an early-answer drain.

    Args:
        scope: the ASGI scope.
        receive: the server's ``receive``.
        send: the server's ``send``.
        timeout_s: the whole body must arrive within this many seconds of the headers.
    """

    __slots__ = ("_receive", "_send", "closing", "deadline", "done", "expired", "read", "scope")

    def __init__(self, scope: dict[str, Any], receive: Any, send: Any, timeout_s: float) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self.deadline = time.monotonic() + timeout_s
        self.done = False
        self.expired = False
        self.read = -1  # body bytes received; -1 while receive was never called
        self.closing = False

    async def receive(self) -> dict[str, Any]:
        """The next ASGI message; :class:`RequestTimeout` past the deadline."""
        if self.done:
            return await self._receive()
        if self.read < 0:
            self.read = 0
        remaining = self.deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise TimeoutError
            message = await _within(remaining, self._receive())
        except TimeoutError:
            self.expired = True
            raise RequestTimeout(
                "body: not received within the server's body timeout; send the body at once "
                "(or raise body_timeout_s)"
            ) from None
        if message["type"] == "http.request":
            self.read += len(message.get("body", b""))
            if not message.get("more_body", False):
                self.done = True
        else:
            self.done = True
        return message

    async def send(self, message: dict[str, Any]) -> None:
        """Send ``message``; before a response starts, settle the unread body."""
        if message["type"] == "http.response.start" and not self.done and not await self._settle():
            message = dict(message)
            message["headers"] = [*message.get("headers", ()), (b"connection", b"close")]
        await self._send(message)

    async def _settle(self) -> bool:
        """Read and discard the rest of the body; ``False`` when the connection must close."""
        length: int | None = None
        chunked = expect = False
        for name, value in self.scope["headers"]:
            if name == b"content-length":
                length = int(value) if value.isdigit() else None
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"expect":
                expect = value.lower() == b"100-continue"
        if not chunked and not length:
            self.done = True
            return True
        if self.expired or (expect and self.read < 0):
            return False  # past the deadline; or a client still waiting for 100 Continue
        if length is not None and length - max(self.read, 0) > DRAIN_BYTES:
            return False
        try:
            while not self.done:
                await self.receive()
                if self.read > DRAIN_BYTES:
                    return False
        except RequestTimeout:
            return False
        return True


async def _within(seconds: float, awaitable: Awaitable[Any]) -> Any:
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)  # pragma: no cover - Python 3.10


# --------------------------------------------------------------------------- connections


_TIMEOUT_408 = orjson.dumps(
    {"error": {"status": 408, "message": "request headers not received in time"}}
)


def protocol_class(header_timeout_s: float) -> type:
    """uvicorn's HTTP protocol, closing connections whose request headers come too slowly.

    A timer runs from the moment a connection opens, or the first byte of a new request arrives,
    to the end of that request's headers; when it fires the server answers 408 and closes. Idle
    keep-alive connections are closed by uvicorn's own ``timeout_keep_alive``.
    """
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    base: Any = AutoHTTPProtocol

    class HeaderDeadline(base):  # type: ignore[misc, valid-type]
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            before = self.cycle
            super().data_received(data)
            if self.cycle is not before:  # a request's headers are complete
                self._disarm()
            elif before is None or before.response_complete:  # headers still coming
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(header_timeout_s, self._expire)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _expire(self) -> None:
            self._header_timer = None
            transport = self.transport
            if transport is None or transport.is_closing():
                return
            transport.write(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n%s"
                % (len(_TIMEOUT_408), _TIMEOUT_408)
            )
            transport.close()

    return HeaderDeadline


# --------------------------------------------------------------------------- one exchange


def error_body(style: str, status: int, message: str) -> bytes:
    """An error's body in a protocol's style: noria, ``mlflow`` or ``v2``."""
    if style == "mlflow":
        code = {400: "BAD_REQUEST", 404: "RESOURCE_DOES_NOT_EXIST", 413: "BAD_REQUEST"}.get(
            status, "INVALID_PARAMETER_VALUE" if status < 500 else "INTERNAL_ERROR"
        )
        return orjson.dumps({"error_code": code, "message": message})
    if style == "v2":
        return orjson.dumps({"error": message})
    return orjson.dumps({"error": {"status": status, "message": message}})


Work = Callable[[str, float], Awaitable["bytes | Response"]]


async def exchange(
    server: Server, request: Request, route: str, style: str, work: Work
) -> Response:
    """Run ``work(request_id, started)`` for one request and answer it.

    ``work`` returns the JSON body of a 200, or a whole :class:`Response`. Every
    :class:`~noria.errors.NoriaError` becomes its status with a body in ``style``; anything else
    is a bug, answered 500, and the server keeps serving.
    """
    started = time.perf_counter()
    headers: dict[str, str] = {}
    try:
        server.check_token(request.headers.get("authorization"))
        rid = request_id(request.headers.get("x-request-id"))
        headers["x-request-id"] = rid
        body = await work(rid, started)
        status = 200
        if isinstance(body, Response):
            response = body
            response.headers.update(headers)
        else:
            response = Response(body, media_type=JSON, headers=headers)
    except NoriaError as exc:
        status = exc.http_status
        response = Response(
            error_body(style, status, clip_message(str(exc))),
            status_code=status,
            media_type=JSON,
            headers=headers,
        )
        if status == 401:
            response.headers["www-authenticate"] = "Bearer"
        elif status == 408:
            response.headers["connection"] = "close"
    except Exception as exc:  # a bug: say so, keep serving
        status = 500
        response = Response(
            error_body(style, 500, clip_message(f"internal error: {type(exc).__name__}: {exc}")),
            status_code=500,
            media_type=JSON,
        )
    server.metrics.observe(route, status, time.perf_counter() - started)
    return response
