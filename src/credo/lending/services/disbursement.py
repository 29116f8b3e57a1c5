"""放款 (disbursement): maker-checker, the value-date window, the schedule and the ledger.

No 砍头息 (民法典 第六百七十条: 借款的利息不得预先在本金中扣除; courts treat a fee deducted
from the amount paid out the same way): the full principal is paid out (Cr 银行存款 = principal)
and interest runs on it. The upfront fee (一次性手续费, ``Loan.upfront_fee``) is a separate
receivable of the borrower, collected as the product version says (``upfront_fee_timing``):

* ``disbursement`` (放款时收取): two 前置手续费 entries the same day — Dr 应收手续费 /
  Cr 手续费收入 (the receivable) and Dr 银行存款 / Cr 应收手续费 (the borrower pays it);
* ``first_installment`` (随首期还款收取): installment 1 carries it in its 应还费用 (on top of
  the 每期服务费); the repayment allocation settles it and the repayment entry credits
  手续费收入 when it is paid — like every installment fee and 收费 in this cash-basis ledger,
  so the replay, prepayment, 减免 and 核销 treat it with no special case;
* ``deducted``: loans disbursed before migration 0022 (their entries stay as posted: Cr 银行存款
  principal − fee, Cr 手续费收入 fee); never used for a new disbursement.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import clock, fsm
from credo.core.audit.services import audit_record
from credo.core.holidays import load_calendar
from credo.core.holidays.calendar import RULE_NEXT_WORKING_DAY, adjust_due_dates
from credo.customers.events import record_event
from credo.lending import ledger
from credo.lending.errors import (
    InvalidLoan,
    InvalidState,
    InvalidValueDate,
    LendingError,
    MakerChecker,
)
from credo.lending.models import Installment, JournalEntry, Loan
from credo.lending.schedule import ScheduleError, generate
from credo.lending.selectors import ValueDateFloor, loan_origin, value_date_floor

# A value date further back than CREDO_DISBURSE_BACKDATE_DAYS.
BACKDATE_PERM = "lending.backdate_disbursement"

# how the upfront fee is collected (ProductVersion / Loan ``upfront_fee_timing``)
FEE_AT_DISBURSEMENT = "disbursement"
FEE_WITH_FIRST_INSTALLMENT = "first_installment"
FEE_DEDUCTED = "deducted"  # historical loans only (before migration 0022)
FEE_TIMING_LABELS = {
    FEE_AT_DISBURSEMENT: "放款时收取",
    FEE_WITH_FIRST_INSTALLMENT: "随首期还款收取",
    FEE_DEDUCTED: "从放款金额中扣除（历史放款）",
}


def first_installment_fee(loan: Loan) -> int:
    """The upfront fee installment 1 carries (随首期还款收取), else 0 (fen)."""
    if loan.upfront_fee_timing == FEE_WITH_FIRST_INSTALLMENT:
        return loan.upfront_fee.fen
    return 0


def fee_collected_at_disbursement(loan: Loan) -> int:
    """The upfront fee the ledger holds from the disbursement day: paid then, or deducted from
    the amount paid out for a historical loan; 0 when installment 1 carries it (fen)."""
    return loan.upfront_fee.fen - first_installment_fee(loan)


def check_upfront_fee(loan: Loan) -> None:
    """Refuse an upfront fee a disbursement cannot carry (Chinese message)."""
    fee, principal = loan.upfront_fee.fen, loan.principal.fen
    if loan.upfront_fee_timing not in (FEE_AT_DISBURSEMENT, FEE_WITH_FIRST_INSTALLMENT):
        raise InvalidLoan(
            _("一次性手续费的收取方式只能是“放款时收取”或“随首期还款收取”，不得从放款金额中扣除。")
        )
    if fee < 0:
        raise InvalidLoan(_("一次性手续费不能为负数。"))
    if fee >= principal:
        raise InvalidLoan(_("一次性手续费不能达到或超过贷款本金。"))


def backdate_days() -> int:
    return max(0, int(getattr(settings, "CREDO_DISBURSE_BACKDATE_DAYS", 0)))


class ValueDateWindow(NamedTuple):
    earliest: dt.date  # the floor, or today − CREDO_DISBURSE_BACKDATE_DAYS without permission
    latest: dt.date  # today
    floor: ValueDateFloor  # approval / signature / creation date: never earlier, any permission
    may_backdate: bool  # the actor holds lending.backdate_disbursement


def value_date_window(loan: Loan, actor: Any) -> ValueDateWindow:
    today = clock.today()
    floor = value_date_floor(loan)
    may_backdate = bool(actor is not None and actor.has_perm(BACKDATE_PERM))
    earliest = floor.date
    if not may_backdate:
        earliest = max(earliest, today - dt.timedelta(days=backdate_days()))
    return ValueDateWindow(earliest, today, floor, may_backdate)


def check_value_date(loan: Loan, actor: Any, value_date: dt.date) -> None:
    """The value date (起息日) of a disbursement: not in the future, not before the approval /
    contract signature (a direct loan: its creation), and at most CREDO_DISBURSE_BACKDATE_DAYS
    before today unless the actor holds ``lending.backdate_disbursement``. Back-dating moves
    the first due dates, the interest and the DPD, so it is limited and explicit."""
    window = value_date_window(loan, actor)
    today, floor = window.latest, window.floor
    if value_date > today:
        raise InvalidValueDate(_("放款日不能晚于今天（%(d)s）。") % {"d": today.isoformat()})
    if value_date < floor.date:
        raise InvalidValueDate(
            _("放款日不能早于%(what)s（%(d)s）。")
            % {"what": floor.label, "d": floor.date.isoformat()}
        )
    if value_date < window.earliest:
        days = backdate_days()
        if days == 0:
            raise InvalidValueDate(
                _("放款日不能早于今天（%(d)s）；倒签放款须具有“放款日倒签”权限。")
                % {"d": today.isoformat()}
            )
        raise InvalidValueDate(
            _("放款日最多可倒签 %(n)s 天（不早于 %(d)s）；更早须具有“放款日倒签”权限。")
            % {"n": days, "d": window.earliest.isoformat()}
        )


def holiday_due_dates(loan: Loan, dates: list[dt.date]) -> list[dt.date]:
    """The installments' due dates under the loan's holiday rule: 顺延至下一工作日 moves a due
    date on a holiday or weekend to the next working day (amounts unchanged); the other rules
    keep the contractual dates (节假日顺延 is applied by the penalty calculation)."""
    if loan.holiday_rule != RULE_NEXT_WORKING_DAY:
        return list(dates)
    return adjust_due_dates(dates, loan.holiday_rule, load_calendar())


def loan_disburse(*, loan: Loan, actor: Any, value_date: dt.date) -> Loan:
    """放款: confirmed by a finance user who did not create the loan (maker-checker), with a
    value date inside the allowed window. A refusal changes nothing and is audited."""
    try:
        return _disburse(loan=loan, actor=actor, value_date=value_date)
    except LendingError as exc:
        with transaction.atomic():
            audit_record(
                action="loan.disburse_refused",
                actor=actor,
                obj=loan,
                metadata={
                    "code": exc.code,
                    "reason": exc.message,
                    "value_date": value_date.isoformat(),
                },
            )
        raise


@transaction.atomic
def _disburse(*, loan: Loan, actor: Any, value_date: dt.date) -> Loan:
    locked = Loan.objects.select_for_update().get(pk=loan.pk)
    if locked.status != Loan.Status.PENDING:
        raise InvalidState(_("只有待放款的贷款可以放款。"))
    if actor.pk == locked.created_by_id:
        raise MakerChecker(_("放款须由经办人以外的财务人员确认（双人复核）。"))
    if not actor.has_perm("lending.disburse_loan"):
        raise MakerChecker(_("没有确认放款的权限。"))
    check_value_date(locked, actor, value_date)
    check_upfront_fee(locked)
    try:
        schedule = generate(
            principal=locked.principal.fen,
            annual_rate=locked.annual_rate,
            months=locked.months,
            method=locked.method,
            start=value_date,
            repayment_day=locked.repayment_day,
        )
    except ScheduleError as exc:
        raise InvalidLoan(str(exc)) from exc
    fee = locked.installment_fee.fen
    with_first = first_installment_fee(locked)
    due_dates = holiday_due_dates(locked, [i.due_date for i in schedule.installments])
    Installment.objects.bulk_create(
        [
            Installment(
                loan=locked,
                period=i.period,
                due_date=due,
                principal_due=i.principal,
                interest_due=i.interest,
                fee_due=fee + (with_first if i.period == 1 else 0),
            )
            for i, due in zip(schedule.installments, due_dates, strict=True)
        ]
    )
    upfront = locked.upfront_fee.fen
    # the full principal is paid out: nothing is deducted from it (民法典 第六百七十条)
    ledger.post_entry(
        loan=locked,
        kind=JournalEntry.Kind.DISBURSEMENT,
        business_date=value_date,
        actor=actor,
        memo=f"放款 {locked.number}",
        lines=[
            ("loan_principal", locked.principal.fen, 0),
            ("cash", 0, locked.principal.fen),
        ],
    )
    at_disbursement = fee_collected_at_disbursement(locked)
    if at_disbursement:
        _post_upfront_fee(locked, at_disbursement, value_date, actor)
    locked.start_date = value_date
    locked.maturity_date = due_dates[-1]
    locked.outstanding_principal = locked.principal
    locked.disbursed_by, locked.disbursed_at = actor, timezone.now()
    locked.version += 1
    fsm.transition(locked, Loan.Status.ACTIVE, save=False)
    locked.save()
    from credo.lending.payoff_hooks import notify_disbursed

    notify_disbursed(locked.pk)
    audit_record(
        action="loan.disburse",
        actor=actor,
        obj=locked,
        changes={"status": ["pending", "active"]},
        metadata={
            "value_date": value_date.isoformat(),
            "upfront_fee": upfront,
            "upfront_fee_timing": locked.upfront_fee_timing,
            "paid_out": locked.principal.fen,
            "origin": "application" if loan_origin(locked) is not None else "direct",
            "backdated_days": (clock.today() - value_date).days,
        },
    )
    record_event(
        customer=locked.customer,
        kind="disbursement",
        actor=actor,
        obj=locked,
        source="lending",
        title=_("贷款 %(n)s 放款 %(amt)s 元")
        % {"n": locked.number, "amt": locked.principal.format(symbol=False)}
        + (
            _("（一次性手续费 %(f)s 元，%(how)s）")
            % {
                "f": locked.upfront_fee.format(symbol=False),
                "how": FEE_TIMING_LABELS[locked.upfront_fee_timing],
            }
            if upfront
            else ""
        ),
    )
    return locked


def _post_upfront_fee(loan: Loan, fee: int, value_date: dt.date, actor: Any) -> None:
    """放款时收取: the fee is a receivable of its own (Dr 应收手续费 / Cr 手续费收入) that the
    borrower pays the same day (Dr 银行存款 / Cr 应收手续费) — two 前置手续费 entries, never a
    deduction from the principal paid out."""
    ledger.post_entry(
        loan=loan,
        kind=JournalEntry.Kind.UPFRONT_FEE,
        business_date=value_date,
        actor=actor,
        memo=f"应收一次性手续费 {loan.number}",
        lines=[("fee_receivable", fee, 0), ("fee_income", 0, fee)],
    )
    ledger.post_entry(
        loan=loan,
        kind=JournalEntry.Kind.UPFRONT_FEE,
        business_date=value_date,
        actor=actor,
        memo=f"收取一次性手续费 {loan.number}",
        lines=[("cash", fee, 0), ("fee_receivable", 0, fee)],
    )
