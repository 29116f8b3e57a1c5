"""Contract writes: templates (versioned), generate, send, status changes, expiry.

Other apps call ``contract_generate`` / ``contract_send`` and subscribe with
``register_signed_listener(callback)``; the callback runs inside the transaction that moves the
contract to ``signed`` (exactly once per contract, however often the provider calls back).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.contracts import esign, rendering
from credo.contracts.errors import (
    ContractError,
    InvalidState,
    InvalidTerms,
    TemplateInvalid,
    UnknownContract,
)
from credo.contracts.models import Contract, ContractEvent, ContractTemplate
from credo.contracts.states import OPEN_STATES
from credo.core import clock, fsm
from credo.core.audit.services import audit_record
from credo.core.registry import Registry, callable_key
from credo.core.sequence import daily_number
from credo.customers.events import record_event

SignedListener = Callable[[Contract], None]
signed_listeners: Registry[SignedListener] = Registry(
    "contract signed listeners", on_duplicate="keep"
)

DEFAULT_TEMPLATES = {"loan": gettext_lazy("借款合同（个人/企业）")}


def register_signed_listener(callback: SignedListener) -> None:
    signed_listeners.register(callable_key(callback), callback)


def unregister_signed_listener(callback: SignedListener) -> None:
    signed_listeners.unregister(callable_key(callback))


ClosedListener = Callable[[Contract, str], None]
closed_listeners: Registry[ClosedListener] = Registry(
    "contract closed listeners", on_duplicate="keep"
)


def register_closed_listener(callback: ClosedListener) -> None:
    """``callback(contract, status)`` when a sent contract is rejected or expires (inside the
    transaction), so the subject's app can offer a new contract."""
    closed_listeners.register(callable_key(callback), callback)


def expire_days() -> int:
    return int(getattr(settings, "CREDO_CONTRACT_EXPIRE_DAYS", 15))


# --- templates -----------------------------------------------------------------------------
def template_current(code: str) -> ContractTemplate:
    """The current version of ``code``; the shipped default is installed on first use."""
    template = ContractTemplate.objects.filter(code=code, is_current=True).first()
    if template is not None:
        return template
    if code not in DEFAULT_TEMPLATES:
        raise TemplateInvalid(_("合同模板 %(c)s 不存在。") % {"c": code})
    from pathlib import Path

    body = (Path(__file__).parent / "default_templates" / f"{code}.html").read_text("utf-8")
    try:
        with transaction.atomic():
            template = ContractTemplate.objects.create(
                code=code,
                name=str(DEFAULT_TEMPLATES[code]),
                version=1,
                body=body,
                note=_("系统默认模板"),
            )
            audit_record(action="contracts.template_installed", obj=template)
    except IntegrityError:  # installed concurrently
        template = ContractTemplate.objects.get(code=code, is_current=True)
    return template


def _validate_body(body: str) -> None:
    if not body.strip():
        raise TemplateInvalid(_("模板内容不能为空。"))
    rendering.compile_body(body)
    # Render once with sample data so runtime errors surface before saving.
    from types import SimpleNamespace

    sample_customer = SimpleNamespace(
        kind="enterprise", uscc="91140100MA0000000X", id_number="", address="太原市"
    )
    rendering.render_body(
        body,
        rendering.context_for(
            number="HT000000000000", terms=rendering.SAMPLE_TERMS, customer=sample_customer
        ),
    )


@transaction.atomic
def template_update(
    *, code: str, name: str, body: str, note: str = "", actor: Any
) -> ContractTemplate:
    """Save an edit as a new version (the previous one stays for existing contracts)."""
    _validate_body(body)
    name = (name or "").strip()
    if not name:
        raise TemplateInvalid(_("模板名称不能为空。"))
    if code in DEFAULT_TEMPLATES:
        template_current(code)  # install the shipped v1 first so the edit becomes v2
    current = (
        ContractTemplate.objects.select_for_update().filter(code=code, is_current=True).first()
    )
    number = 1
    if current is not None:
        number = current.version + 1
        current.is_current = False
        current.save(update_fields=["is_current"])
    template = ContractTemplate.objects.create(
        code=code, name=name, version=number, body=body, note=note[:200], created_by=actor
    )
    audit_record(
        action="contracts.template_updated",
        actor=actor,
        obj=template,
        metadata={"code": code, "version": number, "note": note[:200]},
    )
    return template


def template_preview(body: str) -> str:
    """Render ``body`` with sample terms (raises ``TemplateInvalid``)."""
    from types import SimpleNamespace

    sample_customer = SimpleNamespace(
        kind="enterprise", uscc="91140100MA0000000X", id_number="", address="太原市小店区"
    )
    return rendering.render_body(
        body,
        rendering.context_for(
            number="HT000000000000", terms=rendering.SAMPLE_TERMS, customer=sample_customer
        ),
    )


# --- numbering -----------------------------------------------------------------------------
def next_number(day: dt.date | None = None) -> str:
    """HT + yyyymmdd + 4-digit sequence from the locked ``contract`` counter (credo.core.sequence):
    concurrent transactions queue instead of reading the same value. Call inside a transaction."""
    return daily_number("contract", "HT", day=day or clock.today(), numbered=Contract)


# --- generate / send -----------------------------------------------------------------------
def _clean_terms(terms: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(terms, dict):
        raise InvalidTerms(_("合同要素格式错误。"))
    out = dict(terms)
    amount = out.get("amount_fen")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidTerms(_("借款金额必须为正数（以分计）。"))
    months = out.get("months")
    if isinstance(months, bool) or not isinstance(months, int) or not 0 < months <= 600:
        raise InvalidTerms(_("借款期限无效。"))
    try:
        rate = Decimal(str(out.get("annual_rate")))
    except (InvalidOperation, ValueError):
        raise InvalidTerms(_("年利率无效。")) from None
    if not rate.is_finite() or rate < 0 or rate > 100:
        raise InvalidTerms(_("年利率无效。"))
    out["annual_rate"] = f"{rate:.4f}"
    if not str(out.get("borrower") or "").strip():
        raise InvalidTerms(_("缺少借款人名称。"))
    schedule = out.get("schedule") or []
    if not isinstance(schedule, list):
        raise InvalidTerms(_("还款计划格式错误。"))
    for row in schedule:
        if not isinstance(row, dict):
            raise InvalidTerms(_("还款计划格式错误。"))
        for key in ("payment", "principal", "interest"):
            value = row.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidTerms(_("还款计划金额必须以分计的整数。"))
    out["schedule"] = schedule
    return out


def _event(contract: Contract, kind: str, *, actor: Any, before: str = "", **detail: Any) -> None:
    ContractEvent.objects.create(
        contract=contract,
        kind=kind,
        status_from=before,
        status_to=contract.status,
        actor=actor if getattr(actor, "pk", None) else None,
        detail=detail,
    )


@transaction.atomic
def contract_generate(
    *, subject: Any, customer: Any, terms: dict[str, Any], actor: Any, template_code: str = "loan"
) -> Contract:
    """Render the current template over ``terms``, store the HTML snapshot and the PDF."""
    clean = _clean_terms(terms)
    template = template_current(template_code)
    number = next_number()
    html = rendering.render_body(
        template.body, rendering.context_for(number=number, terms=clean, customer=customer)
    )
    pdf = rendering.pdf_bytes(rendering.html_document(html, title=number))
    # The file is written before the row: if the transaction rolls back, an orphan file is
    # left in the private store (harmless), never a row without its file.
    rel, digest = rendering.store_pdf(pdf)
    meta = subject._meta
    contract = Contract.objects.create(
        number=number,
        subject_type=f"{meta.app_label}.{meta.model_name}",
        subject_id=str(subject.pk),
        customer=customer,
        template=template,
        terms=clean,
        html=html,
        pdf_path=rel,
        pdf_sha256=digest,
        pdf_size=len(pdf),
        created_by=actor,
    )
    _event(contract, "generated", actor=actor, template=f"{template.code} v{template.version}")
    audit_record(
        action="contracts.generated",
        actor=actor,
        obj=contract,
        metadata={
            "subject": f"{contract.subject_type}#{contract.subject_id}",
            "template": template.code,
            "template_version": template.version,
            "sha256": digest,
        },
    )
    record_event(
        customer=customer,
        kind="document",
        title=_("生成合同 %(n)s") % {"n": number},
        actor=actor,
        obj=contract,
        source="contracts",
        detail={"amount_fen": clean["amount_fen"], "months": clean["months"]},
    )
    return contract


def contract_send(*, contract: Contract, actor: Any) -> Contract:
    """Send a draft to the configured e-signature provider.

    A real vendor is called outside any transaction (upload, create the flow, fetch the signer's
    link) while a claim on the row keeps a second sender out; only its answer is recorded. A
    network failure or a refusal leaves the contract a draft, audited, to be retried."""
    provider = esign.get_provider()
    if provider.simulated:
        return _send_record(contract=contract, actor=actor, provider=provider, flow=None)
    missing = provider.missing_settings()
    if missing:
        raise esign.ProviderRefused(
            _("电子签服务商 %(p)s 未配置：请设置 %(v)s。")
            % {"p": provider.label, "v": "、".join(missing)}
        )
    _send_claim(contract)
    try:
        fresh = Contract.objects.select_related("customer").get(pk=contract.pk)
        expires = timezone.now() + dt.timedelta(days=expire_days())
        try:
            request = esign.sign_request_for(fresh, expires_at=expires)
        except OSError:
            raise InvalidState(_("合同 PDF 文件缺失，无法发送签署。")) from None
        flow = provider.create_flow(request)
    except ContractError as exc:
        _send_release(contract.pk)
        with transaction.atomic():
            audit_record(
                action="contracts.send_failed",
                actor=actor,
                obj=contract,
                metadata={"provider": provider.code, "error": exc.message[:300]},
            )
        raise
    except BaseException:
        _send_release(contract.pk)
        raise
    return _send_record(contract=contract, actor=actor, provider=provider, flow=flow)


#: A send claim older than this is considered abandoned (a crashed worker).
SEND_CLAIM_TTL = dt.timedelta(minutes=10)


def _send_claim(contract: Contract) -> None:
    from django.db.models import Q

    now = timezone.now()
    claimed = (
        Contract.objects.filter(pk=contract.pk, status=Contract.Status.DRAFT)
        .filter(Q(send_claimed_at__isnull=True) | Q(send_claimed_at__lt=now - SEND_CLAIM_TTL))
        .update(send_claimed_at=now)
    )
    if not claimed:
        if Contract.objects.filter(pk=contract.pk, status=Contract.Status.DRAFT).exists():
            raise InvalidState(_("合同正在发送签署中，请稍候刷新页面。"))
        raise InvalidState(_("只有待发送的合同可以发送签署。"))


def _send_release(pk: int) -> None:
    Contract.objects.filter(pk=pk).update(send_claimed_at=None)


@transaction.atomic
def _send_record(
    *, contract: Contract, actor: Any, provider: esign.ESignProvider, flow: esign.Flow | None
) -> Contract:
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.status != Contract.Status.DRAFT:
        if flow is not None:  # cancelled while the vendor was called: the flow is left there
            audit_record(
                action="contracts.send_orphaned",
                actor=actor,
                obj=contract,
                metadata={"provider": provider.code, "ref": flow.ref},
            )
        raise InvalidState(_("只有待发送的合同可以发送签署。"))
    ref = flow.ref if flow is not None else provider.send(contract)
    now = timezone.now()
    before = fsm.transition(contract, Contract.Status.SENT, save=False)
    contract.provider = provider.code
    contract.provider_ref = ref
    contract.signer_url = esign.safe_url(flow.signer_url if flow is not None else "")
    contract.send_claimed_at = None
    contract.sent_at = now
    contract.expires_at = now + dt.timedelta(days=expire_days())
    contract.save(
        update_fields=[
            "status",
            "provider",
            "provider_ref",
            "signer_url",
            "send_claimed_at",
            "sent_at",
            "expires_at",
            "updated_at",
        ]
    )
    _event(contract, "sent", actor=actor, before=before, provider=provider.code, ref=ref)
    audit_record(
        action="contracts.sent",
        actor=actor,
        obj=contract,
        metadata={"provider": provider.code, "ref": ref, "signer_url": bool(contract.signer_url)},
    )
    record_event(
        customer=contract.customer,
        kind="document",
        title=_("合同 %(n)s 已发送签署") % {"n": contract.number},
        actor=actor,
        obj=contract,
        source="contracts",
    )
    return contract


def contract_signer_url_refresh(*, contract: Contract, actor: Any) -> Contract:
    """Ask the vendor again for the signer's link of a sent contract (the link may have been
    missing after a timeout, or expired)."""
    if contract.status != Contract.Status.SENT or not contract.provider_ref:
        raise InvalidState(_("只有待签署的合同可以获取签署链接。"))
    provider = esign.get_provider(contract.provider or None)
    if provider.simulated:
        raise InvalidState(_("模拟电子签服务商没有签署链接。"))
    customer = Contract.objects.select_related("customer").get(pk=contract.pk).customer
    url = provider.signer_url(contract.provider_ref, esign.signer_for(customer))  # network
    with transaction.atomic():
        contract = Contract.objects.select_for_update().get(pk=contract.pk)
        contract.signer_url = esign.safe_url(url)
        contract.save(update_fields=["signer_url", "updated_at"])
        audit_record(
            action="contracts.signer_url_refreshed",
            actor=actor,
            obj=contract,
            metadata={"provider": provider.code, "ref": contract.provider_ref},
        )
    return contract


TARGETS = {
    "signed": Contract.Status.SIGNED,
    "rejected": Contract.Status.REJECTED,
    "expired": Contract.Status.EXPIRED,
}
TITLES = {
    "signed": gettext_lazy("合同 %(n)s 已签署"),
    "rejected": gettext_lazy("合同 %(n)s 被拒签"),
    "expired": gettext_lazy("合同 %(n)s 已过期未签"),
}


def _apply_status(
    contract: Contract, status: str, *, actor: Any, source: str
) -> tuple[Contract, bool]:
    """Move a locked ``sent`` contract to ``status``; a repeat of the current status is a no-op
    (returns changed=False) so providers may retry callbacks safely."""
    target = TARGETS.get(status)
    if target is None:
        raise InvalidState(_("无效的签署状态。"))
    if contract.status == target:
        return contract, False
    try:
        before = fsm.transition(contract, target, save=False)
    except fsm.TransitionRefused:
        raise InvalidState(
            _("合同当前状态为“%(s)s”，不能变更为“%(t)s”。")
            % {"s": contract.get_status_display(), "t": target.label}
        ) from None
    now = timezone.now()
    if target == Contract.Status.SIGNED:
        contract.signed_at = now
    else:
        contract.closed_at = now
    contract.save(update_fields=["status", "signed_at", "closed_at", "updated_at"])
    _event(contract, status, actor=actor, before=before, source=source)
    audit_record(
        action=f"contracts.{status}",
        actor=actor,
        obj=contract,
        metadata={"source": source, "ref": contract.provider_ref},
    )
    record_event(
        customer=contract.customer,
        kind="document",
        title=str(TITLES[status]) % {"n": contract.number},
        actor=actor,
        obj=contract,
        source="contracts",
        detail={"source": source},
    )
    if target == Contract.Status.SIGNED:
        for listener in signed_listeners:
            listener(contract)
    else:
        for closed in closed_listeners:
            closed(contract, status)
    return contract, True


def contract_callback(
    *, body: bytes, headers: Any, provider_code: str | None = None
) -> Contract | None:
    """Handle a provider's status callback (signature verified first; nothing changes if it
    fails). Idempotent: a repeated callback returns the contract unchanged. An event that
    changes nothing (an intermediate step at the vendor) returns None.

    For a real vendor a "signed" callback first downloads the signed PDF — outside the
    transaction — and stores it; the contract becomes signed together with that file, so a
    download failure (``ProviderUnavailable``) changes nothing and the vendor's retry, or the
    next callback, completes it."""
    provider = esign.get_provider(provider_code)
    ref, status = provider.verify_callback(body, headers)
    if not status:
        return None
    current = Contract.objects.filter(provider=provider.code, provider_ref=ref).first()
    if current is None or not ref:
        raise UnknownContract(_("找不到对应的合同。"))
    stored: tuple[str, str, int] | None = None
    if (
        status == "signed"
        and not provider.simulated
        and current.status == Contract.Status.SENT
        and not current.signed_pdf_path
    ):
        pdf = provider.download_signed(ref)  # network, outside the transaction
        rel, digest = rendering.store_pdf(pdf)  # an orphan file on rollback is harmless
        stored = (rel, digest, len(pdf))
    with transaction.atomic():
        contract = (
            # of=("self",): lock the contract only. Without it PostgreSQL also locks the joined
            # customer row, and the signed listener then waits for the customer's credit limit
            # while limit_set (holding the limit) waits for that customer row (see
            # docs/architecture.md).
            Contract.objects.select_for_update(of=("self",))
            .select_related("customer")
            .get(pk=current.pk)
        )
        if stored is not None and contract.status == Contract.Status.SENT:
            contract.signed_pdf_path, contract.signed_pdf_sha256, contract.signed_pdf_size = stored
            contract.save(update_fields=["signed_pdf_path", "signed_pdf_sha256", "signed_pdf_size"])
        contract, _changed = _apply_status(contract, status, actor=None, source=provider.code)
    return contract


def contract_simulate(*, contract: Contract, outcome: str, actor: Any) -> Contract:
    """The 模拟签署 / 模拟拒签 buttons: build the simulated provider's signed callback and
    run it through ``contract_callback`` — the same path a real callback takes."""
    provider = esign.get_provider(contract.provider or None)
    if not isinstance(provider, esign.SimulatedProvider):
        raise InvalidState(_("只有模拟电子签服务商支持模拟签署。"))
    if outcome not in ("signed", "rejected"):
        raise InvalidState(_("无效的签署状态。"))
    if contract.status != Contract.Status.SENT:
        raise InvalidState(_("只有待签署的合同可以模拟签署。"))
    body, headers = provider.callback_body(contract.provider_ref, outcome)
    with transaction.atomic():
        audit_record(
            action="contracts.simulated_callback",
            actor=actor,
            obj=contract,
            metadata={"outcome": outcome},
        )
        result = contract_callback(body=body, headers=headers, provider_code=provider.code)
        if result is None:  # the simulated provider reports only final outcomes
            raise InvalidState(_("无效的签署状态。"))
        return result


def contract_cancel(*, contract: Contract, actor: Any, reason: str = "") -> Contract:
    """Cancel a draft or sent contract. A flow already at a real vendor is revoked there first
    (outside the transaction) so the borrower can no longer sign it; if the vendor cannot be
    reached or refuses (e.g. already signed), the contract stays as it was."""
    current = Contract.objects.get(pk=contract.pk)
    if current.status == Contract.Status.SENT and current.provider and current.provider_ref:
        provider = esign.get_provider(current.provider)
        if not provider.simulated:
            provider.cancel_flow(current.provider_ref, reason or _("合同已作废"))  # network
    return _cancel_record(contract=current, actor=actor, reason=reason)


@transaction.atomic
def _cancel_record(*, contract: Contract, actor: Any, reason: str) -> Contract:
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.status not in OPEN_STATES:
        raise InvalidState(_("只有待发送或待签署的合同可以作废。"))
    before = fsm.transition(contract, Contract.Status.CANCELLED, save=False)
    contract.closed_at = timezone.now()
    contract.save(update_fields=["status", "closed_at", "updated_at"])
    _event(contract, "cancelled", actor=actor, before=before, reason=reason[:200])
    audit_record(
        action="contracts.cancelled", actor=actor, obj=contract, metadata={"reason": reason[:200]}
    )
    return contract


def contracts_expire(*, now: dt.datetime | None = None) -> int:
    """Expire sent contracts past their deadline; each in its own transaction."""
    now = now or timezone.now()
    ids = list(
        Contract.objects.filter(status=Contract.Status.SENT, expires_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    count = 0
    for pk in ids:
        with transaction.atomic():
            contract = (
                Contract.objects.select_for_update(of=("self",))
                .select_related("customer")
                .get(pk=pk)
            )
            if contract.status != Contract.Status.SENT or contract.expires_at is None:
                continue
            if contract.expires_at > now:
                continue
            _apply_status(contract, "expired", actor=None, source="scheduler")
            count += 1
    return count
