"""放款 (disbursement): maker-checker, the value-date window, the schedule and the ledger."""

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
    due_dates = holiday_due_dates(locked, [i.due_date for i in schedule.installments])
    Installment.objects.bulk_create(
        [
            Installment(
                loan=locked,
                period=i.period,
                due_date=due,
                principal_due=i.principal,
                interest_due=i.interest,
                fee_due=fee,
            )
            for i, due in zip(schedule.installments, due_dates, strict=True)
        ]
    )
    upfront = locked.upfront_fee.fen
    ledger.post_entry(
        loan=locked,
        kind=JournalEntry.Kind.DISBURSEMENT,
        business_date=value_date,
        actor=actor,
        memo=f"放款 {locked.number}",
        lines=[
            ("loan_principal", locked.principal.fen, 0),
            ("cash", 0, locked.principal.fen - upfront),
            ("fee_income", 0, upfront),
        ],
    )
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
        % {"n": locked.number, "amt": locked.principal.format(symbol=False)},
    )
    return locked
