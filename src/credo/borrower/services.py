"""Writes of the borrower self-service: requests for staff (提前还款 / 续贷), their review,
document uploads to open applications, the privacy notice and marketing consent, and the
audited reads (downloads, quotes).

The borrower is never a staff ``User``: audit rows have no actor and carry
``{"borrower_session": …, "customer_ids": […]}`` in their metadata (like the upload portal's
rows carry the portal link), and the request context's user is cleared for every borrower page
(credo.borrower.access).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.borrower import conf, selectors
from credo.borrower.errors import InvalidInput, InvalidState, NotAllowed
from credo.borrower.models import BorrowerRequest, BorrowerSession, PrivacyAcceptance
from credo.core import clock, fsm
from credo.core.audit.services import audit_record
from credo.core.money import Money
from credo.core.sequence import daily_number
from credo.customers.events import record_event
from credo.customers.models import Customer
from credo.lending.errors import LendingError
from credo.lending.models import Loan
from credo.lending.prepay import prepayment_quote

logger = logging.getLogger(__name__)
R = BorrowerRequest


@dataclass
class Borrower:
    """The signed-in borrower of one request."""

    session: BorrowerSession
    customer_ids: list[int] = field(default_factory=list)

    @property
    def meta(self) -> dict[str, Any]:
        return {"borrower_session": self.session.pk, "customer_ids": list(self.customer_ids)}

    def owns(self, customer_id: int | None) -> bool:
        return customer_id is not None and customer_id in self.customer_ids


def audit_view(borrower: Borrower, action: str, *, obj: Any = None, **metadata: Any) -> None:
    """One audit row for a read (page, download, quote) by the borrower."""
    with transaction.atomic():
        audit_record(
            action=action,
            obj=obj,
            object_type="" if obj is not None else "borrower.borrowersession",
            object_id="" if obj is not None else borrower.session.pk,
            object_repr="" if obj is not None else borrower.session.phone_masked,
            metadata={**borrower.meta, **metadata},
        )


# --- early repayment ------------------------------------------------------------------------------
def prepay_quote(*, borrower: Borrower, loan: Loan, amount: Any = None) -> dict[str, Any]:
    """The lending app's prepayment quote for today (read-only), audited."""
    if not borrower.owns(loan.customer_id):
        raise NotAllowed(_("无权查看该贷款。"))
    try:
        quote = prepayment_quote(loan=loan, on_date=clock.today(), amount=amount or None)
    except LendingError as exc:
        raise InvalidInput(getattr(exc, "message", str(exc))) from None
    audit_view(
        borrower,
        "borrower.prepay_quote",
        obj=loan,
        amount=quote.get("amount", ""),
        payoff=quote["payoff_amount"],
    )
    return quote


def _number() -> str:
    return daily_number("borrower_request", "BR", day=clock.today(), numbered=BorrowerRequest)


def _notify_owner(req: BorrowerRequest) -> None:
    """In-app notice to the customer's account manager; after commit, never failing the request."""
    try:
        from credo.notify.services import notify

        with transaction.atomic():
            notify(
                template="borrower.request_submitted",
                context={
                    "number": req.number,
                    "kind": req.get_kind_display(),
                    "customer": req.customer.name,
                    "loan": req.loan.number if req.loan else "",
                },
                user=req.customer.owner,
                channel="inapp",
                url=reverse("borrower_staff:detail", args=[req.pk]),
                dedupe_key=f"borrower-request:{req.pk}",
            )
    except Exception:  # noqa: BLE001 - a failing notice must not turn a filed request into an error
        logger.warning("notice for borrower request %s failed", req.pk, exc_info=True)


def _file(borrower: Borrower, req: BorrowerRequest, duplicate: str) -> BorrowerRequest:
    try:
        with transaction.atomic():
            req.number = _number()
            req.save()
            audit_record(
                action="borrower.request_submit",
                obj=req,
                metadata={
                    **borrower.meta,
                    "kind": req.kind,
                    "loan": req.loan.number if req.loan else "",
                    "amount": str(req.amount) if req.amount is not None else "",
                },
            )
            record_event(
                customer=req.customer,
                kind="other",
                title=_("客户在线提交%(k)s %(n)s") % {"k": req.get_kind_display(), "n": req.number},
                obj=req,
                source="borrower",
                detail={"request": req.pk, "kind": req.kind},
            )
            transaction.on_commit(lambda: _notify_owner(req))
    except IntegrityError:
        raise InvalidState(duplicate) from None
    return req


def prepay_request(
    *,
    borrower: Borrower,
    loan: Loan,
    amount: Any = None,
    preferred_date: dt.date | None = None,
    note: str = "",
) -> BorrowerRequest:
    """提前还款申请: the borrower asks to settle (``amount`` None) or to prepay part; staff
    review it and post the money through the lending app's prepayment page. The quote of today
    is kept with the request (read-only; the posting recomputes on its own date)."""
    quote = prepay_quote(borrower=borrower, loan=loan, amount=amount)
    if preferred_date is not None and preferred_date < clock.today():
        raise InvalidInput(_("期望还款日期不能早于今天。"))
    req = BorrowerRequest(  # type: ignore[misc]  # MoneyField takes Money
        kind=R.Kind.PREPAY,
        customer_id=loan.customer_id,
        loan=loan,
        amount=Money(quote["amount"]) if amount else None,
        preferred_date=preferred_date,
        note=(note or "").strip()[:300],
        quote={k: v for k, v in quote.items() if k != "schedules"},
    )
    req.customer = loan.customer
    return _file(borrower, req, _("该贷款已有待处理的提前还款申请，请等待客户经理联系。"))


# --- renewal --------------------------------------------------------------------------------------
def renewal_request(
    *, borrower: Borrower, customer: Customer, amount: Any, months: Any, note: str = ""
) -> BorrowerRequest:
    if not borrower.owns(customer.pk):
        raise NotAllowed(_("无权为该客户申请。"))
    ok, reason = selectors.renewal_eligibility(customer)
    if not ok:
        raise InvalidState(reason)
    try:
        money = Money(amount)
        months_int = int(months)
    except (TypeError, ValueError, ArithmeticError):
        raise InvalidInput(_("请填写正确的金额和期限。")) from None
    if money.fen <= 0 or not 1 <= months_int <= 360:
        raise InvalidInput(_("请填写正确的金额和期限。"))
    req = BorrowerRequest(  # type: ignore[misc]  # MoneyField takes Money
        kind=R.Kind.RENEWAL,
        customer=customer,
        amount=money,
        months=months_int,
        note=(note or "").strip()[:300],
    )
    return _file(borrower, req, _("已有待处理的续贷申请，请等待客户经理联系。"))


# --- staff review ---------------------------------------------------------------------------------
PERM = "borrower.review_borrowerrequest"


def request_decide(
    *, request: BorrowerRequest, actor: Any, accept: bool, note: str = ""
) -> BorrowerRequest:
    """受理 / 拒绝 a borrower request (once). Rejecting needs a reason; the borrower is told by
    SMS (service message)."""
    from credo.accounts.scope import can_access

    if actor is None or not actor.has_perm(PERM) or not can_access(request.customer, actor):
        raise NotAllowed(_("没有权限处理该申请。"))
    note = (note or "").strip()[:300]
    if not accept and not note:
        raise InvalidInput(_("拒绝时必须填写原因。"))
    target = R.Status.ACCEPTED if accept else R.Status.REJECTED
    with transaction.atomic():
        locked = BorrowerRequest.objects.select_for_update().get(pk=request.pk)
        locked.decision_note = note
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        try:
            fsm.transition(
                locked,
                target,
                actor=actor,
                action="borrower.request_accept" if accept else "borrower.request_reject",
                metadata={"number": locked.number, "kind": locked.kind, "note": note},
                update_fields=("decision_note", "decided_by", "decided_at"),
            )
        except fsm.TransitionRefused:
            raise InvalidState(_("该申请已处理。")) from None
        record_event(
            customer=locked.customer,
            kind="other",
            actor=actor,
            title=(_("%(k)s %(n)s 已受理") if accept else _("%(k)s %(n)s 已拒绝：%(r)s"))
            % {"k": locked.get_kind_display(), "n": locked.number, "r": note},
            obj=locked,
            source="borrower",
        )
        from credo.notify.services import notify

        notify(
            template="borrower.request_decided",
            context={
                "number": locked.number,
                "kind": locked.get_kind_display(),
                "result": _("已受理") if accept else _("未通过"),
                "note": note,
            },
            customer=locked.customer,
            actor=actor,
            dedupe_key=f"borrower-request-decided:{locked.pk}",
        )
    return locked


# --- documents ------------------------------------------------------------------------------------
def document_upload(
    *, borrower: Borrower, application: Any, item: str, name: str, data: bytes
) -> Any:
    """Upload to one of the borrower's open applications through the upload portal's checks
    (checklist item, type by extension and content, size, image limits) and records."""
    from credo.origination.errors import InvalidDocument, OriginationError, RateLimited
    from credo.origination.errors import InvalidState as OriginationState
    from credo.origination.services.common import _lock
    from credo.origination.services.documents import _refuse_upload, _upload

    if not borrower.owns(application.customer_id):
        raise NotAllowed(_("无权向该申请上传资料。"))
    try:
        with transaction.atomic():
            app = _lock(application)
            doc = _upload(app, item=item, name=name, data=data, actor=None, via="portal")
            audit_record(
                action="borrower.document_upload",
                obj=app,
                metadata={**borrower.meta, "item": item, "document": doc.pk, "sha256": doc.sha256},
            )
            return doc
    except (InvalidDocument, OriginationState, RateLimited) as exc:
        _refuse_upload(application, None, item, name, exc, None)
        raise InvalidInput(exc.message) from None
    except OriginationError as exc:
        raise InvalidInput(exc.message) from None


# --- privacy --------------------------------------------------------------------------------------
def privacy_version() -> str:
    return str(conf.get("CREDO_BORROWER_PRIVACY_VERSION"))


def privacy_pending(borrower: Borrower) -> bool:
    """True while some customer of the session has not accepted the current notice."""
    accepted = set(
        PrivacyAcceptance.objects.filter(
            customer_id__in=borrower.customer_ids, notice_version=privacy_version()
        ).values_list("customer_id", flat=True)
    )
    return any(cid not in accepted for cid in borrower.customer_ids)


def privacy_accept(
    *, borrower: Borrower, ip: str | None, marketing: bool = False
) -> list[PrivacyAcceptance]:
    """Record the acceptance of the current notice for every customer of the session; with
    ``marketing`` also a marketing consent (SMS, source 线上勾选) through the privacy app."""
    from credo.privacy.services import consent_record

    version = privacy_version()
    rows = []
    now = timezone.now()
    with transaction.atomic():
        for cid in borrower.customer_ids:
            row, created = PrivacyAcceptance.objects.get_or_create(
                customer_id=cid,
                notice_version=version,
                defaults={"accepted_at": now, "ip": ip},
            )
            rows.append(row)
            if created:
                audit_record(
                    action="borrower.privacy_accept",
                    object_type="customers.customer",
                    object_id=cid,
                    metadata={**borrower.meta, "notice_version": version},
                )
        if marketing:
            for customer in Customer.objects.filter(pk__in=borrower.customer_ids):
                if not customer.marketing_consents.filter(withdrawn_at__isnull=True).exists():
                    consent_record(
                        actor=None,
                        source="portal",
                        customer=customer,
                        channel="sms",
                        note=_("借款人自助服务勾选"),
                    )
    return rows


def marketing_withdraw(*, borrower: Borrower) -> int:
    """Withdraw every marketing consent in force of the borrower's customers (第十五条)."""
    from credo.notify.models import MarketingConsent
    from credo.privacy.services import consent_withdraw

    n = 0
    with transaction.atomic():
        for consent in MarketingConsent.objects.filter(
            customer_id__in=borrower.customer_ids, withdrawn_at__isnull=True
        ):
            consent_withdraw(actor=None, consent=consent)
            n += 1
        audit_record(
            action="borrower.marketing_withdraw",
            object_type="borrower.borrowersession",
            object_id=borrower.session.pk,
            object_repr=borrower.session.phone_masked,
            metadata={**borrower.meta, "withdrawn": n},
        )
    return n


def marketing_in_force(borrower: Borrower) -> bool:
    from credo.notify.models import MarketingConsent

    return MarketingConsent.objects.filter(
        customer_id__in=borrower.customer_ids, withdrawn_at__isnull=True
    ).exists()
