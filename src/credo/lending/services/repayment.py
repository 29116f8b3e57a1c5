"""Repayments (还款) and their reversal (冲正)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import clock, fsm
from credo.core.audit.services import audit_record
from credo.core.money import Money
from credo.customers.events import record_event
from credo.lending import ledger
from credo.lending.allocation import (
    allocation_preview,
    apply_allocation,
    loan_status_after,
    refresh_installment_status,
)
from credo.lending.books.guard import open_business_date
from credo.lending.errors import IdempotencyConflict, InvalidLoan, InvalidState
from credo.lending.models import JournalEntry, Loan, Posting
from credo.lending.replay.service import check_value_date, replay_loan
from credo.lending.states import LOAN_OPEN_STATES


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
    if locked.status not in LOAN_OPEN_STATES:
        raise InvalidState(
            _("贷款 %(n)s 状态为“%(s)s”，不能登记还款。")
            % {"n": locked.number, "s": locked.get_status_display()}
        )
    if locked.start_date and received_on < locked.start_date:
        raise InvalidLoan(_("到账日期不能早于放款日。"))
    if received_on > clock.today():
        raise InvalidLoan(_("到账日期不能晚于今天。"))
    back_valued = locked.last_eod_date is not None and received_on <= locked.last_eod_date
    if back_valued:
        check_value_date(locked, received_on)
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
        apply_allocation(inst, part, +1)
        refresh_installment_status(inst, received_on)
        inst.save()
    t = plan["totals"]
    entry = ledger.post_entry(
        loan=locked,
        kind=JournalEntry.Kind.REPAYMENT,
        # late money valued in a closed month is booked today (its value date stays on the
        # posting; the replay puts the difference in the open period)
        business_date=open_business_date(received_on, clock.today()),
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
    locked.version += 1
    fsm.transition(locked, loan_status_after(locked), save=False, allow_same=True)
    locked.save()
    if locked.status == Loan.Status.PAID_OFF and before != Loan.Status.PAID_OFF:
        from credo.lending.payoff_hooks import notify_paid_off

        notify_paid_off(locked.pk)
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
    if back_valued:
        # 倒起息: the day(s) since the value date were closed without this money; replay the
        # loan from it (same transaction, loan row locked) — allocation, 罚息/复利, DPD, status
        # and class as if posted on time; the ledger difference is one entry dated today.
        replay_loan(
            locked,
            actor=actor,
            reason=_("倒起息入账（到账日期 %(d)s）") % {"d": received_on.isoformat()},
            trigger=posting,
            from_date=received_on,
        )
        posting.refresh_from_db()
    return posting


def _check_prepayment_reversible(loan: Loan) -> None:
    """Called with the prepayment already marked reversed (inside the reversal's transaction):
    the schedule before it can be regenerated from the contract (checked on the rows due
    before it), and no executed 展期/重组/借新还旧 stands in the way."""
    from credo.lending.models import Restructuring
    from credo.lending.replay.service import replay_inputs

    if Restructuring.objects.filter(loan=loan, executed_on__isnull=False).exists():
        raise InvalidState(_("贷款已执行重组/展期，提前还款不能再冲正。"))
    insts = list(loan.installments.order_by("period"))
    if not replay_inputs([loan], {loan.pk: insts})[loan.pk].rebuild:
        raise InvalidState(
            _("该贷款的原始还款计划无法从合同条款还原（存量迁移或手工调整），提前还款不能冲正。")
        )


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
    prepayment = "prepayment" in posting.allocation
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
    posting.reversed_at = timezone.now()
    posting.save(update_fields=["reversed_at"])
    if prepayment:
        # the prepayment rebuilt the schedule: the replay below undoes the rebuild too, from the
        # contract schedule — unless an executed restructuring (a new agreement) or a legacy
        # schedule that cannot be traced back stands in the way (refused: all rolled back)
        _check_prepayment_reversible(locked)
    # undo by replay: the reversed posting drops out of the events, so the allocation of the
    # later money, the 罚息/复利 since the due date, DPD, status and class are recomputed now
    # (not at the next close); the mirror entry above plus one 倒起息调整 entry hold the ledger
    replay_loan(
        locked,
        actor=actor,
        reason=_("冲正还款：%(r)s") % {"r": reason},
        trigger=posting,
        from_date=posting.received_on,
    )
    locked.refresh_from_db()
    audit_record(
        action="loan.repayment_reverse",
        actor=actor,
        obj=locked,
        metadata={"posting": posting.pk, "reason": reason, "prepayment": prepayment},
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
