"""One small HTTP call for the vendor adapters (:func:`credo.core.http.send`, always with a timeout).

Timeouts, refused connections and 5xx answers raise ``ProviderUnavailable`` with a Chinese
message naming the vendor, so the caller can tell staff to retry; 4xx answers are returned to
the adapter, which reads the vendor's documented error body.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from credo.contracts.esign import ProviderUnavailable
from credo.core.http import Response, TransportError, send

__all__ = ["Response", "call", "download_pdf", "json_body", "timeout_seconds", "unzip_pdf"]


def timeout_seconds() -> float:
    return float(getattr(settings, "CREDO_ESIGN_TIMEOUT", 10) or 10)


def call(
    vendor: str,
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    timeout = timeout_seconds()
    try:
        resp = send(method, url, body=body, headers=headers, timeout=timeout)
    except TransportError as exc:
        if exc.kind == "timeout":
            raise ProviderUnavailable(
                _("%(v)s 响应超时（%(t)s 秒），未做任何更改，请稍后重试。")
                % {"v": vendor, "t": f"{timeout:g}"}
            ) from exc
        raise ProviderUnavailable(
            _("无法连接 %(v)s（%(r)s），未做任何更改，请稍后重试。")
            % {"v": vendor, "r": exc.reason}
        ) from exc
    if resp.status >= 500:
        raise ProviderUnavailable(
            _("%(v)s 服务暂时不可用（HTTP %(s)s），请稍后重试。") % {"v": vendor, "s": resp.status}
        )
    return resp


def json_body(vendor: str, resp: Response) -> Any:
    """The answer's JSON (``{}`` for an empty body); anything else is an outage, not a refusal."""
    try:
        return json.loads(resp.body or b"{}")
    except ValueError:
        raise ProviderUnavailable(
            _("%(v)s 返回了无法识别的内容（HTTP %(s)s），请稍后重试。")
            % {"v": vendor, "s": resp.status}
        ) from None


def download_pdf(vendor: str, url: str) -> bytes:
    """GET the signed document from the vendor's download URL (a zip's first PDF)."""
    resp = call(vendor, "GET", url)
    pdf = unzip_pdf(resp.body)
    if resp.status != 200 or not pdf.startswith(b"%PDF"):
        raise ProviderUnavailable(_("%(v)s签署文件下载失败，请稍后重试。") % {"v": vendor})
    return pdf


def unzip_pdf(data: bytes) -> bytes:
    """A vendor may hand several documents as one zip: take its first PDF."""
    if data[:4] != b"PK\x03\x04":
        return data
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.lower().endswith(".pdf"):
                return archive.read(name)
    return b""
