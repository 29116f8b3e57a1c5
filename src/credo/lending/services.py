"""Every write to loans: keyword-only, one transaction, row-locked, audited, on the timeline."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.money import Money
from credo.customers.events import record_event
from credo.customers.models import Customer
from credo.lending import ledger
from credo.lending.errors import (
    IdempotencyConflict,
    InvalidLoan,
    InvalidState,
    InvalidValueDate,
    LendingError,
    MakerChecker,
    NotPermitted,
)
from credo.lending.models import (
    DEFAULT_ALLOCATION,
    Installment,
    JournalEntry,
    Loan,
    Posting,
    ProductVersion,
)
from credo.lending.schedule import ScheduleError, generate
from credo.lending.selectors import ValueDateFloor, loan_origin, value_date_floor

COMPONENTS = ("penalty", "fee", "interest", "principal")
OPEN_STATES = (Loan.Status.ACTIVE, Loan.Status.OVERDUE, Loan.Status.RESTRUCTURED)
# 新建贷款 outside origination (no application, approval or contract): admin only by default.
DIRECT_CREATE_PERM = "lending.create_loan_directly"
# A value date further back than CREDO_DISBURSE_BACKDATE_DAYS.
BACKDATE_PERM = "lending.backdate_disbursement"


def _next_number() -> str:
    today = clock.today()
    prefix = f"L{today:%Y%m%d}"
    last = Loan.objects.filter(number__startswith=prefix).order_by("-number").first()
    seq = int(last.number[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


def loan_create(
    *,
    customer: Customer,
    product_version: ProductVersion,
    principal: Money,
    annual_rate: Any,
    months: int,
    actor: Any,
    repayment_day: int | None = None,
) -> Loan:
    """A loan pending disbursement for an approved application whose contract was signed
    (origination calls this), with the terms of ``product_version`` copied onto it. Staff
    creating a loan by hand go through :func:`loan_create_direct`."""
    return _loan_create(
        customer=customer,
        product_version=product_version,
        principal=principal,
        annual_rate=annual_rate,
        months=months,
        actor=actor,
        repayment_day=repayment_day,
        direct=False,
    )


def require_direct_create(actor: Any, *, customer: Customer | None = None) -> None:
    """Refuse (audited, in its own transaction so the record survives) an actor without
    ``lending.create_loan_directly``; the 新建贷款 page calls this before showing the form."""
    if actor is not None and actor.has_perm(DIRECT_CREATE_PERM):
        return
    with transaction.atomic():
        audit_record(
            action="loan.create_direct_denied",
            actor=actor,
            obj=customer,
            metadata={"permission": DIRECT_CREATE_PERM},
        )
    raise NotPermitted(_("没有直接新建贷款（不经申请审批）的权限。"))


def loan_create_direct(
    *,
    customer: Customer,
    product_version: ProductVersion,
    principal: Money,
    annual_rate: Any,
    months: int,
    actor: Any,
    repayment_day: int | None = None,
) -> Loan:
    """新建贷款 without an application, approval or contract. It skips origination, so it needs
    its own permission (``lending.create_loan_directly``); a refusal is audited and changes
    nothing, and the loan is recorded as created directly (the disbursement page says so)."""
    require_direct_create(actor, customer=customer)
    return _loan_create(
        customer=customer,
        product_version=product_version,
        principal=principal,
        annual_rate=annual_rate,
        months=months,
        actor=actor,
        repayment_day=repayment_day,
        direct=True,
    )


@transaction.atomic
def _loan_create(
    *,
    customer: Customer,
    product_version: ProductVersion,
    principal: Money,
    annual_rate: Any,
    months: int,
    actor: Any,
    repayment_day: int | None,
    direct: bool,
) -> Loan:
    pv = product_version
    from credo.lending.product_services import check_terms

    principal, months, rate = check_terms(pv, amount=principal, months=months, rate=annual_rate)
    from credo.lending.limits import check_drawdown

    check_drawdown(customer, principal.fen)
    fee = Money(principal.yuan * pv.upfront_fee_rate / 100)
    # django-stubs types MoneyField as an int field; Money is what it stores.
    loan = Loan.objects.create(  # type: ignore[misc]
        number=_next_number(),
        customer=customer,
        product_version=pv,
        principal=principal,
        annual_rate=rate,
        months=months,
        method=pv.method,
        repayment_day=repayment_day or pv.repayment_day,
        upfront_fee=fee,
        installment_fee=pv.installment_fee,
        penalty_multiplier=pv.penalty_multiplier,
        grace_days=pv.grace_days,
        penalty_days_in_year=pv.penalty_days_in_year,
        allocation_order=list(pv.allocation_order or DEFAULT_ALLOCATION),
        owner=customer.owner,
        team=customer.team,
        branch=customer.branch,
        created_by=actor,
    )
    audit_record(
        action="loan.create_direct" if direct else "loan.create",
        actor=actor,
        obj=loan,
        changes={
            "principal": [None, str(principal)],
            "annual_rate": [None, str(rate)],
            "months": [None, months],
            "product": [None, str(pv)],
        },
        metadata={"origin": "direct"} if direct else None,
    )
    title = (
        _("直接新建贷款 %(n)s（未经申请审批）：%(amt)s 元，%(m)s 个月")
        if direct
        else _("创建贷款 %(n)s：%(amt)s 元，%(m)s 个月")
    )
    record_event(
        customer=customer,
        kind="application",
        actor=actor,
        obj=loan,
        source="lending",
        title=title % {"n": loan.number, "amt": principal.format(symbol=False), "m": months},
        detail={"origin": "direct"} if direct else None,
    )
    return loan


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
    Installment.objects.bulk_create(
        [
            Installment(
                loan=locked,
                period=i.period,
                due_date=i.due_date,
                principal_due=i.principal,
                interest_due=i.interest,
                fee_due=fee,
            )
            for i in schedule.installments
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
    locked.status = Loan.Status.ACTIVE
    locked.start_date = value_date
    locked.maturity_date = schedule.due_dates[-1]
    locked.outstanding_principal = locked.principal
    locked.disbursed_by, locked.disbursed_at = actor, timezone.now()
    locked.version += 1
    locked.save()
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


def _due_components(inst: Installment) -> dict[str, int]:
    return {
        "penalty": inst.penalty_due.fen - inst.penalty_paid.fen,
        "fee": inst.fee_due.fen - inst.fee_paid.fen,
        "interest": inst.interest_due.fen - inst.interest_paid.fen,
        "principal": inst.principal_due.fen - inst.principal_paid.fen,
    }


def allocation_preview(
    loan: Loan, amount: int, on_date: dt.date, installments: list[Installment] | None = None
) -> dict[str, Any]:
    """How ``amount`` fen would be applied: oldest due installment first, components in the
    loan's order (default penalty → fee → interest → principal); the rest is held as credit."""
    order = [c for c in (loan.allocation_order or DEFAULT_ALLOCATION) if c in COMPONENTS]
    order += [c for c in COMPONENTS if c not in order]
    rows = (
        installments
        if installments is not None
        else list(
            loan.installments.filter(due_date__lte=on_date)
            .exclude(status="paid")
            .order_by("period")
        )
    )
    remaining = amount
    parts: list[dict[str, Any]] = []
    totals = dict.fromkeys(COMPONENTS, 0)
    for inst in rows:
        if remaining <= 0:
            break
        owed = _due_components(inst)
        applied = {}
        for comp in order:
            take = min(owed[comp], remaining)
            if take > 0:
                applied[comp] = take
                totals[comp] += take
                remaining -= take
        if applied:
            parts.append({"installment": inst.pk, "period": inst.period, **applied})
    return {"installments": parts, "totals": totals, "credit": remaining}


def _apply(inst: Installment, applied: dict[str, int], sign: int) -> None:
    inst.penalty_paid = Money.from_fen(inst.penalty_paid.fen + sign * applied.get("penalty", 0))
    inst.fee_paid = Money.from_fen(inst.fee_paid.fen + sign * applied.get("fee", 0))
    inst.interest_paid = Money.from_fen(inst.interest_paid.fen + sign * applied.get("interest", 0))
    inst.principal_paid = Money.from_fen(
        inst.principal_paid.fen + sign * applied.get("principal", 0)
    )


def _refresh_status(inst: Installment, on_date: dt.date) -> None:
    if all(v == 0 for v in _due_components(inst).values()):
        inst.status, inst.paid_on = Installment.Status.PAID, inst.paid_on or on_date
    else:
        inst.paid_on = None
        if inst.due_date > on_date:
            inst.status = Installment.Status.SCHEDULED
        elif inst.status == Installment.Status.PAID:
            inst.status = Installment.Status.DUE


def _loan_status_after(loan: Loan) -> str:
    if (
        loan.outstanding_principal.fen == 0
        and not loan.installments.exclude(status=Installment.Status.PAID).exists()
    ):
        return Loan.Status.PAID_OFF
    if loan.installments.filter(status=Installment.Status.OVERDUE).exists():
        return Loan.Status.OVERDUE
    return Loan.Status.ACTIVE if loan.status != Loan.Status.RESTRUCTURED else loan.status


def repayment_post(
    *,
    loan: Loan,
    amount: Money,
    received_on: dt.date,
    actor: Any,
    channel: str = Posting.Channel.MANUAL,
    reference: str = "",
    idempotency_key: str | None = None,
) -> Posting:
    """Post a repayment. The same ``idempotency_key`` returns the first posting (nothing is
    posted twice); the same key with a different loan or amount is a conflict."""
    if idempotency_key:
        existing = Posting.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _same_or_conflict(existing, loan, amount)
    try:
        with transaction.atomic():
            return _post(
                loan=loan,
                amount=amount,
                received_on=received_on,
                actor=actor,
                channel=channel,
                reference=reference,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        if not idempotency_key:
            raise
        existing = Posting.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _same_or_conflict(existing, loan, amount)


def _same_or_conflict(existing: Posting, loan: Loan, amount: Money) -> Posting:
    if existing.loan_id != loan.pk or existing.amount != amount:
        raise IdempotencyConflict(_("该幂等键已用于另一笔还款。"))
    return existing


def _post(
    *,
    loan: Loan,
    amount: Money,
    received_on: dt.date,
    actor: Any,
    channel: str,
    reference: str,
    idempotency_key: str | None,
) -> Posting:
    if not isinstance(amount, Money) or amount.fen <= 0:
        raise InvalidLoan(_("还款金额必须大于 0。"))
    locked = Loan.objects.select_for_update().get(pk=loan.pk)
    if locked.status not in OPEN_STATES:
        raise InvalidState(
            _("贷款 %(n)s 状态为“%(s)s”，不能登记还款。")
            % {"n": locked.number, "s": locked.get_status_display()}
        )
    if locked.start_date and received_on < locked.start_date:
        raise InvalidLoan(_("到账日期不能早于放款日。"))
    if received_on > clock.today():
        raise InvalidLoan(_("到账日期不能晚于今天。"))
    rows = list(
        locked.installments.select_for_update()
        .filter(due_date__lte=received_on)
        .exclude(status="paid")
        .order_by("period")
    )
    plan = allocation_preview(locked, amount.fen, received_on, rows)
    by_id = {i.pk: i for i in rows}
    for part in plan["installments"]:
        inst = by_id[part["installment"]]
        _apply(inst, part, +1)
        _refresh_status(inst, received_on)
        inst.save()
    t = plan["totals"]
    entry = ledger.post_entry(
        loan=locked,
        kind=JournalEntry.Kind.REPAYMENT,
        business_date=received_on,
        actor=actor,
        memo=f"还款 {locked.number} {reference}".strip(),
        lines=[
            ("cash", amount.fen, 0),
            ("loan_principal", 0, t["principal"]),
            ("interest_income", 0, t["interest"]),
            ("penalty_income", 0, t["penalty"]),
            ("fee_income", 0, t["fee"]),
            ("customer_credit", 0, plan["credit"]),
        ],
    )
    locked.outstanding_principal = Money.from_fen(locked.outstanding_principal.fen - t["principal"])
    locked.credit_balance = Money.from_fen(locked.credit_balance.fen + plan["credit"])
    before = locked.status
    locked.status = _loan_status_after(locked)
    locked.version += 1
    locked.save()
    posting = Posting.objects.create(  # type: ignore[misc]
        loan=locked,
        amount=amount,
        received_on=received_on,
        channel=channel,
        reference=reference[:80],
        idempotency_key=idempotency_key or None,
        allocation=plan,
        entry=entry,
        actor=actor,
    )
    audit_record(
        action="loan.repayment",
        actor=actor,
        obj=locked,
        changes={"status": [before, locked.status]} if before != locked.status else {},
        metadata={
            "posting": posting.pk,
            "amount": amount.fen,
            "totals": t,
            "credit": plan["credit"],
        },
    )
    record_event(
        customer=locked.customer,
        kind="repayment",
        actor=actor,
        obj=posting,
        source="lending",
        title=_("贷款 %(n)s 还款 %(amt)s 元")
        % {"n": locked.number, "amt": amount.format(symbol=False)},
        detail={"totals": t, "credit": plan["credit"]},
    )
    return posting


@transaction.atomic
def posting_reverse(*, posting: Posting, actor: Any, reason: str) -> JournalEntry:
    """冲正: a reversing journal entry and the allocation undone; the posting is kept."""
    if not (reason or "").strip():
        raise InvalidLoan(_("请填写冲正原因。"))
    locked = Loan.objects.select_for_update().get(pk=posting.loan_id)
    posting = Posting.objects.select_for_update().get(pk=posting.pk)
    if posting.reversed_at is not None:
        raise InvalidState(_("该笔还款已冲正。"))
    if locked.status == Loan.Status.WRITTEN_OFF:
        raise InvalidState(_("贷款已核销，不能冲正其还款。"))
    if "prepayment" in posting.allocation:
        # The schedule was rebuilt by the prepayment; undoing the money alone would leave the
        # new schedule in place. Such a reversal needs a restructuring, not a 冲正.
        raise InvalidState(_("提前还款已重排还款计划，不能直接冲正。"))
    credit = int(posting.allocation.get("credit", 0))
    if credit > locked.credit_balance.fen:
        raise InvalidState(_("溢缴款已被使用，不能直接冲正这笔还款。"))
    for part in posting.allocation.get("installments", []):
        inst = Installment.objects.select_for_update().get(pk=part["installment"])
        _apply(inst, part, -1)
        _refresh_status(inst, clock.today())
        inst.save()
    original = posting.entry
    entry = ledger.post_entry(
        loan=locked,
        kind=JournalEntry.Kind.REVERSAL,
        business_date=clock.today(),
        actor=actor,
        memo=f"冲正 {locked.number}：{reason}"[:200],
        reverses=original,
        lines=[
            (line.account.code, line.credit.fen, line.debit.fen)
            for line in original.lines.select_related("account")
        ],
    )
    principal = int(posting.allocation.get("totals", {}).get("principal", 0))
    locked.outstanding_principal = Money.from_fen(locked.outstanding_principal.fen + principal)
    locked.credit_balance = Money.from_fen(locked.credit_balance.fen - credit)
    if locked.status == Loan.Status.PAID_OFF:
        locked.status = Loan.Status.ACTIVE
    locked.status = _loan_status_after(locked)
    locked.version += 1
    locked.save()
    posting.reversed_at = timezone.now()
    posting.save(update_fields=["reversed_at"])
    audit_record(
        action="loan.repayment_reverse",
        actor=actor,
        obj=locked,
        metadata={"posting": posting.pk, "reason": reason},
    )
    record_event(
        customer=locked.customer,
        kind="repayment",
        actor=actor,
        obj=posting,
        source="lending",
        title=_("冲正还款 %(amt)s 元：%(r)s")
        % {"amt": posting.amount.format(symbol=False), "r": reason},
    )
    return entry


WRITE_OFF_CLASSES = (Loan.Classification.DOUBTFUL, Loan.Classification.LOSS)


@transaction.atomic
def loan_write_off(
    *, loan: Loan, actor: Any, reason: str, expected_version: int | None = None
) -> JournalEntry:
    """核销: the outstanding principal moves from the loan asset to the write-off loss account
    (Dr 贷款核销损失 / Cr 贷款本金); unpaid interest, fees and penalty are cash-basis and were
    never booked, so they are recorded off balance sheet (表外) in the audit entry and timeline.

    Only loans classified 可疑 or 损失, with no credit balance, by a user other than the loan's
    account manager, with a reason. ``expected_version`` (optimistic lock from the page) refuses a
    write-off of a loan that changed since it was shown."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidLoan(_("请填写核销原因。"))
    locked = Loan.objects.select_for_update().get(pk=loan.pk)
    if expected_version is not None and locked.version != expected_version:
        raise InvalidState(_("贷款已被他人修改，请刷新后重试。"))
    if locked.status not in OPEN_STATES:
        raise InvalidState(
            _("贷款 %(n)s 状态为“%(s)s”，不能核销。")
            % {"n": locked.number, "s": locked.get_status_display()}
        )
    if locked.classification not in WRITE_OFF_CLASSES:
        raise InvalidState(_("只有五级分类为“可疑”或“损失”的贷款可以核销。"))
    if locked.credit_balance.fen:
        raise InvalidState(_("贷款有溢缴款，请先冲抵或退还后再核销。"))
    if getattr(actor, "pk", None) in (locked.owner_id, None):
        raise MakerChecker(_("核销须由客户经理以外的人员办理。"))
    principal = locked.outstanding_principal.fen
    if principal <= 0:
        raise InvalidState(_("贷款剩余本金为 0，无需核销。"))
    unpaid = list(locked.installments.select_for_update().exclude(status=Installment.Status.PAID))
    off_balance = {
        "interest": sum(i.interest_due.fen - i.interest_paid.fen for i in unpaid),
        "fee": sum(i.fee_due.fen - i.fee_paid.fen for i in unpaid),
        "penalty": sum(i.penalty_due.fen - i.penalty_paid.fen for i in unpaid),
    }
    today = clock.today()
    entry = ledger.post_entry(
        loan=locked,
        kind=JournalEntry.Kind.WRITE_OFF,
        business_date=today,
        actor=actor,
        memo=f"核销 {locked.number}：{reason}"[:200],
        lines=[("write_off_expense", principal, 0), ("loan_principal", 0, principal)],
    )
    Installment.objects.filter(pk__in=[i.pk for i in unpaid]).update(
        status=Installment.Status.WRITTEN_OFF
    )
    before = locked.status
    locked.status = Loan.Status.WRITTEN_OFF
    locked.outstanding_principal = Money.from_fen(0)
    locked.version += 1
    locked.save()
    audit_record(
        action="loan.write_off",
        actor=actor,
        obj=locked,
        changes={"status": [before, locked.status]},
        metadata={
            "principal": principal,
            "off_balance": off_balance,
            "reason": reason,
            "entry": entry.pk,
        },
    )
    record_event(
        customer=locked.customer,
        kind="write_off",
        actor=actor,
        obj=locked,
        source="lending",
        title=_("贷款 %(n)s 核销本金 %(amt)s 元")
        % {"n": locked.number, "amt": Money.from_fen(principal).format(symbol=False)},
        detail={"off_balance": off_balance, "reason": reason},
    )
    return entry


def penalty_for_day(loan: Loan, overdue_principal: int) -> int:
    """One day of 罚息 on overdue principal: rate × multiplier / days-in-year, half-up."""
    daily = (
        Decimal(overdue_principal)
        * loan.annual_rate
        * loan.penalty_multiplier
        / (100 * loan.penalty_days_in_year)
    )
    return int(daily.quantize(Decimal(1), rounding=ROUND_HALF_UP))
