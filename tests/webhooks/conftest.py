"""A real local HTTP receiver in a thread, and an endpoint pointing at it."""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from credo.webhooks import services
from tests.factories import UserFactory


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    #: answers in order: (status, body, delay seconds); empty = 200 "ok"
    answers: deque[tuple[int, str, float]] = field(default_factory=deque)

    def answer(self, status: int, body: str = "", delay: float = 0.0, times: int = 1) -> None:
        for _ in range(times):
            self.answers.append((status, body, delay))


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
            status, text, delay = (
                receiver.answers.popleft() if receiver.answers else (200, "ok", 0.0)
            )
            if delay:
                time.sleep(delay)
            data = text.encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def receiver():
    box = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(box))
    server.daemon_threads = True
    box.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port_url():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}/hook"


@pytest.fixture
def creator(db):
    return UserFactory(username="hook_admin", display_name="周管理")


@pytest.fixture
def make_endpoint(creator):
    def make(url: str, *, events=("customer.create",), **kwargs):
        endpoint, secret = services.endpoint_create(
            name=kwargs.pop("name", "核心系统"),
            url=url,
            event_types=list(events),
            actor=creator,
            **kwargs,
        )
        return endpoint, secret

    return make
