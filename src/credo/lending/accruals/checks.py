"""The accrual invariants ``credo ledger verify`` checks (issue 20 item 6)."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Sum

from credo.lending.accruals.models import LoanAccrual
from credo.lending.accruals.services import COMPONENTS, unposted_totals


def accrual_problems(limit: int = 50) -> list[str]:
    """Per receivable account (应收利息, 应收罚息):

    * the control account equals the sum of the loans' sub-ledger (accrued + adjusted) less what
      the closes accrued that the posting job has not booked yet;
    * per loan, the adjustments equal the loan's own journal lines on the account (receipts,
      转非应计, corrections), and the receivable = accrued − received is ≥ 0;
    * 表外 balances are ≥ 0.
    """
    from credo.lending.ledger import fen
    from credo.lending.models import JournalLine

    problems: list[str] = []
    codes = [rec for _c, _i, rec in COMPONENTS]
    control: dict[str, int] = defaultdict(int)
    own: dict[tuple[int, str], int] = {}
    for row in (
        JournalLine.objects.filter(account__code__in=codes)
        .values("loan_id", "account__code")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by()
    ):
        amount = fen(row["d"]) - fen(row["c"])
        control[row["account__code"]] += amount
        if row["loan_id"] is not None:
            own[(row["loan_id"], row["account__code"])] = amount
    sub: dict[str, int] = defaultdict(int)
    seen: set[tuple[int, str]] = set()
    for state in LoanAccrual.objects.select_related("loan").iterator(chunk_size=5000):
        for comp, _inc, rec in COMPONENTS:
            accrued = getattr(state, f"{comp}_accrued")
            adjusted = getattr(state, f"{comp}_adjusted")
            receivable = accrued + adjusted
            sub[rec] += receivable
            seen.add((state.loan_id, rec))
            lines = own.get((state.loan_id, rec), 0)
            if lines != adjusted and len(problems) < limit:
                problems.append(
                    f"loan {state.loan.number}: {rec} adjustments {adjusted} ≠ its journal "
                    f"lines {lines} (fen)"
                )
            if receivable < 0 and len(problems) < limit:
                problems.append(
                    f"loan {state.loan.number}: {rec} accrued {accrued} − received "
                    f"{-adjusted} = {receivable} < 0 (fen)"
                )
            if getattr(state, f"{comp}_off_balance") < 0 and len(problems) < limit:
                problems.append(f"loan {state.loan.number}: off-balance {comp} < 0")
    for (loan_id, rec), amount in own.items():
        if (loan_id, rec) not in seen and amount and len(problems) < limit:
            problems.append(f"loan id {loan_id}: {rec} lines {amount} without a sub-ledger row")
    pending = unposted_totals()
    for rec in codes:
        expected = sub[rec] - pending[rec]
        if control[rec] != expected:
            problems.append(
                f"control account {rec} {control[rec]} ≠ sum of loans {sub[rec]}"
                + (f" − not yet posted {pending[rec]}" if pending[rec] else "")
                + " (fen)"
            )
    return problems
