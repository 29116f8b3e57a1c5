"""Reads for the borrower pages. Every query is narrowed to the signed-in borrower's customer
ids (``Borrower.customer_ids``); an id outside them answers 404 exactly like a missing one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from credo.borrower.models import BorrowerRequest
from credo.contracts.models import Contract
from credo.core import clock
from credo.customers.models import Customer
from credo.lending.models import Installment, Loan, Posting
from credo.lending.states import LOAN_OPEN_STATES
from credo.origination.models import Application
from credo.origination.services.common import EDITABLE_DOCS

# Loans a borrower sees: disbursed ones (a 待放款 loan has no schedule the borrower owes yet).
VISIBLE_LOAN_STATES = (*LOAN_OPEN_STATES, Loan.Status.PAID_OFF, Loan.Status.WRITTEN_OFF)


def customers(ids: Iterable[int]) -> list[Customer]:
    return list(Customer.objects.filter(pk__in=list(ids)).order_by("id"))


def loans(ids: Iterable[int]) -> QuerySet[Loan]:
    return (
        Loan.objects.filter(customer_id__in=list(ids), status__in=VISIBLE_LOAN_STATES)
        .select_related("customer", "product_version__product")
        .order_by("status", "-start_date", "-id")
    )


def loan_get(ids: Iterable[int], pk: Any) -> Loan:
    try:
        return loans(ids).get(pk=int(pk))
    except (Loan.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@dataclass(frozen=True)
class NextDue:
    due_date: dt.date
    amount_fen: int
    overdue: bool
    period: int


def next_due(loan: Loan) -> NextDue | None:
    """The earliest installment still owed: its date and the amount owed on it (principal,
    interest, fee and any penalty — the one "amount owed" definition)."""
    inst = loan.installments.outstanding().order_by("period").first()
    if inst is None:
        return None
    return NextDue(
        due_date=inst.due_date,
        amount_fen=int(inst.owed),  # type: ignore[attr-defined]
        overdue=inst.due_date < clock.today(),
        period=inst.period,
    )


def overdue_total(loan: Loan) -> int:
    return loan.installments.filter(due_date__lt=clock.today()).owed_total()


def schedule(loan: Loan) -> list[Installment]:
    return list(loan.installments.order_by("period"))


def payments(ids: Iterable[int], loan: Loan | None = None) -> QuerySet[Posting]:
    qs = Posting.objects.filter(loan__customer_id__in=list(ids)).select_related("loan")
    if loan is not None:
        qs = qs.filter(loan=loan)
    return qs.order_by("-received_on", "-id")


def contracts(ids: Iterable[int]) -> QuerySet[Contract]:
    return (
        Contract.objects.filter(customer_id__in=list(ids))
        .exclude(status__in=(Contract.Status.CANCELLED, Contract.Status.DRAFT))
        .order_by("-id")
    )


def contract_get(ids: Iterable[int], pk: Any) -> Contract:
    try:
        return contracts(ids).get(pk=int(pk))
    except (Contract.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def open_applications(ids: Iterable[int]) -> QuerySet[Application]:
    """Applications that still take documents (草稿 / 退回补充)."""
    return (
        Application.objects.filter(customer_id__in=list(ids), status__in=EDITABLE_DOCS)
        .select_related("customer", "product_version__product")
        .order_by("-id")
    )


def application_get(ids: Iterable[int], pk: Any) -> Application:
    try:
        return open_applications(ids).get(pk=int(pk))
    except (Application.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def requests(ids: Iterable[int]) -> QuerySet[BorrowerRequest]:
    return (
        BorrowerRequest.objects.filter(customer_id__in=list(ids))
        .select_related("loan")
        .order_by("-id")
    )


# --- renewal eligibility -------------------------------------------------------------------------
def renewal_eligibility(customer: Customer) -> tuple[bool, str]:
    """续贷资格 (self-service): the customer has at least one disbursed loan, every loan is
    paid off or current (正常, DPD 0, nothing past due unpaid), none is written off, and no
    renewal request is already waiting. Staff still decide; this only opens the form."""
    book = list(Loan.objects.filter(customer=customer).exclude(status=Loan.Status.PENDING))
    if not book:
        return False, "没有已发放的贷款，暂不能在线申请续贷。"
    for loan in book:
        if loan.status == Loan.Status.WRITTEN_OFF:
            return False, "存在已核销贷款，暂不能在线申请续贷。"
        if loan.status == Loan.Status.OVERDUE or loan.dpd > 0 or overdue_total(loan) > 0:
            return False, "存在逾期未还款项，请先还清逾期款项。"
    if BorrowerRequest.objects.filter(
        customer=customer,
        kind=BorrowerRequest.Kind.RENEWAL,
        status=BorrowerRequest.Status.SUBMITTED,
    ).exists():
        return False, "已有待处理的续贷申请，请等待客户经理联系。"
    return True, ""


# --- staff side ----------------------------------------------------------------------------------
def staff_requests(user: Any, params: dict[str, Any] | None = None) -> QuerySet[BorrowerRequest]:
    """Requests of the customers inside the user's data scope."""
    from credo.accounts.scope import scope_queryset

    params = params or {}
    qs = scope_queryset(
        BorrowerRequest.objects.select_related("customer", "loan", "decided_by"),
        user,
        owner_field="customer__owner",
        team_field="customer__team",
        branch_field="customer__branch",
    )
    status = params.get("status", "submitted")
    if status in BorrowerRequest.Status.values:
        qs = qs.filter(status=status)
    kind = params.get("kind")
    if kind in BorrowerRequest.Kind.values:
        qs = qs.filter(kind=kind)
    return qs.order_by("-id")
