"""Allocation of money to installments and "amount owed": the public contract of lending.

Repayments, the close of business (溢缴款冲抵), prepayment and the API all read what an
installment still owes and apply money to it through these functions:

* :func:`due_components` — what one installment still owes, per component (fen);
* :func:`allocation_preview` — how an amount would be applied (oldest due installment first,
  components in the loan's order), the rest held as credit;
* :func:`apply_allocation` — add (``sign=+1``) or undo (``-1``) an applied part on an installment;
* :func:`refresh_installment_status` — the installment's status after money moved;
* :func:`loan_status_after` — the loan's status after money moved;
* :func:`penalty_for_day` — one day of 罚息.

Sums over many installments use :func:`credo.lending.models.owed_expression` /
``Installment.objects.owed_total()`` (the database side of the same rule).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from credo.core import fsm
from credo.core.money import Money
from credo.lending.models import COMPONENTS, DEFAULT_ALLOCATION, Installment, Loan
from credo.lending.replay.engine import InstState, LoanTerms, allocate, daily_penalty

__all__ = [
    "COMPONENTS",
    "allocation_preview",
    "apply_allocation",
    "due_components",
    "loan_status_after",
    "penalty_for_day",
    "refresh_installment_status",
]


def due_components(inst: Installment) -> dict[str, int]:
    """What ``inst`` still owes per component (penalty, fee, interest, principal), in fen."""
    return {c: getattr(inst, f"{c}_due").fen - getattr(inst, f"{c}_paid").fen for c in COMPONENTS}


def allocation_preview(
    loan: Loan, amount: int, on_date: dt.date, installments: list[Installment] | None = None
) -> dict[str, Any]:
    """How ``amount`` fen would be applied: oldest due installment first, components in the
    loan's order (default penalty → fee → interest → principal); the rest is held as credit."""
    rows = (
        installments
        if installments is not None
        else list(
            loan.installments.filter(due_date__lte=on_date)
            .exclude(status="paid")
            .order_by("period")
        )
    )
    terms = LoanTerms(
        principal=0,
        annual_rate=loan.annual_rate,
        start_date=dt.date.min,
        allocation_order=tuple(loan.allocation_order or DEFAULT_ALLOCATION),
    )
    # the replay engine's allocation (the one copy), on throw-away copies of the rows
    copies = [
        InstState(
            period=i.period,
            due_date=i.due_date,
            principal_due=i.principal_due.fen,
            interest_due=i.interest_due.fen,
            fee_due=i.fee_due.fen,
            penalty_due=i.penalty_due.fen,
            principal_paid=i.principal_paid.fen,
            interest_paid=i.interest_paid.fen,
            fee_paid=i.fee_paid.fen,
            penalty_paid=i.penalty_paid.fen,
            status=i.status,
            id=i.pk,
        )
        for i in rows
    ]
    return allocate(terms, copies, amount, on_date)


def apply_allocation(inst: Installment, applied: dict[str, int], sign: int) -> None:
    """Add (``sign=+1``) or take back (``-1``) the components of ``applied`` on ``inst``
    (not saved)."""
    inst.penalty_paid = Money.from_fen(inst.penalty_paid.fen + sign * applied.get("penalty", 0))
    inst.fee_paid = Money.from_fen(inst.fee_paid.fen + sign * applied.get("fee", 0))
    inst.interest_paid = Money.from_fen(inst.interest_paid.fen + sign * applied.get("interest", 0))
    inst.principal_paid = Money.from_fen(
        inst.principal_paid.fen + sign * applied.get("principal", 0)
    )


def is_settled(inst: Installment) -> bool:
    """Nothing owed on ``inst`` any more."""
    return all(v == 0 for v in due_components(inst).values())


def refresh_installment_status(inst: Installment, on_date: dt.date) -> None:
    """Status of ``inst`` after money moved on ``on_date`` (not saved): settled → 已还清;
    reopened by a reversal → 未到期 before its due date, else 已到期."""
    if is_settled(inst):
        fsm.transition(inst, Installment.Status.PAID, save=False, allow_same=True)
        inst.paid_on = inst.paid_on or on_date
        return
    inst.paid_on = None
    if inst.due_date > on_date:
        fsm.transition(inst, Installment.Status.SCHEDULED, save=False, allow_same=True)
    elif inst.status == Installment.Status.PAID:
        fsm.transition(inst, Installment.Status.DUE, save=False)


def loan_status_after(loan: Loan) -> str:
    """The loan's status once its installments and principal are up to date: 已结清 when
    nothing is owed, 逾期 with an overdue installment, else 正常."""
    if (
        loan.outstanding_principal.fen == 0
        and not loan.installments.exclude(status=Installment.Status.PAID).exists()
    ):
        return Loan.Status.PAID_OFF
    if loan.installments.filter(status=Installment.Status.OVERDUE).exists():
        return Loan.Status.OVERDUE
    return Loan.Status.ACTIVE


def penalty_for_day(loan: Loan, overdue_principal: int) -> int:
    """One day of 罚息 on overdue principal: rate × multiplier / days-in-year, half-up (the
    replay engine's :func:`~credo.lending.replay.engine.daily_penalty`, the one copy)."""
    terms = LoanTerms(
        principal=0,
        annual_rate=loan.annual_rate,
        start_date=dt.date.min,
        penalty_multiplier=loan.penalty_multiplier,
        penalty_days_in_year=loan.penalty_days_in_year,
    )
    return daily_penalty(terms, overdue_principal)
