"""credo.core.http.send against a real local http.server: every HTTP status is an answer, only
transport failures raise, and redirects are followed only when asked."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from credo.core.http import TransportError, send


class _Handler(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, bytes]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: bytes, **headers: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append((self.command, self.path, body))
        if self.path == "/ok":
            self._answer(200, "好的".encode() + body)
        elif self.path == "/missing":
            self._answer(404, b'{"error": "not here"}')
        elif self.path == "/broken":
            self._answer(500, b"server error")
        elif self.path == "/slow":
            time.sleep(1.0)
            self._answer(200, b"late")
        elif self.path == "/moved":
            self._answer(302, b"", Location="/ok")
        elif self.path == "/big":
            self._answer(200, b"x" * 10_000)
        else:
            self._answer(400, b"?")

    do_GET = do_POST = _serve


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    _Handler.seen = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_200_with_body_content_type_and_elapsed(server: str) -> None:
    resp = send("POST", f"{server}/ok", body=b"!", headers={"X-A": "1"}, timeout=5)
    assert resp.status == 200 and resp.ok
    assert resp.body == "好的!".encode()
    assert resp.content_type.startswith("text/plain")
    assert resp.elapsed_ms >= 0 and resp.reason == "OK"
    assert _Handler.seen == [("POST", "/ok", b"!")]


def test_404_is_returned_with_its_body(server: str) -> None:
    resp = send("GET", f"{server}/missing", timeout=5)
    assert resp.status == 404 and not resp.ok
    assert resp.body == b'{"error": "not here"}'
    assert resp.reason == "Not Found"


def test_500_is_returned(server: str) -> None:
    resp = send("GET", f"{server}/broken", timeout=5)
    assert (resp.status, resp.body) == (500, b"server error")


def test_max_bytes_limits_what_is_read(server: str) -> None:
    assert len(send("GET", f"{server}/big", timeout=5, max_bytes=100).body) == 100
    assert len(send("GET", f"{server}/big", timeout=5).body) == 10_000


def test_timeout_raises_timeout(server: str) -> None:
    with pytest.raises(TransportError) as exc:
        send("GET", f"{server}/slow", timeout=0.3)
    assert exc.value.kind == "timeout"
    assert exc.value.timeout == 0.3
    assert exc.value.elapsed_ms >= 250


def test_refused_port_raises_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(TransportError) as exc:
        send("GET", f"http://127.0.0.1:{port}/", timeout=2)
    assert exc.value.kind == "unreachable"
    assert isinstance(exc.value.reason, ConnectionRefusedError)


def test_other_schemes_are_refused_without_a_request() -> None:
    with pytest.raises(TransportError) as exc:
        send("GET", "ftp://files.example.invalid/report.csv", timeout=2)
    assert exc.value.kind == "unreachable"


def test_redirects_are_followed_unless_refused(server: str) -> None:
    followed = send("GET", f"{server}/moved", timeout=5)
    assert followed.status == 200 and followed.body == "好的".encode()

    _Handler.seen = []
    answer = send("POST", f"{server}/moved", body=b"sig", timeout=5, follow_redirects=False)
    assert answer.status == 302 and not answer.ok
    assert [path for _method, path, _body in _Handler.seen] == ["/moved"]
