"""One outbound HTTP call: stdlib ``urllib``, always with a timeout.

:func:`send` returns a :class:`Response` for every HTTP answer, 4xx and 5xx included (what an
answer means is the caller's business), and raises :class:`TransportError` when no answer came:
``kind`` is ``"timeout"`` or ``"unreachable"`` (refused, reset, DNS, a malformed answer, a URL
that is not http(s)). Callers map both onto their own errors and messages.
"""

from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import IO, Literal

TransportKind = Literal["timeout", "unreachable"]


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = ""
    elapsed_ms: int = 0
    reason: str = ""  # the status line's reason phrase

    @property
    def ok(self) -> bool:
        """A 2xx answer (urllib's own notion of success)."""
        return 200 <= self.status < 300


class TransportError(Exception):
    """No HTTP answer: ``kind`` says why, ``reason`` is what urllib or the socket reported."""

    def __init__(
        self, kind: TransportKind, *, reason: object, timeout: float, elapsed_ms: int = 0
    ) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind: TransportKind = kind
        self.reason = reason
        self.timeout = timeout
        self.elapsed_ms = elapsed_ms


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is returned as the answer (3xx) instead of being followed."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_following = urllib.request.build_opener()
_not_following = urllib.request.build_opener(_NoRedirect)


def _read(stream: IO[bytes], max_bytes: int | None) -> bytes:
    return stream.read() if max_bytes is None else stream.read(max_bytes)


def send(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float,
    follow_redirects: bool = True,
    max_bytes: int | None = None,
) -> Response:
    """Send one request and read at most ``max_bytes`` of the answer (all of it when ``None``)."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    def failed(kind: TransportKind, reason: object) -> TransportError:
        return TransportError(kind, reason=reason, timeout=timeout, elapsed_ms=took())

    if not url.lower().startswith(("https://", "http://")):
        raise failed("unreachable", f"unsupported URL: {url[:80]}")
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310 — scheme checked above
    opener = _following if follow_redirects else _not_following
    try:
        with opener.open(request, timeout=timeout) as resp:
            data = _read(resp, max_bytes)
            return Response(
                resp.status, data, resp.headers.get("Content-Type", ""), took(), resp.reason
            )
    except urllib.error.HTTPError as exc:
        try:
            data = _read(exc, max_bytes) if exc.fp is not None else b""
        except (OSError, http.client.HTTPException):
            data = b""
        content_type = exc.headers.get("Content-Type", "") if exc.headers else ""
        return Response(exc.code, data, content_type, took(), str(exc.reason or ""))
    except TimeoutError as exc:
        raise failed("timeout", exc) from exc
    except urllib.error.URLError as exc:
        kind: TransportKind = "timeout" if isinstance(exc.reason, TimeoutError) else "unreachable"
        raise failed(kind, exc.reason) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise failed("unreachable", exc) from exc
