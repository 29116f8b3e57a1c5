"""One HTTP POST with a timeout, timed; never raises for the receiver's answer.

The sender calls :func:`post` outside any transaction; tests point it at a local server.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from credo.core.http import TransportError, send

#: how much of the receiver's answer the log keeps
EXCERPT = 2000


@dataclass
class Response:
    code: int | None
    body: str
    duration_ms: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.code is not None and 200 <= self.code < 300 and not self.error


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Response:
    if not url.startswith(("https://", "http://")):
        return Response(None, "", 0, _("推送地址无效。"))
    try:
        resp = send(
            "POST",
            url,
            body=body,
            headers=headers,
            timeout=timeout,
            # a redirect is an answer (non-2xx), not something to follow: following a POST would
            # turn it into a GET elsewhere, with the signature sent to a host nobody configured
            follow_redirects=False,
            max_bytes=EXCERPT,
        )
    except TransportError as exc:
        if exc.kind == "timeout":
            error = _("响应超时（%(s)s 秒）。") % {"s": timeout}
        else:
            error = _("连接失败：%(e)s") % {"e": exc.reason}
        return Response(None, "", exc.elapsed_ms, error)
    return Response(resp.status, resp.body.decode("utf-8", errors="replace"), resp.elapsed_ms)
