"""Reads of the privacy app: the retention basis of a person, everything held about a person
(the access copy), the request register, the personal-information inventory."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Max, Model, Q, QuerySet
from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.fields import BlindIndexField
from credo.customers.models import (
    Authorization,
    Contact,
    Customer,
    CustomerEvent,
    ExternalPull,
    Relation,
)
from credo.leads.models import FollowUp, Lead
from credo.lending.models import Installment, Loan
from credo.notify.models import MarketingConsent, Message
from credo.origination.models import Application, Document
from credo.privacy.models import DataSubjectRequest, LegalHold

#: Loans that are still a claim on the borrower: the contract is the legal basis (第十三条二项).
OPEN_LOAN_STATUSES = (
    Loan.Status.PENDING,
    Loan.Status.ACTIVE,
    Loan.Status.OVERDUE,
    Loan.Status.WRITTEN_OFF,  # written off is not forgiven: recovery continues
)


def retention_years() -> int:
    return int(getattr(settings, "CREDO_PRIVACY_RETENTION_YEARS", 5))


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True)
class RetentionBasis:
    """Why personal data must still be kept (``basis`` empty: it may be deleted now)."""

    basis: str  # DataSubjectRequest.HoldBasis value
    until: dt.date | None  # the first day deletion is allowed (None: not foreseeable)
    reason: str


def has_legal_hold(*, customer: Customer | None = None, lead: Lead | None = None) -> bool:
    q = Q(customer=customer) if customer is not None else Q(lead=lead)
    return LegalHold.objects.filter(q, released_at__isnull=True).exists()


def settled_on(loan: Loan) -> dt.date:
    """The day a paid-off loan was settled: its last installment payment (else maturity)."""
    last = Installment.objects.filter(loan=loan).aggregate(d=Max("paid_on"))["d"]
    return last or loan.maturity_date or clock.today()


def retention_basis(
    *, customer: Customer | None = None, lead: Lead | None = None, today: dt.date | None = None
) -> RetentionBasis:
    """The legal basis to keep the person's data today, if any: a legal hold, an open loan, or
    the retention period after the last settlement (``CREDO_PRIVACY_RETENTION_YEARS``)."""
    today = today or clock.today()
    H = DataSubjectRequest.HoldBasis
    if has_legal_hold(customer=customer, lead=lead):
        return RetentionBasis(H.LEGAL_HOLD, None, _("存在未解除的法律保全"))
    if customer is None and lead is not None:
        customer = lead.customer
    if customer is None:
        return RetentionBasis(H.NONE, None, "")
    loans = list(Loan.objects.filter(customer=customer))
    open_numbers = [ln.number for ln in loans if ln.status in OPEN_LOAN_STATUSES]
    if open_numbers:
        return RetentionBasis(
            H.OPEN_LOAN,
            None,
            _("存在未结清贷款：%(loans)s（合同履行所必需，个人信息保护法第十三条第二项）")
            % {"loans": "、".join(open_numbers)},
        )
    if loans:
        last = max(settled_on(ln) for ln in loans)
        until = add_years(last, retention_years())
        if today < until:
            return RetentionBasis(
                H.RETENTION,
                until,
                _("贷款已于 %(last)s 结清，保存期 %(years)s 年，至 %(until)s 届满")
                % {
                    "last": last.isoformat(),
                    "years": retention_years(),
                    "until": until.isoformat(),
                },
            )
    return RetentionBasis(H.NONE, None, "")


# --- the access copy ---------------------------------------------------------------------------
def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, Model):
        return value.pk
    return value


def row(obj: Model, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The concrete fields of ``obj`` (blind indexes and ``exclude`` left out), JSON-ready."""
    out: dict[str, Any] = {}
    for f in obj._meta.concrete_fields:
        if isinstance(f, BlindIndexField) or f.name in exclude:
            continue
        out[f.name] = _value(getattr(obj, f.attname))
    return out


def _masked_name(name: str) -> str:
    name = name or ""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def personal_data(*, customer: Customer | None = None, lead: Lead | None = None) -> dict[str, Any]:
    """Everything held about the person, for the access copy (查阅复制). Other people's data
    (related parties' names) appears masked: the copy is the subject's, not theirs."""
    data: dict[str, Any] = {"generated_at": clock.now().isoformat()}
    leads: QuerySet[Lead]
    if customer is not None:
        data["customer"] = row(customer, exclude=("owner", "team", "branch", "version"))
        data["contacts"] = [row(c) for c in Contact.objects.filter(customer=customer)]
        data["relations"] = [
            {
                "direction": "out" if r.from_customer_id == customer.pk else "in",
                "kind": r.get_kind_display(),
                "party": _masked_name(
                    (r.to_customer if r.from_customer_id == customer.pk else r.from_customer).name
                ),
                "share_pct": _value(r.share_pct),
            }
            for r in Relation.objects.filter(
                Q(from_customer=customer) | Q(to_customer=customer)
            ).select_related("from_customer", "to_customer")
        ]
        apps = Application.objects.filter(customer=customer).order_by("id")
        data["applications"] = [
            row(
                a,
                exclude=("owner", "team", "branch", "created_by", "admission_evaluation"),
            )
            for a in apps
        ]
        data["documents"] = [
            {
                "application": d.application.number,
                "item": d.item,
                "original_name": d.original_name,
                "uploaded_at": _value(d.uploaded_at),
                "size": d.size,
            }
            for d in Document.objects.filter(application__customer=customer).select_related(
                "application"
            )
        ]
        loans = []
        for loan in Loan.objects.filter(customer=customer).order_by("id"):
            entry = row(loan, exclude=("version",))
            entry["schedule"] = [
                row(i, exclude=("loan",)) for i in Installment.objects.filter(loan=loan)
            ]
            loans.append(entry)
        data["loans"] = loans
        data["authorizations"] = [
            row(a, exclude=("recorded_by", "document"))
            for a in Authorization.objects.filter(customer=customer)
        ]
        data["external_data"] = [
            {
                "kind": p.get_kind_display(),
                "requested_at": _value(p.requested_at),
                "status": p.get_status_display(),
                "parsed": p.parsed,
            }
            for p in ExternalPull.objects.filter(customer=customer)
        ]
        data["notifications"] = [
            {
                "scheduled_at": _value(m.scheduled_at),
                "category": m.get_category_display(),
                "kind": m.get_kind_display(),
                "status": m.get_status_display(),
                "subject": m.subject,
                "body": m.body,
            }
            for m in Message.objects.filter(customer=customer).order_by("id")
        ]
        data["timeline"] = [
            {"occurred_at": _value(e.occurred_at), "kind": e.get_kind_display(), "title": e.title}
            for e in CustomerEvent.objects.filter(customer=customer).order_by("occurred_at")
        ]
        consents = MarketingConsent.objects.filter(customer=customer)
        leads = Lead.objects.filter(customer=customer)
    else:
        assert lead is not None
        consents = MarketingConsent.objects.filter(lead_id=lead.pk)
        leads = Lead.objects.filter(pk=lead.pk)
    data["leads"] = [
        {
            **row(ld, exclude=("owner", "team", "branch", "created_by", "assignment_version")),
            "follow_ups": [
                row(f, exclude=("lead", "actor")) for f in FollowUp.objects.filter(lead=ld)
            ],
        }
        for ld in leads
    ]
    data["consents"] = [row(c, exclude=("recorded_by",)) for c in consents]
    return data


# --- the register ------------------------------------------------------------------------------
def requests_list(*, status: str = "", kind: str = "") -> QuerySet[DataSubjectRequest]:
    qs = DataSubjectRequest.objects.select_related("handled_by").order_by("due_on", "id")
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def is_overdue(req: DataSubjectRequest, today: dt.date | None = None) -> bool:
    return req.status == DataSubjectRequest.Status.RECEIVED and req.due_on < (
        today or clock.today()
    )


def holds_of(*, customer: Customer | None = None, lead: Lead | None = None) -> Any:
    q = Q(customer=customer) if customer is not None else Q(lead=lead)
    return LegalHold.objects.filter(q, released_at__isnull=True).order_by("-placed_at")


def consents_of(*, customer: Customer | None = None, lead: Lead | None = None) -> Any:
    if customer is not None:
        return MarketingConsent.objects.filter(customer=customer)
    assert lead is not None
    return MarketingConsent.objects.filter(lead_id=lead.pk)
