"""Writes of the privacy app: data-subject requests (查阅复制 / 更正 / 删除), marketing
consent, legal holds and the retention run. Every step is audited; only a user with
``privacy.handle_requests`` (the privacy officer role, and the administrator) may act."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import clock, fsm
from credo.core.audit.services import audit_record
from credo.core.holidays.calendar import load_calendar
from credo.core.masking import mask
from credo.customers.models import Customer
from credo.leads.models import Lead
from credo.notify.models import MarketingConsent
from credo.privacy import selectors
from credo.privacy.anonymize import anonymize_customer, anonymize_lead
from credo.privacy.calendar import ANSWER_WORKING_DAYS, add_working_days
from credo.privacy.errors import InvalidRequest, NotPermitted
from credo.privacy.models import DataSubjectRequest, LegalHold

R = DataSubjectRequest
S = DataSubjectRequest.Status


def _require(actor: Any, perm: str = "privacy.handle_requests") -> None:
    # actor None = the scheduler (a held deletion whose period ended): allowed by design.
    if actor is not None and not actor.has_perm(perm):
        raise NotPermitted(_("只有个人信息保护负责人可以处理个人信息主体请求。"))


def subject_label(*, customer: Customer | None, lead: Lead | None) -> str:
    """A masked label: enough to recognise the person in the register, never clear text."""
    if customer is not None:
        name = customer.name
        extra = mask("phone", customer.phone) or mask("id_number", customer.id_number)
        ref = f"客户#{customer.pk}"
    else:
        assert lead is not None
        name = lead.name
        extra = mask("phone", lead.phone)
        ref = f"线索#{lead.pk}"
    masked = name[:1] + "*" * max(len(name) - 1, 1) if name else ""
    return " ".join(p for p in (ref, masked, extra) if p)[:120]


def due_date(received_on: dt.date) -> dt.date:
    days = int(getattr(settings, "CREDO_PRIVACY_ANSWER_WORKING_DAYS", ANSWER_WORKING_DAYS))
    return add_working_days(received_on, days, load_calendar())


def _audit(req: DataSubjectRequest, action: str, actor: Any, **metadata: Any) -> None:
    audit_record(
        action=f"privacy.request_{action}",
        actor=actor,
        obj=req,
        metadata={
            "kind": req.kind,
            "customer": req.customer_id,
            "lead": req.lead_id,
            **metadata,
        },
    )


def request_create(
    *,
    actor: Any,
    kind: str,
    customer: Customer | None = None,
    lead: Lead | None = None,
    received_on: dt.date | None = None,
    detail: str = "",
) -> DataSubjectRequest:
    _require(actor)
    if kind not in R.Kind.values:
        raise InvalidRequest(_("未知的请求类型。"))
    if (customer is None) == (lead is None):
        raise InvalidRequest(_("请选择一个客户或一条线索（只能选一个）。"))
    received_on = received_on or clock.today()
    if received_on > clock.today():
        raise InvalidRequest(_("收到日期不能晚于今天。"))
    with transaction.atomic():
        req = DataSubjectRequest.objects.create(
            kind=kind,
            customer=customer,
            lead=lead,
            subject_label=subject_label(customer=customer, lead=lead),
            received_on=received_on,
            due_on=due_date(received_on),
            detail=detail,
            created_by=actor,
        )
        _audit(req, "create", actor, received_on=received_on, due_on=req.due_on)
    return req


def _lock(req: DataSubjectRequest) -> DataSubjectRequest:
    return DataSubjectRequest.objects.select_for_update().get(pk=req.pk)


def request_reject(*, actor: Any, request: DataSubjectRequest, reason: str) -> DataSubjectRequest:
    _require(actor)
    if not reason.strip():
        raise InvalidRequest(_("拒绝请求必须说明理由。"))
    with transaction.atomic():
        req = _lock(request)
        req.reason = reason.strip()
        req.handled_by = actor
        req.completed_at = timezone.now()
        try:
            fsm.transition(
                req,
                S.REJECTED,
                actor=actor,
                action="privacy.request_reject",
                update_fields=["reason", "handled_by", "completed_at"],
                metadata={"kind": req.kind},
            )
        except fsm.TransitionRefused as exc:
            raise InvalidRequest(str(exc)) from exc
    return req


def request_complete(
    *, actor: Any, request: DataSubjectRequest, outcome: str
) -> DataSubjectRequest:
    """Close an access or correction request (the correction itself is made through the
    customer's or lead's normal edit services, which audit the change)."""
    _require(actor)
    if request.kind == R.Kind.DELETION:
        raise InvalidRequest(_("删除请求请使用“执行删除”。"))
    if not outcome.strip():
        raise InvalidRequest(_("请填写处理结果。"))
    with transaction.atomic():
        req = _lock(request)
        req.outcome = outcome.strip()
        req.handled_by = actor
        req.completed_at = timezone.now()
        try:
            fsm.transition(
                req,
                S.COMPLETED,
                actor=actor,
                action="privacy.request_complete",
                update_fields=["outcome", "handled_by", "completed_at"],
                metadata={"kind": req.kind},
            )
        except fsm.TransitionRefused as exc:
            raise InvalidRequest(str(exc)) from exc
    return req


def request_export(*, actor: Any, request: DataSubjectRequest) -> bytes:
    """The access copy (zip: JSON + PDF) of everything held about the person. Reading it is a
    read of sensitive data: audited with the sections exported, never the values."""
    _require(actor, "privacy.export_personal_data")
    from credo.privacy.export import build_zip

    req = DataSubjectRequest.objects.select_related("customer", "lead").get(pk=request.pk)
    data = selectors.personal_data(customer=req.customer, lead=req.lead)
    payload = build_zip(req, data)
    with transaction.atomic():
        _audit(
            req,
            "export",
            actor,
            sections=sorted(k for k in data if k != "generated_at"),
            bytes=len(payload),
        )
    return payload


def request_execute_deletion(
    *, actor: Any, request: DataSubjectRequest, today: dt.date | None = None
) -> DataSubjectRequest:
    """Delete (anonymize) now, or — when a legal retention basis applies — record the basis
    and hold the request; a held request with a foreseeable end is executed by the nightly
    retention task on ``scheduled_on``."""
    _require(actor)
    today = today or clock.today()
    with transaction.atomic():
        req = _lock(request)
        if req.kind != R.Kind.DELETION:
            raise InvalidRequest(_("只有删除请求可以执行删除。"))
        if req.status not in (S.RECEIVED, S.HELD):
            raise InvalidRequest(_("该请求已办结。"))
        customer = req.customer if req.customer_id else None
        lead = None if customer is not None else req.lead
        basis = selectors.retention_basis(customer=customer, lead=lead, today=today)
        if basis.basis:
            if req.status == S.HELD and (req.hold_basis, req.scheduled_on) == (
                basis.basis,
                basis.until,
            ):
                return req  # nothing changed since the last check: no new audit row
            req.hold_basis = basis.basis
            req.scheduled_on = basis.until
            req.reason = basis.reason
            req.handled_by = req.handled_by or actor
            fsm.transition(
                req,
                S.HELD,
                actor=actor,
                action="privacy.request_hold",
                allow_same=True,
                update_fields=["hold_basis", "scheduled_on", "reason", "handled_by"],
                metadata={
                    "basis": basis.basis,
                    "scheduled_on": basis.until.isoformat() if basis.until else None,
                },
            )
            return req
        if customer is not None:
            done = anonymize_customer(customer, actor=actor)
        else:
            assert lead is not None
            done = anonymize_lead(lead, actor=actor)
        req.subject_label = f"客户#{customer.pk}" if customer is not None else f"线索#{req.lead_id}"
        req.outcome = _("已匿名化：%(d)s") % {
            "d": "，".join(
                f"{k}={v if isinstance(v, int) else len(v)}" for k, v in done.as_dict().items()
            )
        }
        req.hold_basis = ""
        req.handled_by = req.handled_by or actor
        req.completed_at = timezone.now()
        fsm.transition(
            req,
            S.COMPLETED,
            actor=actor,
            action="privacy.request_delete",
            update_fields=[
                "subject_label",
                "outcome",
                "hold_basis",
                "handled_by",
                "completed_at",
            ],
            metadata={"anonymized": done.as_dict()},
        )
    return req


def held_deletions_run(*, today: dt.date | None = None) -> list[int]:
    """Execute the held deletion requests whose scheduled date has come (the nightly task),
    and re-check those held without a date (an open loan, a legal hold): once the loan is
    settled they get the retention period's end as their date, once the hold is released and
    no basis is left they are executed. A request whose basis still applies is re-held with
    the new basis. Returns the ids of the requests completed."""
    from django.db.models import Q

    today = today or clock.today()
    done: list[int] = []
    due = DataSubjectRequest.objects.filter(
        Q(scheduled_on__lte=today) | Q(scheduled_on__isnull=True),
        status=S.HELD,
        kind=R.Kind.DELETION,
    ).order_by("id")
    for req in due:
        result = request_execute_deletion(actor=None, request=req, today=today)
        if result.status == S.COMPLETED:
            done.append(result.pk)
    return done


# --- consent ----------------------------------------------------------------------------------
def consent_record(
    *,
    actor: Any,
    source: str,
    customer: Customer | None = None,
    lead: Lead | None = None,
    channel: str = "",
    granted_at: dt.datetime | None = None,
    note: str = "",
) -> MarketingConsent:
    if actor is not None and not actor.has_perm("notify.add_marketingconsent"):
        raise NotPermitted(_("没有登记营销联系同意的权限。"))
    if (customer is None) == (lead is None):
        raise InvalidRequest(_("请选择一个客户或一条线索（只能选一个）。"))
    if source not in MarketingConsent.Source.values:
        raise InvalidRequest(_("请选择同意的取得方式。"))
    with transaction.atomic():
        consent = MarketingConsent.objects.create(
            customer=customer,
            lead_id=lead.pk if lead is not None else None,
            channel=channel,
            source=source,
            granted_at=granted_at or timezone.now(),
            recorded_by=actor,
            note=note,
        )
        audit_record(
            action="privacy.consent_grant",
            actor=actor,
            obj=consent,
            metadata={"channel": channel or "*", "source": source},
        )
    return consent


def consent_withdraw(
    *, actor: Any, consent: MarketingConsent, at: dt.datetime | None = None
) -> MarketingConsent:
    """Withdraw (第十五条): marketing stops from now on; the history row stays."""
    if actor is not None and not actor.has_perm("notify.change_marketingconsent"):
        raise NotPermitted(_("没有撤回营销联系同意的权限。"))
    with transaction.atomic():
        row = MarketingConsent.objects.select_for_update().get(pk=consent.pk)
        if row.withdrawn_at is not None:
            return row
        row.withdrawn_at = at or timezone.now()
        row.save(update_fields=["withdrawn_at"])
        audit_record(
            action="privacy.consent_withdraw",
            actor=actor,
            obj=row,
            metadata={"channel": row.channel or "*"},
        )
    return row


# --- legal holds ------------------------------------------------------------------------------
def legal_hold_place(
    *, actor: Any, reason: str, customer: Customer | None = None, lead: Lead | None = None
) -> LegalHold:
    _require(actor, "privacy.manage_legal_holds")
    if (customer is None) == (lead is None):
        raise InvalidRequest(_("请选择一个客户或一条线索（只能选一个）。"))
    if not reason.strip():
        raise InvalidRequest(_("请填写保全事由。"))
    with transaction.atomic():
        hold = LegalHold.objects.create(
            customer=customer, lead=lead, reason=reason.strip(), placed_by=actor
        )
        audit_record(
            action="privacy.legal_hold_place",
            actor=actor,
            obj=hold,
            metadata={"customer": hold.customer_id, "lead": hold.lead_id},
        )
    return hold


def legal_hold_release(*, actor: Any, hold: LegalHold) -> LegalHold:
    _require(actor, "privacy.manage_legal_holds")
    with transaction.atomic():
        row = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if row.released_at is None:
            row.released_at = timezone.now()
            row.save(update_fields=["released_at"])
            audit_record(action="privacy.legal_hold_release", actor=actor, obj=row)
    return row


def retention_run(*, actor: Any, today: dt.date | None = None) -> Any:
    from credo.privacy.retention import run_policies

    _require(actor, "privacy.run_retention")
    return run_policies(actor=actor, today=today or clock.today())
