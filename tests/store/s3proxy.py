"""A proxy in front of an S3 server that fails the requests it is told to: a server at fault.

``FlakyProxy(target, rule)`` listens on 127.0.0.1 and relays every request to ``target``,
except those for which ``rule(method, path, n)`` (``n``: how many requests came before) says
``"503"`` (a SlowDown answer), ``"500"`` (an InternalError answer) or ``"drop"`` (the connection
closed with no answer, as when a server dies mid-request).
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

Rule = Callable[[str, str, int], str | None]

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class FlakyProxy:
    """Relays to ``target`` and fails what ``rule`` picks; ``failed`` lists what it failed."""

    def __init__(self, target: str, rule: Rule) -> None:
        self.rule = rule
        self.requests = 0
        self.failed: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        parts = urlsplit(target)
        upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _relay(self) -> None:
                body = self._body()
                with proxy._lock:
                    n = proxy.requests
                    proxy.requests += 1
                verdict = proxy.rule(self.command, self.path, n)
                if verdict is not None:
                    proxy.failed.append((self.command, self.path, verdict))
                    if verdict == "drop":
                        self.close_connection = True
                        return
                    code = int(verdict)
                    name = "SlowDown" if code == 503 else "InternalError"
                    payload = (
                        f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{name}</Code>"
                        f"<Message>injected fault</Message></Error>"
                    ).encode()
                    self.send_response(code)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection(*upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                headers["Content-Length"] = str(len(body))
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in _HOP:
                        self.send_header(key, value)
                length = answer.getheader("Content-Length")
                sent = length if self.command == "HEAD" and length else str(len(data))
                self.send_header("Content-Length", sent)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FlakyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
