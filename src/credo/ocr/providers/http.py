"""One HTTP POST for the adapters: :func:`credo.core.http.send`, vendor failures as ``OcrError``."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _

from credo.core.http import TransportError, send
from credo.ocr.providers.base import BAD_RESPONSE, TIMEOUT, UNAVAILABLE, OcrError, unreadable


def post(
    url: str, body: bytes, headers: dict[str, str], *, timeout: float
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, parsed JSON body). 4xx bodies are returned (vendors put their error code
    there); timeouts, refused connections and unparsable bodies raise."""
    if not url.startswith(("https://", "http://")):
        raise OcrError(UNAVAILABLE, _("识别服务地址无效，请联系管理员。"))
    try:
        response = send("POST", url, body=body, headers=headers, timeout=timeout)
    except TransportError as exc:
        if exc.kind == "timeout":
            raise OcrError(TIMEOUT, _("识别服务响应超时，请稍后重试。")) from None
        raise OcrError(UNAVAILABLE, _("无法连接识别服务，请稍后重试。")) from None
    try:
        data = json.loads(response.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise unreadable(response.status) from None
    if not isinstance(data, dict):
        raise OcrError(BAD_RESPONSE, _("识别服务返回了无法解析的结果。"))
    return response.status, data
