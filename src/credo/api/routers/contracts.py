"""合同与签署 API: contract detail and PDF (scoped), send for signing, and the e-signature
provider's status callback (no token: authenticated by its HMAC-SHA256 signature header)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Router, Schema

from credo.api.auth import require_perm, require_scope
from credo.api.errors import ApiError
from credo.api.idempotency import idempotent
from credo.api.schemas import ErrorOut
from credo.contracts import rendering, selectors, services
from credo.contracts.errors import ContractError, InvalidSignature, UnknownContract
from credo.contracts.esign import ProviderUnavailable
from credo.contracts.models import Contract
from credo.core.audit.services import audit_record
from credo.core.money import format_fen

router = Router(tags=["contracts"])
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


class ContractOut(Schema):
    id: int
    number: str
    status: str
    customer_id: int
    subject_type: str
    subject_id: str
    template: str
    template_version: int
    amount: str
    months: int
    annual_rate: str
    provider: str
    provider_ref: str
    pdf_sha256: str
    created_at: str
    sent_at: str | None
    expires_at: str | None
    signed_at: str | None


class CallbackOut(Schema):
    number: str
    status: str
    msg: str = "success"  # 法大大 expects "success" in the body of an accepted callback


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def contract_out(c: Contract) -> dict[str, Any]:
    fen = int(c.terms.get("amount_fen", 0))
    return {
        "id": c.pk,
        "number": c.number,
        "status": c.status,
        "customer_id": c.customer_id,
        "subject_type": c.subject_type,
        "subject_id": c.subject_id,
        "template": c.template.code,
        "template_version": c.template.version,
        "amount": format_fen(fen, grouping=False),
        "months": int(c.terms.get("months", 0)),
        "annual_rate": str(c.terms.get("annual_rate", "")),
        "provider": c.provider,
        "provider_ref": c.provider_ref,
        "pdf_sha256": c.pdf_sha256,
        "created_at": c.created_at.isoformat(),
        "sent_at": _iso(c.sent_at),
        "expires_at": _iso(c.expires_at),
        "signed_at": _iso(c.signed_at),
    }


def _get(request: HttpRequest, contract_id: int) -> Contract:
    try:
        return selectors.contract_get(request.user, contract_id)
    except Http404:
        raise ApiError("not_found", "合同不存在。", status=404) from None


@router.get("/{contract_id}", response={200: ContractOut, **ERRORS}, summary="合同详情")
def get_contract(request: HttpRequest, contract_id: int) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "contracts.view_contract")
    return contract_out(_get(request, contract_id))


@router.get("/{contract_id}/pdf", response={200: None, **ERRORS}, summary="下载合同 PDF")
def get_contract_pdf(request: HttpRequest, contract_id: int) -> HttpResponse:
    require_scope(request, "read")
    require_perm(request, "contracts.view_contract")
    contract = _get(request, contract_id)
    try:
        data = rendering.read_pdf(contract.pdf_path)
    except OSError:
        raise ApiError("not_found", "合同文件不存在。", status=404) from None
    with transaction.atomic():
        audit_record(
            action="contracts.pdf_download",
            actor=request.user,
            obj=contract,
            metadata={"sha256": contract.pdf_sha256, "via": "api"},
        )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{contract.number}.pdf"'
    return response


@router.post("/{contract_id}/send", response={200: ContractOut, **ERRORS}, summary="发送签署")
@idempotent
def send_contract(request: HttpRequest, contract_id: int) -> dict[str, Any]:
    require_scope(request, "write")
    require_perm(request, "contracts.send_contract")
    contract = _get(request, contract_id)
    try:
        contract = services.contract_send(contract=contract, actor=request.user)
    except ContractError as exc:
        raise ApiError(exc.code, exc.message, status=409) from None
    return contract_out(contract)


@router.post(
    "/esign/callback",
    auth=None,
    response={200: CallbackOut, **ERRORS},
    summary="电子签回调（HMAC-SHA256 签名，幂等）",
)
def esign_callback(request: HttpRequest) -> dict[str, Any]:
    try:
        contract = services.contract_callback(body=request.body, headers=request.headers)
    except InvalidSignature as exc:
        with transaction.atomic():
            audit_record(
                action="contracts.callback_refused",
                metadata={"reason": exc.message, "ip": request.META.get("REMOTE_ADDR", "")},
            )
        raise ApiError("invalid_signature", exc.message, status=403) from None
    except UnknownContract as exc:
        raise ApiError("not_found", exc.message, status=404) from None
    except ProviderUnavailable as exc:  # signed PDF not downloadable yet: the vendor retries
        with transaction.atomic():
            audit_record(action="contracts.callback_deferred", metadata={"reason": exc.message})
        raise ApiError(exc.code, exc.message, status=503) from None
    except ContractError as exc:
        raise ApiError(exc.code, exc.message, status=409) from None
    if contract is None:  # a verified intermediate event: acknowledged, nothing to change
        return {"number": "", "status": "ignored"}
    return {"number": contract.number, "status": contract.status}
