"""已核销贷款收回 (recovery after write-off).

A written-off loan stays on the books off balance sheet (表外, 账销案存): :class:`OffBalance`
holds the principal written off and the interest, fees and 罚息 unpaid at write-off. Money
received later is a recovery, not a repayment: Dr 银行存款 / Cr 贷款损失准备 for the principal
part (it restores the reserve the write-off used; the next provision run releases what is not
needed) and Cr 核销收回 (an income account, ``write_off_recovery``) for interest, fees and 罚息;
the off-balance figures are reduced — principal first, then interest, fees, 罚息 (本金优先, the
usual order for 已核销贷款收回). The loan principal account is not touched (it was closed by the
write-off). A recovery beyond what is still off balance is
refused. The same idempotency key returns the first recovery.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.money import Money
from credo.customers.events import record_event
from credo.lending import ledger
from credo.lending.errors import IdempotencyConflict, InvalidLoan, InvalidState, NotPermitted
from credo.lending.models import (
    Installment,
    JournalEntry,
    JournalLine,
    LedgerAccount,
    Loan,
    OffBalance,
    Recovery,
)

RECOVERY_ACCOUNT = ("write_off_recovery", "核销收回", "income", "6301")
ORDER = ("principal", "interest", "fee", "penalty")
PERM = "lending.post_repayment"


def recovery_account_id() -> int:
    code, name, kind, export = RECOVERY_ACCOUNT
    account, _created = LedgerAccount.objects.get_or_create(
        code=code, defaults={"name": name, "kind": kind, "export_code": export}
    )
    return account.pk


def off_balance_for(loan: Loan) -> OffBalance | None:
    """The loan's 表外登记; for a loan written off before it existed, rebuilt once from the
    write-off entry (principal) and its written-off installments (interest, fee, 罚息)."""
    found = OffBalance.objects.filter(loan=loan).first()
    if found is not None or loan.status != Loan.Status.WRITTEN_OFF:
        return found
    entry = (
        JournalEntry.objects.filter(loan=loan, kind=JournalEntry.Kind.WRITE_OFF)
        .order_by("-id")
        .first()
    )
    if entry is None:
        return None
    principal = ledger.fen(
        JournalLine.objects.filter(entry=entry, account__code="loan_principal").aggregate(
            c=Sum("credit")
        )["c"]
    )
    owed = {"interest": 0, "fee": 0, "penalty": 0}
    for inst in loan.installments.filter(status=Installment.Status.WRITTEN_OFF):
        for c in owed:
            owed[c] += getattr(inst, f"{c}_due").fen - getattr(inst, f"{c}_paid").fen
    return OffBalance.objects.create(  # type: ignore[misc]
        loan=loan,
        written_off_on=entry.business_date,
        principal=Money.from_fen(principal),
        interest=Money.from_fen(owed["interest"]),
        fee=Money.from_fen(owed["fee"]),
        penalty=Money.from_fen(owed["penalty"]),
        entry=entry,
    )


def split(off: OffBalance, amount: int) -> dict[str, int]:
    """How ``amount`` reduces the off-balance figures (principal, interest, fee, 罚息)."""
    out = {}
    rest = amount
    for c in ORDER:
        take = min(rest, off.remaining(c))
        out[c] = take
        rest -= take
    if rest:
        raise InvalidLoan(
            _("收回金额超过表外余额 %(r)s 元。")
            % {"r": Money.from_fen(sum(off.remaining(c) for c in ORDER)).format(symbol=False)}
        )
    return out


def _same(existing: Recovery, loan: Loan, amount: int) -> Recovery:
    if existing.loan_id != loan.pk or existing.amount.fen != amount:
        raise IdempotencyConflict(_("该幂等键已用于另一笔收回。"))
    return existing


def recovery_post(
    *,
    loan: Loan,
    amount: Money,
    received_on: dt.date,
    actor: Any,
    reference: str = "",
    idempotency_key: str | None = None,
) -> Recovery:
    """登记收回 on a written-off loan (permission ``lending.post_repayment``)."""
    fen = amount.fen if isinstance(amount, Money) else Money(amount).fen
    if idempotency_key:
        existing = Recovery.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _same(existing, loan, fen)
    try:
        with transaction.atomic():
            return _post(
                loan=loan,
                fen=fen,
                received_on=received_on,
                actor=actor,
                reference=reference,
                idempotency_key=idempotency_key,
            )
    except IntegrityError:
        if not idempotency_key:
            raise
        existing = Recovery.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _same(existing, loan, fen)


def _post(
    *,
    loan: Loan,
    fen: int,
    received_on: dt.date,
    actor: Any,
    reference: str,
    idempotency_key: str | None,
) -> Recovery:
    if actor is None or not actor.has_perm(PERM):
        raise NotPermitted(_("没有登记收回的权限。"))
    if fen <= 0:
        raise InvalidLoan(_("收回金额必须大于 0。"))
    locked = Loan.objects.select_for_update().get(pk=loan.pk)
    if locked.status != Loan.Status.WRITTEN_OFF:
        raise InvalidState(_("只有已核销的贷款可以登记核销收回；请按还款登记。"))
    off = off_balance_for(locked)
    if off is None:
        raise InvalidState(_("找不到该贷款的核销记录。"))
    off = OffBalance.objects.select_for_update().get(pk=off.pk)
    if received_on > clock.today():
        raise InvalidLoan(_("到账日期不能晚于今天。"))
    if received_on < off.written_off_on:
        raise InvalidLoan(_("到账日期不能早于核销日期。"))
    parts = split(off, fen)
    recovery_account_id()
    # the principal recovered restores the loan-loss reserve it was written off against (the
    # next provision run releases what the book no longer needs); interest, fees and 罚息 were
    # never income, so they are recognized when received (核销收回)
    entry = ledger.post_entry(
        loan=locked,
        product=locked.product_version.product,
        kind=JournalEntry.Kind.RECOVERY,
        business_date=received_on,
        actor=actor,
        memo=f"核销收回 {locked.number}" + (f"：{reference}" if reference else ""),
        lines=[
            ("cash", fen, 0),
            ("loan_loss_reserve", 0, parts["principal"]),
            ("write_off_recovery", 0, fen - parts["principal"]),
        ],
    )
    for c, v in parts.items():
        field = f"recovered_{c}"
        setattr(off, field, Money.from_fen(getattr(off, field).fen + v))
    off.save()
    recovery = Recovery.objects.create(  # type: ignore[misc]
        loan=locked,
        amount=Money.from_fen(fen),
        received_on=received_on,
        reference=reference[:80],
        idempotency_key=idempotency_key or None,
        allocation=parts,
        entry=entry,
        actor=actor,
    )
    locked.version += 1
    locked.save(update_fields=["version"])
    audit_record(
        action="loan.recovery",
        actor=actor,
        obj=locked,
        metadata={
            "amount": fen,
            "received_on": received_on.isoformat(),
            "allocation": parts,
            "entry": entry.pk,
            "recovery": recovery.pk,
        },
    )
    record_event(
        customer=locked.customer,
        kind="repayment",
        actor=actor,
        obj=locked,
        source="lending",
        title=_("已核销贷款 %(n)s 收回 %(amt)s 元")
        % {"n": locked.number, "amt": Money.from_fen(fen).format(symbol=False)},
        detail={"allocation": parts, "recovery": recovery.pk},
    )
    return recovery


def recoveries_total(date_from: dt.date | None = None, date_to: dt.date | None = None) -> int:
    """Sum of recoveries received in a date range (fen)."""
    qs = Recovery.objects.all()
    if date_from:
        qs = qs.filter(received_on__gte=date_from)
    if date_to:
        qs = qs.filter(received_on__lte=date_to)
    return ledger.fen(qs.aggregate(s=Sum("amount"))["s"])
