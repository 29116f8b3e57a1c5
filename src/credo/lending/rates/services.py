"""Writes of the LPR table and of floating loans' rates (rules: :mod:`credo.lending.rates`)."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from credo.core.audit.services import audit_record
from credo.customers.events import record_event
from credo.lending.errors import InvalidLoan, InvalidState, LendingError, NotPermitted
from credo.lending.models import Installment, Loan
from credo.lending.rates.models import LoanRateChange, LprRate
from credo.lending.rates.repricing import floating_rate, is_repricing_date
from credo.lending.schedule import ScheduleError, carried_fee, repricing_rebuild
from credo.lending.states import LOAN_OPEN_STATES

log = logging.getLogger(__name__)

MANAGE_PERMS = ("lending.manage_rates", "lending.manage_products")


def can_manage(actor: Any) -> bool:
    return actor is not None and any(actor.has_perm(p) for p in MANAGE_PERMS)


def lpr_in_force(on_date: dt.date) -> LprRate:
    """The LPR fixing in force on ``on_date`` (latest effective date on or before it)."""
    row = LprRate.objects.filter(effective_date__lte=on_date).order_by("-effective_date").first()
    if row is None:
        raise InvalidLoan(
            _("%(d)s 没有生效的贷款市场报价利率（LPR），请先在“贷款市场报价利率”中录入。")
            % {"d": on_date.isoformat()}
        )
    return row


def _percent(value: Any, label: str) -> Decimal:
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        raise InvalidLoan(_("%(f)s格式不正确。") % {"f": label}) from None
    if not rate.is_finite() or not Decimal("0") < rate < Decimal("100"):
        raise InvalidLoan(_("%(f)s应在 0–100%% 之间。") % {"f": label})
    return rate.quantize(Decimal("0.0001"))


@transaction.atomic
def lpr_save(
    *,
    actor: Any,
    effective_date: dt.date,
    one_year: Any,
    five_year: Any,
    source: str = "",
    instance: LprRate | None = None,
) -> LprRate:
    """Add or correct one LPR fixing (audited). Loans already repriced keep their recorded
    rate; a correction applies from the next repricing date."""
    if not can_manage(actor):
        raise NotPermitted(_("没有管理贷款市场报价利率的权限。"))
    one, five = _percent(one_year, _("1 年期 LPR")), _percent(five_year, _("5 年期以上 LPR"))
    clash = LprRate.objects.filter(effective_date=effective_date)
    if instance is not None:
        clash = clash.exclude(pk=instance.pk)
    if clash.exists():
        raise InvalidState(_("该生效日的 LPR 已存在，请编辑原记录。"))
    if instance is None:
        row = LprRate.objects.create(
            effective_date=effective_date,
            one_year=one,
            five_year=five,
            source=source,
            created_by=actor,
        )
        audit_record(
            action="lpr.create",
            actor=actor,
            obj=row,
            changes={
                "effective_date": [None, effective_date.isoformat()],
                "one_year": [None, str(one)],
                "five_year": [None, str(five)],
            },
        )
        return row
    row = LprRate.objects.select_for_update().get(pk=instance.pk)
    before = {
        "effective_date": row.effective_date.isoformat(),
        "one_year": str(row.one_year),
        "five_year": str(row.five_year),
        "source": row.source,
    }
    row.effective_date, row.one_year, row.five_year, row.source = (
        effective_date,
        one,
        five,
        source,
    )
    row.save()
    after = {
        "effective_date": effective_date.isoformat(),
        "one_year": str(one),
        "five_year": str(five),
        "source": source,
    }
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    audit_record(action="lpr.update", actor=actor, obj=row, changes=changes)
    return row


def initial_rate(*, tenor: str, spread_bp: int, on_date: dt.date) -> tuple[Decimal, LprRate]:
    """A floating loan's rate at creation: the LPR in force on ``on_date`` + spread."""
    lpr = lpr_in_force(on_date)
    return floating_rate(lpr.rate_for(tenor), spread_bp), lpr


def record_initial(*, loan: Loan, lpr: LprRate, on_date: dt.date) -> LoanRateChange:
    """The LoanRateChange row of a floating loan's first rate (called at loan creation)."""
    return LoanRateChange.objects.create(
        loan=loan,
        kind=LoanRateChange.Kind.INITIAL,
        effective_date=on_date,
        old_rate=None,
        new_rate=loan.annual_rate,
        lpr=lpr,
        lpr_tenor=loan.lpr_tenor,
        lpr_value=lpr.rate_for(loan.lpr_tenor),
        spread_bp=loan.spread_bp,
    )


@transaction.atomic
def loan_reprice(*, loan: Loan, business_date: dt.date, actor: Any = None) -> LoanRateChange | None:
    """Reprice a floating loan on ``business_date`` (its repricing date): the LPR in force +
    spread; the installments after the current period rebuilt at the new rate. Idempotent per
    date; returns None when nothing changed (not a repricing date, same rate, nothing left)."""
    locked = Loan.objects.select_for_update().get(pk=loan.pk)
    if (
        locked.rate_type != "lpr"
        or locked.status not in LOAN_OPEN_STATES
        or locked.start_date is None
        or not is_repricing_date(locked.repricing, locked.start_date, business_date)
    ):
        return None
    if LoanRateChange.objects.filter(
        loan=locked, kind=LoanRateChange.Kind.REPRICING, effective_date=business_date
    ).exists():
        return None
    lpr = lpr_in_force(business_date)
    lpr_value = lpr.rate_for(locked.lpr_tenor)
    new_rate = floating_rate(lpr_value, locked.spread_bp)
    old_rate = Decimal(locked.annual_rate)
    if new_rate == old_rate:
        return None
    rows = list(locked.installments.select_for_update().order_by("period"))
    from credo.lending.prepay.quote import row_view  # the shared view of an installment

    try:
        plan = repricing_rebuild(
            [row_view(i) for i in rows],
            business_date=business_date,
            new_rate=new_rate,
            method=locked.method,
            repayment_day=locked.repayment_day or locked.start_date.day,
        )
    except ScheduleError as exc:
        raise InvalidLoan(str(exc)) from exc
    from_period = plan[0] + 1 if plan else None
    if plan is not None:
        current_period, schedule = plan
        later = [i for i in rows if i.period > current_period]
        Installment.objects.filter(pk__in=[i.pk for i in later]).delete()
        fee = locked.installment_fee.fen
        carried = carried_fee([i.fee_due.fen for i in later], fee)  # ad hoc charges stay due
        Installment.objects.bulk_create(
            [
                Installment(
                    loan=locked,
                    period=current_period + k + 1,
                    due_date=i.due_date,
                    principal_due=i.principal,
                    interest_due=i.interest,
                    fee_due=fee + (carried if k == 0 else 0),
                )
                for k, i in enumerate(schedule.installments)
            ]
        )
        locked.maturity_date = schedule.installments[-1].due_date
        if carried:
            from credo.lending.charges.services import charges_carried

            charges_carried(locked, [i.period for i in later], current_period + 1)
    locked.annual_rate = new_rate
    locked.version += 1
    locked.save(update_fields=["annual_rate", "maturity_date", "version"])
    change = LoanRateChange.objects.create(
        loan=locked,
        kind=LoanRateChange.Kind.REPRICING,
        effective_date=business_date,
        old_rate=old_rate,
        new_rate=new_rate,
        lpr=lpr,
        lpr_tenor=locked.lpr_tenor,
        lpr_value=lpr_value,
        spread_bp=locked.spread_bp,
        from_period=from_period,
    )
    info = {
        "business_date": business_date.isoformat(),
        "lpr_date": lpr.effective_date.isoformat(),
        "lpr": str(lpr_value),
        "spread_bp": locked.spread_bp,
        "from_period": from_period,
    }
    audit_record(
        action="loan.reprice",
        actor=actor,
        obj=locked,
        changes={"annual_rate": [str(old_rate), str(new_rate)]},
        metadata=info,
    )
    record_event(
        customer=locked.customer,
        kind="other",
        actor=actor,
        obj=locked,
        source="lending",
        title=_("贷款 %(n)s 利率重定价：%(old)s%% → %(new)s%%（LPR %(lpr)s%% %(sp)s 基点）")
        % {
            "n": locked.number,
            "old": old_rate.normalize(),
            "new": new_rate.normalize(),
            "lpr": lpr_value.normalize(),
            "sp": f"{locked.spread_bp:+d}",
        },
        detail={"old_rate": str(old_rate), "new_rate": str(new_rate), **info},
    )
    return change


def due_for_repricing(business_date: dt.date) -> list[int]:
    """Ids of open floating loans whose repricing date is ``business_date``."""
    from django.db.models import Q

    qs = Loan.objects.filter(
        rate_type="lpr", status__in=LOAN_OPEN_STATES, start_date__lt=business_date
    )
    month_end = (business_date + dt.timedelta(days=1)).day == 1
    same_day = Q(start_date__day=business_date.day)
    if month_end:
        same_day |= Q(start_date__day__gt=business_date.day)
    wanted = Q(repricing="monthly") & same_day
    wanted |= Q(repricing="anniversary", start_date__month=business_date.month) & same_day
    if business_date.month == 1 and business_date.day == 1:
        wanted |= Q(repricing="annual_jan1")
    candidates = qs.filter(wanted).values_list("pk", "repricing", "start_date")
    return [
        pk
        for pk, repricing, start in candidates
        if start is not None and is_repricing_date(repricing, start, business_date)
    ]


def reprice_due_loans(business_date: dt.date, *, actor: Any = None) -> dict[str, int]:
    """Reprice every floating loan whose repricing date is ``business_date`` (idempotent)."""
    counts = {"repriced": 0, "unchanged": 0, "failed": 0}
    for pk in due_for_repricing(business_date):
        loan = Loan.objects.get(pk=pk)
        try:
            change = loan_reprice(loan=loan, business_date=business_date, actor=actor)
        except LendingError as exc:
            log.warning("LPR repricing of loan %s on %s failed: %s", pk, business_date, exc)
            counts["failed"] += 1
            continue
        counts["repriced" if change is not None else "unchanged"] += 1
    return counts
