"""E-signature providers.

A provider sends a contract for signing (returning its own reference) and verifies the
status callbacks it later posts to ``/api/v1/contracts/esign/callback``. The simulated provider
(default; ``CREDO_ESIGN_PROVIDER``) signs callbacks with HMAC-SHA256 over the raw body using
``CREDO_ESIGN_SECRET`` (or a key derived from ``SECRET_KEY``); the 模拟签署 buttons build the
same signed callback, so the demo walks the real code path.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from credo.contracts.errors import InvalidSignature

SIGNATURE_HEADER = "X-Credo-Signature"
CALLBACK_STATUSES = ("signed", "rejected", "expired")


def callback_secret() -> bytes:
    secret = getattr(settings, "CREDO_ESIGN_SECRET", "") or ""
    if secret:
        return str(secret).encode()
    return hashlib.sha256(b"credo-esign:" + settings.SECRET_KEY.encode()).digest()


def sign_body(body: bytes) -> str:
    return hmac.new(callback_secret(), body, hashlib.sha256).hexdigest()


def _header(headers: Mapping[str, Any], name: str) -> str:
    wanted = name.lower()
    for key, value in headers.items():
        if str(key).lower() == wanted:
            return str(value)
    return ""


class ESignProvider:
    code = ""
    label = ""
    simulated = False

    def send(self, contract: Any) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def verify_callback(self, body: bytes, headers: Mapping[str, Any]) -> tuple[str, str]:
        """→ (provider_ref, status) or raise ``InvalidSignature``."""
        raise NotImplementedError  # pragma: no cover - interface


class SimulatedProvider(ESignProvider):
    code = "simulated"
    label = "模拟电子签（演示/测试）"
    simulated = True

    def send(self, contract: Any) -> str:
        return f"SIM-{uuid.uuid4().hex[:20]}"

    def callback_body(self, ref: str, status: str) -> tuple[bytes, dict[str, str]]:
        body = json.dumps({"ref": ref, "status": status}, separators=(",", ":")).encode()
        return body, {SIGNATURE_HEADER: sign_body(body)}

    def verify_callback(self, body: bytes, headers: Mapping[str, Any]) -> tuple[str, str]:
        given = _header(headers, SIGNATURE_HEADER)
        if not given or not hmac.compare_digest(given, sign_body(body)):
            raise InvalidSignature(_("回调签名无效。"))
        try:
            payload = json.loads(body)
            ref, status = str(payload["ref"]), str(payload["status"])
        except (ValueError, KeyError, TypeError):
            raise InvalidSignature(_("回调内容无效。")) from None
        if status not in CALLBACK_STATUSES:
            raise InvalidSignature(_("回调状态无效。"))
        return ref, status


PROVIDERS: dict[str, type[ESignProvider]] = {"simulated": SimulatedProvider}


def register_provider(cls: type[ESignProvider]) -> None:
    PROVIDERS[cls.code] = cls


def provider_code() -> str:
    return (
        getattr(settings, "CREDO_ESIGN_PROVIDER", None)
        or os.environ.get("CREDO_ESIGN_PROVIDER")
        or "simulated"
    )


def get_provider(code: str | None = None) -> ESignProvider:
    cls = PROVIDERS.get(code or provider_code())
    if cls is None:
        raise InvalidSignature(_("未配置的电子签服务商：%(c)s") % {"c": code or provider_code()})
    return cls()
