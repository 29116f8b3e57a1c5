"""e签宝 开放平台 SaaS API V3 adapter (``CREDO_ESIGN_PROVIDER=esign``).

Followed (open.esign.cn 文档中心, “请求签名鉴权方式说明”, “基于文件发起签署”, “签署回调通知接收说明”,
“签署流程结束通知”):

* every request carries ``X-Tsign-Open-App-Id``, ``X-Tsign-Open-Auth-Mode: Signature``,
  ``X-Tsign-Open-Ca-Timestamp`` (ms), ``Content-MD5`` (base64 MD5 of the JSON body, empty for a
  GET) and ``X-Tsign-Open-Ca-Signature`` = base64(HMAC-SHA256(AppSecret, HTTPMethod ⏎ Accept ⏎
  Content-MD5 ⏎ Content-Type ⏎ Date ⏎ Headers Url)), with Accept ``*/*``, no Date and no signed
  custom headers (so the Headers part is empty) and Url = path plus sorted query;
* answers are ``{"code": 0, "message": ..., "data": {...}}``; a non-zero code is a refusal;
* send = ``POST /v3/files/file-upload-url`` (contentMd5, contentType, fileName, fileSize) → PUT the
  bytes to ``fileUploadUrl`` → ``POST /v3/sign-flow/create-by-file`` (docs, signFlowConfig with
  ``autoFinish`` and ``notifyUrl``, one signer: ``psnSignerInfo`` for a person or ``orgSignerInfo``
  with ``transactorInfo`` for a company, a free-mode signature field) → ``signFlowId``;
* signer URL = ``POST /v3/sign-flow/{signFlowId}/sign-url`` (operator psnAccount) → ``url``;
* signed PDF = ``GET /v3/sign-flow/{signFlowId}/file-download-url`` → ``files[0].downloadUrl``;
* 作废 in Credo = ``POST /v3/sign-flow/{signFlowId}/revoke`` (``revokeReason``) first;
* callbacks: JSON body, headers ``X-Tsign-Open-App-Id``, ``X-Tsign-Open-TIMESTAMP`` and
  ``X-Tsign-Open-SIGNATURE`` = hex(HMAC-SHA256(AppSecret, timestamp + body)); the
  ``SIGN_FLOW_COMPLETE`` action's ``signFlowStatus`` 2 = signed, 7 = rejected, 5 = expired.

Assumptions: the uploaded PDF needs no conversion, so the flow is created right after the upload
(no polling of the file status); a flow revoked at the vendor (status 3) and every other action
are acknowledged and change nothing (作废 the contract in Credo, which revokes it); the lender's own seal is
applied outside this flow. ``CREDO_EQB_BASE_URL`` defaults to production
(``https://openapi.esign.cn``; the sandbox is ``https://smlopenapi.esign.cn``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from credo.contracts.errors import InvalidSignature
from credo.contracts.esign import (
    ESignProvider,
    Flow,
    ProviderRefused,
    ProviderUnavailable,
    Signer,
    SignRequest,
    header,
)
from credo.contracts.esign_providers import http

VENDOR = "e签宝"
JSON_TYPE = "application/json; charset=UTF-8"
FLOW_STATUS = {"2": "signed", "7": "rejected", "5": "expired"}


def content_md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body).digest()).decode() if body else ""  # noqa: S324


def canonical_url(path_and_query: str) -> str:
    """The Url part of the string to sign: the path, then the query sorted by name."""
    parts = urllib.parse.urlsplit(path_and_query)
    if not parts.query:
        return parts.path
    pairs = sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    query = "&".join(f"{k}={v}" if v != "" else k for k, v in pairs)
    return f"{parts.path}?{query}"


def request_signature(
    secret: str,
    *,
    method: str,
    accept: str,
    md5: str,
    content_type: str,
    url: str,
    date: str = "",
) -> str:
    to_sign = f"{method.upper()}\n{accept}\n{md5}\n{content_type}\n{date}\n{canonical_url(url)}"
    digest = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def callback_signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).hexdigest()


def max_callback_age() -> int:
    return int(getattr(settings, "CREDO_ESIGN_CALLBACK_MAX_AGE", 86400) or 0)


def check_fresh(timestamp_ms: str) -> None:
    """Refuse a callback whose signed timestamp is too old (a captured request replayed much
    later); a vendor's retry keeps its first timestamp, so the window is generous."""
    age = max_callback_age()
    try:
        sent = int(timestamp_ms) / 1000
    except ValueError:
        raise InvalidSignature(_("回调时间戳无效。")) from None
    if age and abs(time.time() - sent) > age:
        raise InvalidSignature(_("回调已过期（时间戳超出 %(s)s 秒）。") % {"s": age})


class EsignProvider(ESignProvider):
    code = "esign"
    label = "e签宝"
    required_settings = ("CREDO_EQB_APP_ID", "CREDO_EQB_APP_SECRET")

    @property
    def app_id(self) -> str:
        return str(getattr(settings, "CREDO_EQB_APP_ID", "") or "")

    @property
    def secret(self) -> str:
        return str(getattr(settings, "CREDO_EQB_APP_SECRET", "") or "")

    @property
    def base_url(self) -> str:
        return str(getattr(settings, "CREDO_EQB_BASE_URL", "") or "https://openapi.esign.cn")

    def _ensure_configured(self) -> None:
        missing = self.missing_settings()
        if missing:
            raise ProviderRefused(_("e签宝未配置：请设置 %(v)s。") % {"v": "、".join(missing)})

    # --- requests --------------------------------------------------------------------------
    def _api(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        self._ensure_configured()
        body = b""
        if payload is not None:
            body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        md5 = content_md5(body)
        headers = {
            "X-Tsign-Open-App-Id": self.app_id,
            "X-Tsign-Open-Auth-Mode": "Signature",
            "X-Tsign-Open-Ca-Timestamp": str(int(time.time() * 1000)),
            "Accept": "*/*",
            "Content-Type": JSON_TYPE,
            "Content-MD5": md5,
            "X-Tsign-Open-Ca-Signature": request_signature(
                self.secret, method=method, accept="*/*", md5=md5, content_type=JSON_TYPE, url=path
            ),
        }
        resp = http.call(
            VENDOR, method, self.base_url.rstrip("/") + path, body=body or None, headers=headers
        )
        data = http.json_body(VENDOR, resp)
        code = data.get("code") if isinstance(data, dict) else None
        if resp.status >= 400 or code not in (0, "0"):
            message = (data.get("message") if isinstance(data, dict) else "") or resp.status
            raise ProviderRefused(
                _("e签宝拒绝了请求（%(c)s）：%(m)s")
                % {"c": code if code is not None else resp.status, "m": message}
            )
        return data.get("data") or {}

    def _upload(self, request: SignRequest) -> str:
        md5 = content_md5(request.pdf)
        data = self._api(
            "POST",
            "/v3/files/file-upload-url",
            {
                "contentMd5": md5,
                "contentType": "application/pdf",
                "convertToPDF": False,
                "fileName": request.file_name,
                "fileSize": len(request.pdf),
            },
        )
        file_id, upload_url = str(data.get("fileId") or ""), str(data.get("fileUploadUrl") or "")
        if not file_id or not upload_url:
            raise ProviderRefused(_("e签宝未返回文件上传地址。"))
        resp = http.call(
            VENDOR,
            "PUT",
            upload_url,
            body=request.pdf,
            headers={"Content-MD5": md5, "Content-Type": "application/pdf"},
        )
        if resp.status >= 300:
            raise ProviderRefused(_("e签宝文件上传失败（HTTP %(s)s）。") % {"s": resp.status})
        return file_id

    @staticmethod
    def _signer(signer: Signer, file_id: str) -> dict[str, Any]:
        fields = [
            {"fileId": file_id, "normalSignFieldConfig": {"freeMode": True, "signFieldStyle": 1}}
        ]
        if signer.kind == "org":
            return {
                "signerType": 1,
                "orgSignerInfo": {
                    "orgName": signer.org_name,
                    "orgInfo": {"orgIDCardNum": signer.uscc, "orgIDCardType": "CRED_ORG_USCC"},
                    "transactorInfo": {
                        "psnAccount": signer.mobile,
                        "psnInfo": {"psnName": signer.name},
                    },
                },
                "signFields": fields,
            }
        return {
            "signerType": 0,
            "psnSignerInfo": {
                "psnAccount": signer.mobile,
                "psnInfo": {
                    "psnName": signer.name,
                    "psnIDCardNum": signer.id_number,
                    "psnIDCardType": "CRED_PSN_CH_IDCARD",
                },
            },
            "signFields": fields,
        }

    def create_flow(self, request: SignRequest) -> Flow:
        if not request.signer.mobile:
            raise ProviderRefused(_("客户缺少手机号，无法发起电子签署。"))
        file_id = self._upload(request)
        config: dict[str, Any] = {"signFlowTitle": request.title, "autoFinish": True}
        if request.notify_url:
            config["notifyUrl"] = request.notify_url
        if request.expires_at_ms:
            config["signFlowExpireTime"] = request.expires_at_ms
        data = self._api(
            "POST",
            "/v3/sign-flow/create-by-file",
            {
                "docs": [{"fileId": file_id, "fileName": request.file_name}],
                "signFlowConfig": config,
                "signers": [self._signer(request.signer, file_id)],
            },
        )
        ref = str(data.get("signFlowId") or "")
        if not ref:
            raise ProviderRefused(_("e签宝未返回签署流程 ID。"))
        try:
            url = self.signer_url(ref, request.signer)
        except (ProviderUnavailable, ProviderRefused):
            url = ""  # the flow exists; the link can be fetched again from the contract page
        return Flow(ref=ref, signer_url=url)

    def signer_url(self, ref: str, signer: Signer) -> str:
        data = self._api(
            "POST",
            f"/v3/sign-flow/{urllib.parse.quote(ref)}/sign-url",
            {"operator": {"psnAccount": signer.mobile}, "clientType": "ALL", "urlType": 2},
        )
        return str(data.get("shortUrl") or data.get("url") or "")

    def cancel_flow(self, ref: str, reason: str) -> None:
        self._api(
            "POST",
            f"/v3/sign-flow/{urllib.parse.quote(ref)}/revoke",
            {"revokeReason": reason[:50]},
        )

    def download_signed(self, ref: str) -> bytes:
        data = self._api("GET", f"/v3/sign-flow/{urllib.parse.quote(ref)}/file-download-url")
        files = data.get("files") or []
        url = str(files[0].get("downloadUrl") or "") if files else ""
        if not url:
            raise ProviderUnavailable(_("e签宝尚未提供签署文件，请稍后重试。"))
        return http.download_pdf(VENDOR, url)

    # --- callbacks -------------------------------------------------------------------------
    def verify_callback(self, body: bytes, headers: Mapping[str, Any]) -> tuple[str, str]:
        if not self.secret:
            raise InvalidSignature(_("e签宝未配置应用密钥，无法校验回调。"))
        given = header(headers, "X-Tsign-Open-SIGNATURE")
        timestamp = header(headers, "X-Tsign-Open-TIMESTAMP")
        app_id = header(headers, "X-Tsign-Open-App-Id")
        if not given or not timestamp:
            raise InvalidSignature(_("回调缺少签名。"))
        if app_id and app_id != self.app_id:
            raise InvalidSignature(_("回调的应用 ID 不符。"))
        if not hmac.compare_digest(given.lower(), callback_signature(self.secret, timestamp, body)):
            raise InvalidSignature(_("回调签名无效。"))
        check_fresh(timestamp)
        try:
            payload = json.loads(body)
            ref = str(payload.get("signFlowId") or "")
            action = str(payload.get("action") or "")
        except (ValueError, AttributeError):
            raise InvalidSignature(_("回调内容无效。")) from None
        if action != "SIGN_FLOW_COMPLETE":
            return ref, ""
        return ref, FLOW_STATUS.get(str(payload.get("signFlowStatus")), "")
