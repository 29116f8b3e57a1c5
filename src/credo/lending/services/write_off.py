"""核销 (write-off)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from credo.core import clock, fsm
from credo.core.audit.services import audit_record
from credo.core.money import Money
from credo.customers.events import record_event
from credo.lending import ledger
from credo.lending.allocation import due_components
from credo.lending.errors import InvalidLoan, InvalidState, MakerChecker
from credo.lending.models import Installment, JournalEntry, Loan, OffBalance
from credo.lending.provisions.services import reserve_available, reserve_lock
from credo.lending.states import LOAN_OPEN_STATES

WRITE_OFF_CLASSES = (Loan.Classification.DOUBTFUL, Loan.Classification.LOSS)


@transaction.atomic
def loan_write_off(
    *, loan: Loan, actor: Any, reason: str, expected_version: int | None = None
) -> JournalEntry:
    """核销: the outstanding principal is charged to the loan-loss reserve (Dr 贷款损失准备 /
    Cr 贷款本金; the part the product's reserve cannot cover: Dr 资产减值损失 — the next monthly
    provision run restores the reserve to what the book requires). Write-offs before provisions
    existed stay as posted (Dr 贷款核销损失). Unpaid interest, fees and penalty are recorded off
    balance sheet (表外) in :class:`OffBalance` (reduced by recoveries,
    :mod:`credo.lending.services.recovery`), the audit entry and timeline.

    Only loans classified 可疑 or 损失, with no credit balance, by a user other than the loan's
    account manager, with a reason. ``expected_version`` (optimistic lock from the page) refuses a
    write-off of a loan that changed since it was shown."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidLoan(_("请填写核销原因。"))
    locked = Loan.objects.select_for_update().get(pk=loan.pk)
    if expected_version is not None and locked.version != expected_version:
        raise InvalidState(_("贷款已被他人修改，请刷新后重试。"))
    if locked.status not in LOAN_OPEN_STATES:
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
    owed = [due_components(i) for i in unpaid]
    off_balance = {c: sum(o[c] for o in owed) for c in ("interest", "fee", "penalty")}
    today = clock.today()
    product = locked.product_version.product
    # 权责发生制: accrued-unpaid interest and 罚息 leave the books with the loan (reversed out of
    # income and held off balance, like a loan past the non-accrual threshold)
    from credo.lending.accruals.services import loan_to_non_accrual

    loan_to_non_accrual(loan=locked, day=today, actor=actor, why="核销")
    # the reserve first (贷款损失准备); what it cannot cover is a loss of the period (资产减值损失),
    # so the contra-asset never turns into a debit balance. Serialized with the provision run.
    reserve_lock()
    used = min(principal, reserve_available(product.pk))
    entry = ledger.post_entry(
        loan=locked,
        product=product,
        kind=JournalEntry.Kind.WRITE_OFF,
        business_date=today,
        actor=actor,
        memo=f"核销 {locked.number}：{reason}"[:200],
        lines=[
            ("loan_loss_reserve", used, 0),
            ("impairment_loss", principal - used, 0),
            ("loan_principal", 0, principal),
        ],
    )
    fsm.transition_queryset(
        Installment.objects.filter(pk__in=[i.pk for i in unpaid]), Installment.Status.WRITTEN_OFF
    )
    # 表外登记 (账销案存): what recoveries reduce (credo.lending.services.recovery)
    OffBalance.objects.create(  # type: ignore[misc]
        loan=locked,
        written_off_on=today,
        principal=Money.from_fen(principal),
        interest=Money.from_fen(off_balance["interest"]),
        fee=Money.from_fen(off_balance["fee"]),
        penalty=Money.from_fen(off_balance["penalty"]),
        entry=entry,
    )
    before = locked.status
    locked.outstanding_principal = Money.from_fen(0)
    locked.version += 1
    fsm.transition(locked, Loan.Status.WRITTEN_OFF, save=False)
    locked.save()
    audit_record(
        action="loan.write_off",
        actor=actor,
        obj=locked,
        changes={"status": [before, locked.status]},
        metadata={
            "principal": principal,
            "reserve_used": used,
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
