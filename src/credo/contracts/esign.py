"""E-signature providers.

A provider creates a signing flow for a contract (returning its own reference), gives the
signer's URL, verifies the status callbacks it later posts to ``/api/v1/contracts/esign/callback``
and, for a real vendor, hands back the signed PDF. ``CREDO_ESIGN_PROVIDER`` selects one of:

* ``simulated`` (default; demo and tests only — ``credo check --deploy`` refuses it): signs
  callbacks with HMAC-SHA256 over the raw body using ``CREDO_ESIGN_SECRET`` (or a key derived
  from ``SECRET_KEY``); the 模拟签署 buttons build the same signed callback, so the demo walks
  the real code path.
* ``esign`` (e签宝 开放平台 V3) and ``fadada`` (法大大 FASC API 5.x): adapters in
  :mod:`credo.contracts.esign_providers` (their docstrings say which documented API shapes
  they follow).

Network calls never run inside a database transaction: ``contracts.services`` calls the
provider first and records the result afterwards, so a timeout leaves nothing half done.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from credo.contracts.errors import ContractError, InvalidSignature

SIGNATURE_HEADER = "X-Credo-Signature"
#: Outcomes a callback may report; "" = verified but nothing to change (an intermediate event).
CALLBACK_STATUSES = ("signed", "rejected", "expired")


class ProviderUnavailable(ContractError):
    """The vendor could not be reached or answered with a server error/timeout: retry later.
    Nothing was recorded."""

    code = "provider_unavailable"


class ProviderRefused(ContractError):
    """The vendor answered with a business error (credentials, parameters): fix and retry."""

    code = "provider_refused"


def callback_secret() -> bytes:
    secret = getattr(settings, "CREDO_ESIGN_SECRET", "") or ""
    if secret:
        return str(secret).encode()
    return hashlib.sha256(b"credo-esign:" + settings.SECRET_KEY.encode()).digest()


def sign_body(body: bytes) -> str:
    return hmac.new(callback_secret(), body, hashlib.sha256).hexdigest()


def header(headers: Mapping[str, Any], name: str) -> str:
    wanted = name.lower()
    for key, value in headers.items():
        if str(key).lower() == wanted:
            return str(value)
    return ""


def safe_url(url: str) -> str:
    """A vendor's link shown as a clickable link: only http(s), at most 500 characters."""
    url = (url or "").strip()
    return url[:500] if url.lower().startswith(("https://", "http://")) else ""


@dataclass(frozen=True)
class Signer:
    """Who signs: a person (``kind="person"``) or a company through its agent."""

    kind: str
    name: str
    mobile: str = ""
    id_number: str = ""
    org_name: str = ""
    uscc: str = ""


@dataclass(frozen=True)
class SignRequest:
    """Everything a vendor needs to start a signing flow (no ORM objects: adapters stay
    framework-free and testable against the fake vendors)."""

    number: str
    title: str
    pdf: bytes
    file_name: str
    signer: Signer
    notify_url: str = ""
    expires_at_ms: int = 0


@dataclass(frozen=True)
class Flow:
    ref: str
    signer_url: str = ""


class ESignProvider:
    code = ""
    label = ""
    simulated = False
    #: Settings a real provider needs (``credo check --deploy`` reports the empty ones).
    required_settings: tuple[str, ...] = ()

    def missing_settings(self) -> list[str]:
        return [name for name in self.required_settings if not getattr(settings, name, "")]

    def send(self, contract: Any) -> str:
        """Legacy entry (simulated provider): start a flow and return its reference."""
        return self.create_flow(sign_request_for(contract)).ref

    def create_flow(self, request: SignRequest) -> Flow:  # pragma: no cover - interface
        raise NotImplementedError

    def signer_url(self, ref: str, signer: Signer) -> str:
        return ""

    def cancel_flow(self, ref: str, reason: str) -> None:
        """Revoke an unsigned flow at the vendor (nothing to do for the simulated provider)."""

    def download_signed(self, ref: str) -> bytes:
        """The signed PDF of a finished flow (real vendors only)."""
        raise NotImplementedError  # pragma: no cover - interface

    def verify_callback(self, body: bytes, headers: Mapping[str, Any]) -> tuple[str, str]:
        """→ (provider_ref, status) or raise ``InvalidSignature``; status "" = a verified
        event that changes nothing (an intermediate step at the vendor)."""
        raise NotImplementedError  # pragma: no cover - interface


class SimulatedProvider(ESignProvider):
    code = "simulated"
    label = "模拟电子签（演示/测试）"
    simulated = True

    def send(self, contract: Any) -> str:
        return f"SIM-{uuid.uuid4().hex[:20]}"

    def create_flow(self, request: SignRequest) -> Flow:
        return Flow(ref=f"SIM-{uuid.uuid4().hex[:20]}")

    def callback_body(self, ref: str, status: str) -> tuple[bytes, dict[str, str]]:
        body = json.dumps({"ref": ref, "status": status}, separators=(",", ":")).encode()
        return body, {SIGNATURE_HEADER: sign_body(body)}

    def verify_callback(self, body: bytes, headers: Mapping[str, Any]) -> tuple[str, str]:
        given = header(headers, SIGNATURE_HEADER)
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


def _load_adapters() -> None:
    import credo.contracts.esign_providers  # noqa: F401  (registers esign / fadada)


def provider_code() -> str:
    return (
        getattr(settings, "CREDO_ESIGN_PROVIDER", None)
        or os.environ.get("CREDO_ESIGN_PROVIDER")
        or "simulated"
    )


def get_provider(code: str | None = None) -> ESignProvider:
    _load_adapters()
    cls = PROVIDERS.get(code or provider_code())
    if cls is None:
        raise InvalidSignature(_("未配置的电子签服务商：%(c)s") % {"c": code or provider_code()})
    return cls()


def signer_for(customer: Any) -> Signer:
    """The borrower as the vendor's signer (a company signs through its legal representative
    or primary contact, identified by the mobile number)."""
    if getattr(customer, "kind", "") == "enterprise":
        contact = None
        contacts = getattr(customer, "contacts", None)
        if contacts is not None:
            contact = contacts.order_by("-is_primary", "id").first()
        return Signer(
            kind="org",
            name=(getattr(contact, "name", "") or customer.legal_representative or customer.name),
            mobile=str(getattr(contact, "phone", "") or customer.phone or ""),
            org_name=customer.name,
            uscc=customer.uscc or "",
        )
    return Signer(
        kind="person",
        name=customer.name,
        mobile=str(customer.phone or ""),
        id_number=str(customer.id_number or ""),
    )


def sign_request_for(contract: Any, *, expires_at: Any = None) -> SignRequest:
    from credo.contracts import rendering

    expires = expires_at or getattr(contract, "expires_at", None)
    return SignRequest(
        number=contract.number,
        title=_("借款合同 %(n)s") % {"n": contract.number},
        pdf=rendering.read_pdf(contract.pdf_path) if contract.pdf_path else b"",
        file_name=f"{contract.number}.pdf",
        signer=signer_for(contract.customer),
        notify_url=str(getattr(settings, "CREDO_ESIGN_NOTIFY_URL", "") or ""),
        expires_at_ms=int(expires.timestamp() * 1000) if expires else 0,
    )


def check_esign_config() -> list[Any]:
    """``credo check --deploy``: a real provider without its app id/secret cannot send contracts
    or verify callbacks; an unknown provider name is a typo. (The simulated provider itself is
    refused by ``credo.core.checks.check_esign_provider``.)"""
    from credo.core.checks import ERROR, OK, Finding

    code = provider_code()
    if code == "simulated":
        return []
    _load_adapters()
    cls = PROVIDERS.get(code)
    if cls is None:
        return [
            Finding(
                ERROR,
                "credo.E093",
                "CREDO_ESIGN_PROVIDER",
                f"CREDO_ESIGN_PROVIDER '{code}' is unknown: use esign (e签宝) or fadada (法大大).",
            )
        ]
    missing = cls().missing_settings()
    if missing:
        return [
            Finding(
                ERROR,
                "credo.E093",
                missing[0],
                f"the {code} e-signature provider is not configured: set {', '.join(missing)} "
                "(or their *_FILE variants).",
            )
        ]
    return [Finding(OK, "credo.I093", "CREDO_ESIGN_PROVIDER", f"{cls.label} app id and secret set")]


def _register_checks() -> None:
    from credo.core.checks import deploy_checks

    deploy_checks.register("esign_config", check_esign_config)


_register_checks()
