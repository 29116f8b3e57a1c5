"""Tencent Cloud OCR (API 3.0, version 2018-11-19): IDCardOCR, BizLicenseOCR, BankCardOCR.

POST JSON to ``https://ocr.tencentcloudapi.com/`` with the ``X-TC-*`` headers and a
``TC3-HMAC-SHA256`` signature (canonical request → string to sign → key derived from
``"TC3" + SecretKey`` over date, service and ``tc3_request``). These three actions return no
per-field confidence, so the adapter derives one from what they do return: the image quality
score (``AdvancedInfo.Quality`` / ``QualityValue``, 0–100) and warning codes (copy, re-shot,
reflection, blur), which lower every field of that image below the review threshold.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from credo.ocr.providers import http
from credo.ocr.providers.base import (
    AUTH,
    BACK,
    BANK_CARD,
    BUSINESS_LICENSE,
    ID_CARD,
    NOT_CONFIGURED,
    NOT_RECOGNIZED,
    UNAVAILABLE,
    OcrError,
    OcrResult,
    clamp,
    unreadable,
    vendor_error,
)

SERVICE = "ocr"
VERSION = "2018-11-19"
DEFAULT_ENDPOINT = "https://ocr.tencentcloudapi.com"
ACTIONS = {ID_CARD: "IDCardOCR", BUSINESS_LICENSE: "BizLicenseOCR", BANK_CARD: "BankCardOCR"}
CONTENT_TYPE = "application/json; charset=utf-8"
BASE_CONFIDENCE = 0.95  # documented accuracy "above 99%"; kept below 1 so a person still checks
WARNED_CONFIDENCE = 0.6  # any image warning: every field is shown as low confidence


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def tc3_signature(
    *, secret_key: str, host: str, payload: bytes, timestamp: int, content_type: str = CONTENT_TYPE
) -> tuple[str, str]:
    """(credential scope, hex signature) of a POST to ``/`` with no query string."""
    date = dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).strftime("%Y-%m-%d")
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{content_type.lower()}\nhost:{host.lower()}\n",
            "content-type;host",
            _sha256_hex(payload),
        ]
    )
    scope = f"{date}/{SERVICE}/tc3_request"
    string_to_sign = "\n".join(
        ["TC3-HMAC-SHA256", str(timestamp), scope, _sha256_hex(canonical_request.encode("utf-8"))]
    )
    secret_date = _hmac(("TC3" + secret_key).encode("utf-8"), date)
    secret_service = _hmac(secret_date, SERVICE)
    secret_signing = _hmac(secret_service, "tc3_request")
    signature = hmac.new(secret_signing, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return scope, signature


def _error(code: str, message: str) -> OcrError:
    if code.startswith("AuthFailure") or code in ("UnauthorizedOperation",):
        return vendor_error(AUTH, code)
    if code.startswith(
        ("RequestLimitExceeded", "InternalError", "ResourceUnavailable")
    ) or code in (
        "FailedOperation.UnKnowError",
        "FailedOperation.EngineRecognizeTimeout",
    ):
        return vendor_error(UNAVAILABLE, code)
    return vendor_error(NOT_RECOGNIZED, code)


class TencentOcr:
    code = "tencent"
    label = "腾讯云 OCR"
    simulated = False

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        region: str = "ap-guangzhou",
        endpoint: str = DEFAULT_ENDPOINT,
        timeout: float = 10.0,
        now: Any = None,
    ) -> None:
        self.secret_id, self.secret_key, self.region = secret_id, secret_key, region
        self.endpoint = endpoint.rstrip("/") or DEFAULT_ENDPOINT
        self.timeout = timeout
        self._now = now

    def _timestamp(self) -> int:
        return int(self._now() if self._now else dt.datetime.now(tz=dt.UTC).timestamp())

    def recognize(self, kind: str, image_bytes: bytes, side: str = "front") -> OcrResult:
        if not (self.secret_id and self.secret_key):
            raise OcrError(NOT_CONFIGURED, _("未配置识别服务的 SecretId/SecretKey。"))
        action = ACTIONS[kind]
        params: dict[str, Any] = {"ImageBase64": base64.b64encode(image_bytes).decode("ascii")}
        if kind == ID_CARD:
            params["CardSide"] = "BACK" if side == BACK else "FRONT"
            params["Config"] = json.dumps({"Quality": True})
        payload = json.dumps(params, separators=(",", ":")).encode("utf-8")
        host = urlsplit(self.endpoint).netloc
        timestamp = self._timestamp()
        scope, signature = tc3_signature(
            secret_key=self.secret_key, host=host, payload=payload, timestamp=timestamp
        )
        headers = {
            "Authorization": (
                f"TC3-HMAC-SHA256 Credential={self.secret_id}/{scope}, "
                f"SignedHeaders=content-type;host, Signature={signature}"
            ),
            "Content-Type": CONTENT_TYPE,
            "Host": host,
            "X-TC-Action": action,
            "X-TC-Version": VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": self.region,
        }
        status, body = http.post(self.endpoint + "/", payload, headers, timeout=self.timeout)
        response = body.get("Response")
        if not isinstance(response, dict):
            raise unreadable(status)
        error = response.get("Error")
        if isinstance(error, dict):
            raise _error(str(error.get("Code", "")), str(error.get("Message", "")))
        fields = PARSERS[kind](response)
        return OcrResult(
            fields=fields, raw=_redacted(response), request_id=str(response.get("RequestId", ""))
        )


def _s(response: dict[str, Any], key: str) -> str:
    value = response.get(key)
    return "" if value is None else str(value).strip()


def _with(values: dict[str, str], confidence: float) -> dict[str, tuple[str, float]]:
    return {k: (v, clamp(confidence)) for k, v in values.items() if v}


def _quality_confidence(quality: Any, warned: bool) -> float:
    confidence = BASE_CONFIDENCE
    try:
        if quality is not None and str(quality) != "":
            confidence = min(confidence, float(quality) / 100)
    except (TypeError, ValueError):
        pass
    if warned:
        confidence = min(confidence, WARNED_CONFIDENCE)
    return confidence


def _id_card(response: dict[str, Any]) -> dict[str, tuple[str, float]]:
    advanced: dict[str, Any] = {}
    try:
        parsed = json.loads(_s(response, "AdvancedInfo") or "{}")
        advanced = parsed if isinstance(parsed, dict) else {}
    except ValueError:
        pass
    warnings = [int(w) for w in advanced.get("WarnInfos") or [] if str(w).lstrip("-").isdigit()]
    confidence = _quality_confidence(advanced.get("Quality"), bool(set(warnings) - {-9100}))
    valid_from, _sep, valid_to = _s(response, "ValidDate").partition("-")
    fields = _with(
        {
            "name": _s(response, "Name"),
            "sex": _s(response, "Sex"),
            "nation": _s(response, "Nation"),
            "birth": _s(response, "Birth"),
            "address": _s(response, "Address"),
            "id_number": _s(response, "IdNum"),
            "authority": _s(response, "Authority"),
        },
        confidence,
    )
    date_confidence = min(confidence, WARNED_CONFIDENCE) if -9100 in warnings else confidence
    fields.update(_with({"valid_from": valid_from, "valid_to": valid_to}, date_confidence))
    return fields


def _business_license(response: dict[str, Any]) -> dict[str, tuple[str, float]]:
    warnings = response.get("RecognizeWarnCode") or []
    confidence = _quality_confidence(None, bool(warnings))
    return _with(
        {
            "name": _s(response, "Name"),
            "uscc": _s(response, "RegNum"),
            "legal_representative": _s(response, "Person"),
            "registered_capital": _s(response, "Capital"),
            "founded_on": _s(response, "SetDate"),
            "address": _s(response, "Address"),
            "company_type": _s(response, "Type"),
            "business_scope": _s(response, "Business"),
            "valid_period": _s(response, "Period"),
        },
        confidence,
    )


def _bank_card(response: dict[str, Any]) -> dict[str, tuple[str, float]]:
    warnings = response.get("WarningCode") or []
    confidence = _quality_confidence(response.get("QualityValue"), bool(warnings))
    return _with(
        {
            "card_number": _s(response, "CardNo"),
            "bank_name": _s(response, "BankInfo").split("(")[0],
            "card_type": _s(response, "CardType"),
            "valid_to": _s(response, "ValidDate"),
        },
        confidence,
    )


PARSERS = {ID_CARD: _id_card, BUSINESS_LICENSE: _business_license, BANK_CARD: _bank_card}
_SECRET_KEYS = {"IdNum", "CardNo", "Name", "Address", "Birth"}
_IMAGE_KEYS = {"BorderCutImage", "CardNoImage", "AdvancedInfo"}


def _redacted(response: dict[str, Any]) -> dict[str, Any]:
    """The raw response without personal data or images: what the request log may keep."""
    return {
        k: ("***" if k in _SECRET_KEYS and v else v)
        for k, v in response.items()
        if k not in _IMAGE_KEYS
    }
