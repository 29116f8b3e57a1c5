"""Aliyun OCR (ocr-api, version 2021-07-07): RecognizeIdcard, RecognizeBusinessLicense,
RecognizeBankCard.

The image is the binary request body (``application/octet-stream``) of a POST to
``https://ocr-api.cn-hangzhou.aliyuncs.com/``, signed with the V3 signature
``ACS3-HMAC-SHA256``: canonical request (method, path, sorted query, the ``host``,
``content-type`` and ``x-acs-*`` headers in lower case and sorted, their names, the body's
SHA-256) → ``"ACS3-HMAC-SHA256\\n" + SHA-256(canonical request)`` → HMAC-SHA256 with the
AccessKey secret. The answer's ``Data`` is a JSON string; each field's ``valueProb`` (0–100)
in ``prism_keyValueInfo`` is its confidence.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from django.utils.translation import gettext as _

from credo.ocr.providers import http
from credo.ocr.providers.base import (
    AUTH,
    BACK,
    BAD_RESPONSE,
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

VERSION = "2021-07-07"
ALGORITHM = "ACS3-HMAC-SHA256"
DEFAULT_ENDPOINT = "https://ocr-api.cn-hangzhou.aliyuncs.com"
ACTIONS = {
    ID_CARD: "RecognizeIdcard",
    BUSINESS_LICENSE: "RecognizeBusinessLicense",
    BANK_CARD: "RecognizeBankCard",
}
CONTENT_TYPE = "application/octet-stream"


def _percent(value: str) -> str:
    return quote(value, safe="-_.~")


def canonical_request(
    *, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
) -> tuple[str, str]:
    """(canonical request, signed headers) as the V3 signature documents them."""
    signed = {
        k.lower(): " ".join(str(v).split())
        for k, v in headers.items()
        if k.lower() in ("host", "content-type") or k.lower().startswith("x-acs-")
    }
    names = sorted(signed)
    canonical_headers = "".join(f"{n}:{signed[n]}\n" for n in names)
    signed_headers = ";".join(names)
    canonical_query = "&".join(f"{_percent(k)}={_percent(v)}" for k, v in sorted(query.items()))
    request = "\n".join(
        [
            method.upper(),
            path or "/",
            canonical_query,
            canonical_headers,
            signed_headers,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    return request, signed_headers


def acs3_signature(secret: str, canonical: str) -> str:
    string_to_sign = f"{ALGORITHM}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
    return hmac.new(
        secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256
    ).hexdigest()


_AUTH_CODES = ("SignatureDoesNotMatch", "IncompleteSignature", "InvalidAccessKeyId", "Forbidden")
_UNAVAILABLE_CODES = ("Throttling", "ServiceUnavailable", "InternalError")


def _error(code: str) -> OcrError:
    if code.startswith(_AUTH_CODES) or code in ("noPermission", "InvalidTimeStamp.Expired"):
        return vendor_error(AUTH, code)
    if code.startswith(_UNAVAILABLE_CODES):
        return vendor_error(UNAVAILABLE, code)
    return vendor_error(NOT_RECOGNIZED, code)


class AliyunOcr:
    code = "aliyun"
    label = "阿里云 OCR"
    simulated = False

    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        endpoint: str = DEFAULT_ENDPOINT,
        timeout: float = 10.0,
    ) -> None:
        self.access_key_id, self.access_key_secret = access_key_id, access_key_secret
        self.endpoint = endpoint.rstrip("/") or DEFAULT_ENDPOINT
        self.timeout = timeout

    def recognize(self, kind: str, image_bytes: bytes, side: str = "front") -> OcrResult:
        if not (self.access_key_id and self.access_key_secret):
            raise OcrError(NOT_CONFIGURED, _("未配置识别服务的 AccessKey。"))
        host = urlsplit(self.endpoint).netloc
        headers = {
            "host": host,
            "content-type": CONTENT_TYPE,
            "x-acs-action": ACTIONS[kind],
            "x-acs-version": VERSION,
            "x-acs-date": dt.datetime.now(tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "x-acs-signature-nonce": uuid.uuid4().hex,
            "x-acs-content-sha256": hashlib.sha256(image_bytes).hexdigest(),
        }
        canonical, signed_headers = canonical_request(
            method="POST", path="/", query={}, headers=headers, body=image_bytes
        )
        signature = acs3_signature(self.access_key_secret, canonical)
        headers["Authorization"] = (
            f"{ALGORITHM} Credential={self.access_key_id},"
            f"SignedHeaders={signed_headers},Signature={signature}"
        )
        status, body = http.post(self.endpoint + "/", image_bytes, headers, timeout=self.timeout)
        if status >= 400 or "Code" in body and "Data" not in body:
            code = str(body.get("Code") or "")
            if not code:
                raise unreadable(status)
            raise _error(code)
        try:
            data = json.loads(str(body.get("Data") or ""))
        except ValueError:
            raise OcrError(BAD_RESPONSE, _("识别服务返回了无法解析的结果。")) from None
        if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
            raise OcrError(BAD_RESPONSE, _("识别服务返回了无法解析的结果。"))
        fields = PARSERS[kind](data, side)
        if not fields:
            raise OcrError(NOT_RECOGNIZED, _("未能识别该证照，请换一张清晰、完整的照片。"))
        return OcrResult(
            fields=fields,
            raw={"RequestId": body.get("RequestId", ""), "keys": sorted(fields)},
            request_id=str(body.get("RequestId", "")),
        )


def _pick(block: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, tuple[str, float]]:
    """Vendor keys → our names, with ``valueProb`` of the key in ``prism_keyValueInfo``."""
    data = block.get("data")
    values: Mapping[str, Any] = data if isinstance(data, dict) else {}
    probs: dict[str, float] = {}
    for item in block.get("prism_keyValueInfo") or []:
        if isinstance(item, dict) and "key" in item:
            try:
                probs[str(item["key"])] = float(item.get("valueProb", 0)) / 100
            except (TypeError, ValueError):
                probs[str(item["key"])] = 0.0
    fields: dict[str, tuple[str, float]] = {}
    for vendor_key, ours in mapping.items():
        value = values.get(vendor_key)
        if value in (None, ""):
            continue
        fields[ours] = (str(value).strip(), clamp(probs.get(vendor_key, 0.0)))
    return fields


def _id_card(doc: dict[str, Any], side: str) -> dict[str, tuple[str, float]]:
    data = doc["data"]
    if side == BACK:
        block = data.get("back") or {}
        fields = _pick(block, {"issueAuthority": "authority", "validPeriod": "valid_period"})
        period, confidence = fields.pop("valid_period", ("", 0.0))
        valid_from, _sep, valid_to = period.partition("-")
        for name, value in (("valid_from", valid_from), ("valid_to", valid_to)):
            if value.strip():
                fields[name] = (value.strip(), confidence)
        return fields
    return _pick(
        data.get("face") or {},
        {
            "name": "name",
            "sex": "sex",
            "ethnicity": "nation",
            "birthDate": "birth",
            "address": "address",
            "idNumber": "id_number",
        },
    )


def _business_license(doc: dict[str, Any], side: str) -> dict[str, tuple[str, float]]:
    return _pick(
        doc,
        {
            "companyName": "name",
            "creditCode": "uscc",
            "legalPerson": "legal_representative",
            "registeredCapital": "registered_capital",
            "RegistrationDate": "founded_on",
            "businessAddress": "address",
            "companyType": "company_type",
            "businessScope": "business_scope",
            "validPeriod": "valid_period",
        },
    )


def _bank_card(doc: dict[str, Any], side: str) -> dict[str, tuple[str, float]]:
    return _pick(
        doc,
        {
            "cardNumber": "card_number",
            "bankName": "bank_name",
            "cardType": "card_type",
            "validToDate": "valid_to",
        },
    )


PARSERS = {ID_CARD: _id_card, BUSINESS_LICENSE: _business_license, BANK_CARD: _bank_card}
