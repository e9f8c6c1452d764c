"""HTTP as clients that are not curl speak it, and as hostile ones do: early answers that reach
a client still sending its body, timeouts for slow connections, tokens with odd bytes, bounded
request ids and echoed names, and the refusal to serve beyond loopback without a token."""

from __future__ import annotations

import http.client
import socket
import time
import urllib.error
import urllib.request
from typing import Any

import httpx
import orjson
import pytest

from noria.errors import UserError
from noria.serve.app import ServeSettings, exposure
from noria.serve.wire import check_token, clip_message, request_id

from .conftest import ROW, LiveServer

BIG = 24 * 1024 * 1024  # well past the 1 MB limit below, well past the sockets' buffers


def _big_body() -> bytes:
    return b'{"records": [' + b" " * BIG + b"]}"


@pytest.fixture
def small(served_project: Any) -> Any:
    with LiveServer(served_project, max_body_mb=1, token=None) as server:
        yield server


def test_413_reaches_urllib_that_streams_its_body(small: LiveServer) -> None:
    """urllib sends the whole body at once, without Expect: 100-continue, and 'Connection:
    close': it used to get a connection reset (a broken pipe) instead of the 413."""
    request = urllib.request.Request(small.url + "/predict", data=_big_body(), method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=60)
    assert caught.value.code == 413
    assert "over the limit of 1,048,576" in orjson.loads(caught.value.read())["error"]["message"]


def test_413_reaches_http_client_and_the_connection_lives_on(small: LiveServer) -> None:
    """http.client (under requests): the 413 arrives, and the same keep-alive connection then
    serves a prediction (the rest of the big body was read and discarded)."""
    conn = http.client.HTTPConnection("127.0.0.1", small.port, timeout=60)
    conn.request("POST", "/invocations", body=_big_body())
    response = conn.getresponse()
    assert response.status == 413 and b"BAD_REQUEST" in response.read()
    conn.request("POST", "/predict", body=orjson.dumps({"records": [ROW]}))
    response = conn.getresponse()
    assert response.status == 200 and b"predictions" in response.read()
    conn.close()


def test_every_early_error_reaches_the_client(served_project: Any) -> None:
    """A 401 (token checked before the body is read) and a 404 (unknown model) also wait for
    the body, so that the client reads them."""
    with LiveServer(served_project, max_body_mb=64, token="s3cret") as server:
        body = _big_body()
        request = urllib.request.Request(server.url + "/predict", data=body, method="POST")
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=60)
        assert caught.value.code == 401
        request = urllib.request.Request(
            server.url + "/v2/models/nope/infer",
            data=body,
            method="POST",
            headers={"Authorization": "Bearer s3cret"},
        )
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=60)
        assert caught.value.code == 404


def test_expect_100_continue_is_answered_at_once(small: LiveServer) -> None:
    """curl's way: a client that waits for 100 Continue gets the 413 without sending a byte."""
    with socket.create_connection(("127.0.0.1", small.port), timeout=10) as s:
        s.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
            b"Expect: 100-continue\r\n\r\n" % (50 * 1024 * 1024)
        )
        head = s.recv(65536)
    assert head.startswith(b"HTTP/1.1 413") and b"connection: close" in head.lower()


def test_slow_headers_and_slow_bodies_time_out(served_project: Any) -> None:
    with LiveServer(served_project, header_timeout_s=0.5, body_timeout_s=0.5) as server:
        # headers that never end: answered 408 and closed (they used to hold the connection)
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            data = s.recv(65536)
            assert data.startswith(b"HTTP/1.1 408")
            assert s.recv(65536) == b""  # closed
            assert time.monotonic() - started < 5
        # a connection that sends nothing at all is closed too
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            assert s.recv(65536).startswith(b"HTTP/1.1 408")
        # a body that stops half way: 408 with the reason
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            data = s.recv(65536)
            assert data.startswith(b"HTTP/1.1 408") and b"body timeout" in data
        # a normal request on a fresh connection still works
        r = httpx.post(server.url + "/predict", json={"records": [ROW]}, timeout=30)
        assert r.status_code == 200


def test_non_ascii_token_is_a_401_not_a_500(served_project: Any) -> None:
    with LiveServer(served_project, token="s3cret") as server:
        for value in (b"Bearer s3cr\xe9t", b"Bearer \xff\xfe", "Bearer ß".encode()):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            conn.putrequest("POST", "/predict")
            conn.putheader("Authorization", value)
            body = orjson.dumps({"records": [ROW]})
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            assert response.status == 401, response.read()
            conn.close()
    check_token("sécret", "Bearer sécret".encode().decode("latin-1"))  # bytes as sent: accepted


def test_docs_need_the_token_and_load_nothing_from_a_cdn(served_project: Any) -> None:
    import base64

    with LiveServer(served_project, token="s3cret") as server:
        for path in ("/docs", "/openapi.json", "/docs/swagger-ui-bundle.js"):
            r = httpx.get(server.url + path, timeout=30)
            assert r.status_code == 401, path
            assert "Basic" in r.headers["www-authenticate"]  # a browser asks for the password
        bearer = {"Authorization": "Bearer s3cret"}
        basic = {"Authorization": "Basic " + base64.b64encode(b"me:s3cret").decode()}
        assert httpx.get(server.url + "/openapi.json", headers=bearer).status_code == 200
        page = httpx.get(server.url + "/docs", headers=basic)
        assert page.status_code == 200
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert "http://" not in page.text and "https://" not in page.text
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "init.js", "LICENSE"):
            assert f"/docs/{asset}" in page.text or asset == "LICENSE"
            r = httpx.get(server.url + f"/docs/{asset}", headers=basic)
            assert r.status_code == 200 and len(r.content) > 100, asset
        js = httpx.get(server.url + "/docs/swagger-ui-bundle.js", headers=basic).text
        assert "SwaggerUIBundle" in js
        wrong = {"Authorization": "Basic " + base64.b64encode(b"me:nope").decode()}
        assert httpx.get(server.url + "/docs", headers=wrong).status_code == 401
        # the API itself takes the bearer token only
        r = httpx.post(server.url + "/predict", json={"records": [ROW]}, headers=basic)
        assert r.status_code == 401
        assert httpx.get(server.url + "/redoc", headers=bearer).status_code == 404


def test_request_ids_are_bounded(live: LiveServer) -> None:
    def post(rid: str) -> httpx.Response:
        return httpx.post(
            live.url + "/predict", json={"records": [ROW]}, headers={"x-request-id": rid}
        )

    r = post("x" * 60_000)
    assert r.status_code == 400
    assert "header X-Request-Id: 60,000 characters" in r.json()["error"]["message"]
    assert len(r.content) < 400
    r = post("a b")
    assert r.status_code == 400 and "character ' ' is not allowed" in r.json()["error"]["message"]
    ok = "trace-7f3a:span=1/2"
    assert post(ok).json()["request_id"] == ok
    ids = {httpx.post(live.url + "/predict", json={"records": [ROW]}).json()["request_id"]}
    ids.add(httpx.post(live.url + "/predict", json={"records": [ROW]}).json()["request_id"])
    assert len(ids) == 2 and all(len(i) == 32 for i in ids)
    with pytest.raises(UserError, match="empty"):
        request_id("")


def test_a_megabyte_key_is_not_echoed(live: LiveServer) -> None:
    key = "k" * 1_000_000
    for body in ({key: 1}, {"records": [dict(ROW, **{key: 1})]}):
        r = httpx.post(live.url + "/predict", json=body, timeout=30)
        assert r.status_code == 422
        message = r.json()["error"]["message"]
        assert len(message) < 600 and "(1,000,000 characters)" in message, message[:300]
    assert clip_message("short 'x'") == "short 'x'"


def test_exposure_needs_a_token_or_insecure() -> None:
    assert exposure(ServeSettings("m", host="127.0.0.1", token=None)) is None
    assert exposure(ServeSettings("m", host="::1", token=None)) is None
    assert exposure(ServeSettings("m", host="0.0.0.0", token="t")) is None
    with pytest.raises(UserError, match="refusing to serve beyond this machine without a token"):
        exposure(ServeSettings("m", host="0.0.0.0", token=None))
    warning = exposure(ServeSettings("m", host="0.0.0.0", token=None, insecure=True))
    assert warning is not None and warning.startswith("WARNING")
