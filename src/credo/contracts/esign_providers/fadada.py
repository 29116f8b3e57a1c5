"""法大大 FASC OpenAPI 5.x adapter (``CREDO_ESIGN_PROVIDER=fadada``).

Followed (法大大 FASC.openApi 5.1 documentation and the shapes of its official SDKs):

* requests are ``POST`` with a form body ``bizContent=<JSON>``; headers ``X-FASC-App-Id``,
  ``X-FASC-Sign-Type: HMAC-SHA256``, ``X-FASC-Timestamp`` (ms), ``X-FASC-Nonce`` (32 hex),
  ``X-FASC-Api-SubVersion: 5.1`` and ``X-FASC-AccessToken`` (or ``X-FASC-Grant-Type:
  client_credential`` when asking for the token); ``X-FASC-Sign`` = hex(HMAC-SHA256(
  HMAC-SHA256(AppSecret, timestamp), sha256hex(k1=v1&k2=v2…))) over those headers and
  ``bizContent`` sorted by name, empty values left out;
* answers are ``{"code": "100000", "msg": ..., "data": {...}}``; another code is a refusal;
* token = ``POST /service/get-access-token`` → ``accessToken``/``expiresIn`` (cached per process);
* send = ``/file/get-upload-url`` → PUT the bytes to ``uploadUrl`` → ``/file/process``
  (``fddFileUrl`` → ``fileId``) → ``/sign-task/create`` (initiator = the lender's ``openCorpId``,
  one doc, one actor with the ``sign`` permission, ``autoStart``/``autoFinish``) → ``signTaskId``;
* signer URL = ``/sign-task/actor/get-url`` → ``actorSignTaskUrl``;
* signed PDF = ``/sign-task/owner/get-download-url`` (ownerId = the lender) → ``downloadUrl``
  (a zip when several documents; its first PDF is kept);
* 作废 in Credo = ``/sign-task/cancel`` (``signTaskId``, ``terminationNote``) first;
* callbacks: form body ``bizContent``, headers ``X-FASC-Event`` and ``X-FASC-Sign`` computed as
  above over App-Id, Sign-Type, Timestamp, Nonce, Event and ``bizContent``; answered ``success``.
  Events: ``sign-task-finished`` = signed, ``sign-task-sign-rejected`` = rejected,
  ``sign-task-expired`` = expired; others are acknowledged and change nothing.

Assumptions: the borrower is identified by mobile number (法大大 matches or invites the account),
chooses the signature position on the vendor's page (no pre-placed fields), and the lender's
``openCorpId`` (``CREDO_FADADA_OPEN_CORP_ID``) has authorised the app to initiate and download.
``CREDO_FADADA_BASE_URL`` defaults to ``https://api.fadada.com/api/v5``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
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
from credo.contracts.esign_providers.esign import check_fresh

VENDOR = "法大大"
SUBVERSION = "5.1"
OK = "100000"
FORM_TYPE = "application/x-www-form-urlencoded"
EVENTS = {
    "sign-task-finished": "signed",
    "sign-task-sign-rejected": "rejected",
    "sign-task-expired": "expired",
}
CALLBACK_SIGNED_HEADERS = (
    "X-FASC-App-Id",
    "X-FASC-Sign-Type",
    "X-FASC-Timestamp",
    "X-FASC-Nonce",
    "X-FASC-Event",
)


def sign(secret: str, timestamp: str, params: Mapping[str, str]) -> str:
    text = "&".join(f"{k}={params[k]}" for k in sorted(params) if str(params[k]).strip() != "")
    digest = hashlib.sha256(text.encode()).hexdigest()
    key = hmac.new(secret.encode(), timestamp.encode(), hashlib.sha256).digest()
    return hmac.new(key, digest.encode(), hashlib.sha256).hexdigest()


_tokens: dict[tuple[str, str], tuple[str, float]] = {}
_lock = threading.Lock()


def forget_tokens() -> None:
    with _lock:
        _tokens.clear()


class FadadaProvider(ESignProvider):
    code = "fadada"
    label = "法大大"
    required_settings = (
        "CREDO_FADADA_APP_ID",
        "CREDO_FADADA_APP_SECRET",
        "CREDO_FADADA_OPEN_CORP_ID",
    )

    @property
    def app_id(self) -> str:
        return str(getattr(settings, "CREDO_FADADA_APP_ID", "") or "")

    @property
    def secret(self) -> str:
        return str(getattr(settings, "CREDO_FADADA_APP_SECRET", "") or "")

    @property
    def corp_id(self) -> str:
        return str(getattr(settings, "CREDO_FADADA_OPEN_CORP_ID", "") or "")

    @property
    def base_url(self) -> str:
        url = getattr(settings, "CREDO_FADADA_BASE_URL", "") or "https://api.fadada.com/api/v5"
        return str(url).rstrip("/")

    # --- requests --------------------------------------------------------------------------
    def _post(self, path: str, biz: dict[str, Any] | None, *, token: str | None) -> Any:
        missing = self.missing_settings()
        if missing:
            raise ProviderRefused(_("法大大未配置：请设置 %(v)s。") % {"v": "、".join(missing)})
        timestamp = str(int(time.time() * 1000))
        headers = {
            "X-FASC-App-Id": self.app_id,
            "X-FASC-Sign-Type": "HMAC-SHA256",
            "X-FASC-Timestamp": timestamp,
            "X-FASC-Nonce": secrets.token_hex(16),
            "X-FASC-Api-SubVersion": SUBVERSION,
        }
        params = dict(headers)
        body = b""
        if token is None:
            headers["X-FASC-Grant-Type"] = "client_credential"
            params["X-FASC-Grant-Type"] = "client_credential"
        else:
            headers["X-FASC-AccessToken"] = token
            params["X-FASC-AccessToken"] = token
            biz_content = json.dumps(biz or {}, ensure_ascii=False, separators=(",", ":"))
            params["bizContent"] = biz_content
            body = urllib.parse.urlencode({"bizContent": biz_content}).encode()
        headers["X-FASC-Sign"] = sign(self.secret, timestamp, params)
        headers["Content-Type"] = FORM_TYPE
        resp = http.call(VENDOR, "POST", self.base_url + path, body=body, headers=headers)
        data = http.json_body(VENDOR, resp)
        code = str(data.get("code", "")) if isinstance(data, dict) else ""
        if resp.status >= 400 or code != OK:
            forget_tokens()  # an expired/revoked token is fetched again on the retry
            message = (data.get("msg") if isinstance(data, dict) else "") or resp.status
            raise ProviderRefused(
                _("法大大拒绝了请求（%(c)s）：%(m)s") % {"c": code or resp.status, "m": message}
            )
        return data.get("data") or {}

    def _token(self) -> str:
        key = (self.base_url, self.app_id)
        with _lock:
            cached = _tokens.get(key)
        if cached and cached[1] > time.time():
            return cached[0]
        data = self._post("/service/get-access-token", None, token=None)
        token = str(data.get("accessToken") or "")
        if not token:
            raise ProviderRefused(_("法大大未返回访问凭证。"))
        expires = int(data.get("expiresIn") or 7200)
        with _lock:
            _tokens[key] = (token, time.time() + max(60, expires - 300))
        return token

    def _call(self, path: str, biz: dict[str, Any]) -> Any:
        return self._post(path, biz, token=self._token())

    def _upload(self, request: SignRequest) -> str:
        data = self._call("/file/get-upload-url", {"fileType": "doc"})
        upload_url, fdd_url = str(data.get("uploadUrl") or ""), str(data.get("fddFileUrl") or "")
        if not upload_url or not fdd_url:
            raise ProviderRefused(_("法大大未返回文件上传地址。"))
        resp = http.call(
            VENDOR, "PUT", upload_url, body=request.pdf, headers={"Content-Type": "application/pdf"}
        )
        if resp.status >= 300:
            raise ProviderRefused(_("法大大文件上传失败（HTTP %(s)s）。") % {"s": resp.status})
        data = self._call(
            "/file/process",
            {
                "fddFileUrlList": [
                    {"fileType": "doc", "fddFileUrl": fdd_url, "fileName": request.file_name}
                ]
            },
        )
        files = data.get("fileIdList") or []
        file_id = str(files[0].get("fileId") or "") if files else ""
        if not file_id:
            raise ProviderRefused(_("法大大未返回文件 ID。"))
        return file_id

    @staticmethod
    def _actor(signer: Signer) -> dict[str, Any]:
        actor: dict[str, Any] = {
            "actorId": "borrower",
            "actorType": "corp" if signer.kind == "org" else "person",
            "actorName": signer.org_name if signer.kind == "org" else signer.name,
            "permissions": ["sign"],
            "accountName": signer.mobile,
            "notification": {
                "sendNotification": True,
                "notifyWay": "mobile",
                "notifyAddress": signer.mobile,
            },
        }
        if signer.kind == "org" and signer.uscc:
            actor["certNoForMatch"] = signer.uscc
        elif signer.id_number:
            actor["identNameForMatch"] = signer.name
            actor["certNoForMatch"] = signer.id_number
        return {"actor": actor}

    def create_flow(self, request: SignRequest) -> Flow:
        if not request.signer.mobile:
            raise ProviderRefused(_("客户缺少手机号，无法发起电子签署。"))
        file_id = self._upload(request)
        task: dict[str, Any] = {
            "signTaskSubject": request.title,
            "initiator": {"idType": "corp", "openId": self.corp_id},
            "transReferenceId": request.number,
            "autoStart": True,
            "autoFinish": True,
            "docs": [{"docId": "1", "docName": request.file_name, "docFileId": file_id}],
            "actors": [self._actor(request.signer)],
        }
        if request.expires_at_ms:
            task["expiresTime"] = str(request.expires_at_ms)
        data = self._call("/sign-task/create", task)
        ref = str(data.get("signTaskId") or "")
        if not ref:
            raise ProviderRefused(_("法大大未返回签署任务 ID。"))
        try:
            url = self.signer_url(ref, request.signer)
        except (ProviderUnavailable, ProviderRefused):
            url = ""
        return Flow(ref=ref, signer_url=url)

    def signer_url(self, ref: str, signer: Signer) -> str:
        data = self._call("/sign-task/actor/get-url", {"signTaskId": ref, "actorId": "borrower"})
        return str(data.get("actorSignTaskUrl") or data.get("actorSignTaskEmbedUrl") or "")

    def cancel_flow(self, ref: str, reason: str) -> None:
        self._call("/sign-task/cancel", {"signTaskId": ref, "terminationNote": reason[:100]})

    def download_signed(self, ref: str) -> bytes:
        data = self._call(
            "/sign-task/owner/get-download-url",
            {
                "ownerId": {"idType": "corp", "openId": self.corp_id},
                "signTaskId": ref,
                "fileType": "doc",
            },
        )
        url = str(data.get("downloadUrl") or "")
        if not url:
            raise ProviderUnavailable(_("法大大尚未提供签署文件，请稍后重试。"))
        return http.download_pdf(VENDOR, url)

    # --- callbacks -------------------------------------------------------------------------
    def verify_callback(self, body: bytes, headers: Mapping[str, Any]) -> tuple[str, str]:
        if not self.secret:
            raise InvalidSignature(_("法大大未配置应用密钥，无法校验回调。"))
        given = header(headers, "X-FASC-Sign")
        timestamp = header(headers, "X-FASC-Timestamp")
        if not given or not timestamp:
            raise InvalidSignature(_("回调缺少签名。"))
        if header(headers, "X-FASC-App-Id") != self.app_id:
            raise InvalidSignature(_("回调的应用 ID 不符。"))
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        biz_content = (form.get("bizContent") or [""])[0]
        params = {name: header(headers, name) for name in CALLBACK_SIGNED_HEADERS}
        params["bizContent"] = biz_content
        if not hmac.compare_digest(given.lower(), sign(self.secret, timestamp, params)):
            raise InvalidSignature(_("回调签名无效。"))
        check_fresh(timestamp)
        try:
            payload = json.loads(biz_content)
            ref = str(payload.get("signTaskId") or "")
        except (ValueError, AttributeError):
            raise InvalidSignature(_("回调内容无效。")) from None
        return ref, EVENTS.get(header(headers, "X-FASC-Event"), "")
