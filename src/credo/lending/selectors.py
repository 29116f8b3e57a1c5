"""Reads of loans and products. Every loan list goes through the user's data scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.accounts.scope import get_with_access, scope_queryset
from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.registry import Registry, callable_key
from credo.customers.models import CustomerEvent
from credo.lending.models import JournalEntry, Loan, Posting, ProductVersion


def loans_for(user: Any) -> QuerySet[Loan]:
    return scope_queryset(Loan.objects.all(), user)


def loan_list(user: Any, params: Mapping[str, Any] | None = None) -> QuerySet[Loan]:
    """Filters: ``status``, ``classification``, ``q`` (loan number or customer name),
    ``overdue`` (any truthy value → only loans with DPD > 0 or status overdue), ``maturing``
    (days: open loans maturing within them)."""
    params = params or {}
    qs = loans_for(user).select_related("customer", "owner", "product_version__product")
    status = params.get("status")
    if status in Loan.Status.values:
        qs = qs.filter(status=status)
    classification = params.get("classification")
    if classification in Loan.Classification.values:
        qs = qs.filter(classification=classification)
    q = str(params.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(customer__name__icontains=q))
    if params.get("overdue") in ("1", "on", "true", True):
        qs = qs.filter(Q(dpd__gt=0) | Q(status=Loan.Status.OVERDUE))
    maturing = str(params.get("maturing") or "")
    if maturing.isdecimal() and 0 < int(maturing) <= 3650:  # the 工作台's "即将到期" card
        qs = qs.filter(maturing_q(int(maturing)))
    return qs.order_by("-id")


def maturing_q(days: int) -> Q:
    """Open loans whose final due date falls within the next ``days`` days (续贷 candidates)."""
    today = clock.today()
    return Q(
        status__in=(Loan.Status.ACTIVE, Loan.Status.OVERDUE),
        maturity_date__gte=today,
        maturity_date__lte=today + dt.timedelta(days=days),
    )


LOAN_RELATED = ("customer", "owner", "team", "branch", "product_version__product", "created_by")
# what the loan detail page shows of the loan's relations (the customer's name, the product, the
# 客户经理 and the creator); each further join cost PostgreSQL ≈ 0.4 ms more planning per view
LOAN_PAGE_RELATED = ("customer", "owner", "product_version__product", "created_by")


def loan_get(user: Any, pk: Any, *, related: tuple[str, ...] = LOAN_RELATED) -> Loan:
    """The loan if inside the user's scope; otherwise 404 (and the attempt is audited). The
    scope check is part of the loan's query; ``related`` are the relations read with it."""
    try:
        loan, allowed = get_with_access(
            Loan.objects.select_related(*related),
            user,
            int(pk),
        )
    except (Loan.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not allowed:
        with transaction.atomic():
            audit_record(
                action="loan.access_denied",
                actor=user,
                obj=loan,
                object_repr=f"loan #{loan.pk}",
            )
        raise Http404
    return loan


def loan_entries(loan: Loan) -> QuerySet[JournalEntry]:
    return loan.entries.prefetch_related("lines__account").select_related("actor").order_by("id")


def loan_postings(loan: Loan) -> QuerySet[Posting]:
    return loan.postings.select_related("actor").order_by("-id")


def loan_events(loan: Loan, posting_ids: Iterable[int] | None = None) -> QuerySet[CustomerEvent]:
    """The customer's timeline events about this loan or its postings (``posting_ids``: the ids
    of all the loan's postings when the caller has read them already)."""
    if posting_ids is None:
        posting_ids = loan.postings.values_list("pk", flat=True)
    ids = [str(pk) for pk in posting_ids]
    return (
        loan.customer.events.filter(source="lending")
        .filter(
            Q(object_type="lending.loan", object_id=str(loan.pk))
            | Q(object_type="lending.posting", object_id__in=ids)
        )
        .select_related("actor")
        .order_by("-occurred_at", "-id")
    )


def loan_write_off(loan: Loan, posting_ids: Iterable[int] | None = None) -> dict[str, Any] | None:
    """The write-off of a written-off loan: its journal entry, reason and off-balance amounts
    (``posting_ids`` as for :func:`loan_events`)."""
    entry = (
        loan.entries.filter(kind=JournalEntry.Kind.WRITE_OFF, reversed_by__isnull=True)
        .select_related("actor")
        .order_by("-id")
        .first()
    )
    if entry is None:
        return None
    event = loan_events(loan, posting_ids).filter(kind=CustomerEvent.Kind.WRITE_OFF).first()
    detail = event.detail if event else {}
    principal = sum(line.debit.fen for line in entry.lines.all())
    off = detail.get("off_balance", {})
    return {
        "entry": entry,
        "principal": principal,
        "reason": detail.get("reason", ""),
        "off_balance": off,
        "off_balance_total": sum(int(v) for v in off.values()),
    }


def published_versions() -> QuerySet[ProductVersion]:
    return (
        ProductVersion.objects.filter(
            status=ProductVersion.Status.PUBLISHED, product__is_active=True
        )
        .select_related("product")
        .order_by("product__code")
    )


# ---------------------------------------------------------------- origin and value-date floor


def loan_origin(loan: Loan) -> Any | None:
    """The application the loan was originated from (approved, contract signed), or ``None``
    for a loan created directly through 新建贷款. Origination links its application to the loan
    (``Application.loan``); lending reads that reverse relation without importing origination."""
    try:
        return loan.application  # type: ignore[attr-defined]
    except (ObjectDoesNotExist, AttributeError):
        return None


class ValueDateFloor(NamedTuple):
    """The earliest value date a loan can be disbursed with, and what fixes it."""

    date: dt.date
    label: str


FloorProvider = Callable[[Loan, Any], list[ValueDateFloor]]
floor_providers: Registry[FloorProvider] = Registry("value-date floors", on_duplicate="keep")


def register_value_date_floor(provider: FloorProvider) -> None:
    """Apps above lending (contracts) add dates a disbursement may not precede, e.g. the
    contract signature date: ``provider(loan, origin)`` → floors (``origin`` may be None)."""
    floor_providers.register(callable_key(provider), provider)


def _local_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value if isinstance(value, dt.date) else None


def value_date_floor(loan: Loan) -> ValueDateFloor:
    """A loan may not start earlier than the business it rests on: the approval of its
    application and the signature of its contract; a loan created directly, its creation."""
    origin = loan_origin(loan)
    floors: list[ValueDateFloor] = []
    if origin is None:
        created = _local_date(loan.created_at)
        if created is not None:
            floors.append(ValueDateFloor(created, _("贷款创建日")))
    else:
        approved = _local_date(getattr(origin, "decided_at", None))
        if approved is not None:
            floors.append(ValueDateFloor(approved, _("申请审批通过日")))
    for provider in floor_providers:
        floors.extend(provider(loan, origin))
    if not floors:  # an application without a decision date: fall back to the loan itself
        floors.append(ValueDateFloor(_local_date(loan.created_at) or dt.date.min, _("贷款创建日")))
    return max(floors, key=lambda f: f.date)
