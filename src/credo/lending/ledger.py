"""Chart of accounts, balanced journal entries and the ledger invariants."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Sum

from credo.core.money import Money
from credo.lending.models import Installment, JournalEntry, JournalLine, LedgerAccount, Loan

# code → (name, kind, default export code in a typical PRC GL)
CHART = {
    "loan_principal": ("贷款本金", "asset", "1303"),
    "cash": ("银行存款", "asset", "1002"),
    "interest_income": ("利息收入", "income", "6011"),
    "penalty_income": ("罚息收入", "income", "601102"),
    "fee_income": ("手续费收入", "income", "6021"),
    "fee_receivable": ("应收手续费", "asset", "1221"),
    "interest_receivable": ("应收利息", "asset", "1132"),
    "penalty_receivable": ("应收罚息", "asset", "113202"),
    "customer_credit": ("客户溢缴款", "liability", "2241"),
    "write_off_expense": ("贷款核销损失", "expense", "6701"),
    # contra-asset: kind asset, carries a credit balance (the trial balance signs debit − credit)
    "loan_loss_reserve": ("贷款损失准备", "asset", "1304"),
    "impairment_loss": ("资产减值损失", "expense", "6701"),
}


def account_ids(codes: Iterable[str]) -> dict[str, int]:
    """Ids of chart accounts by code, in one query (created on first use; names and export
    codes stay editable). No process-wide cache: ids differ between databases and tests."""
    wanted = set(codes)
    found = dict(LedgerAccount.objects.filter(code__in=wanted).values_list("code", "id"))
    for code in wanted - found.keys():
        name, kind, export = CHART[code]
        account, _created = LedgerAccount.objects.get_or_create(
            code=code, defaults={"name": name, "kind": kind, "export_code": export}
        )
        found[code] = account.pk
    return found


def account_id(code: str) -> int:
    return account_ids([code])[code]


def post_entry(
    *,
    loan: Loan | None,
    kind: str,
    business_date: Any,
    actor: Any,
    memo: str,
    lines: Iterable[tuple[str, int, int]],
    reverses: JournalEntry | None = None,
    product: Any = None,
) -> JournalEntry:
    """``lines`` = (account code, debit fen, credit fen); zero lines are dropped. Refuses an
    unbalanced or empty entry — the one place money enters the ledger.

    A portfolio entry (daily interest accrual per product, the monthly provision run) passes
    ``loan=None`` and the ``product`` it summarises; its per-loan detail is the sub-ledger of
    that kind, which ``credo ledger verify`` reconciles with the control account."""
    if loan is None and product is None:
        raise ValueError("a journal entry names its loan or, for a portfolio entry, its product")
    rows = [(code, d, c) for code, d, c in lines if d or c]
    debit = sum(d for _c, d, _x in rows)
    credit = sum(c for _c, _x, c in rows)
    if not rows or debit != credit:
        raise ValueError(f"unbalanced journal entry: debit {debit} ≠ credit {credit}")
    if any(d < 0 or c < 0 for _code, d, c in rows):
        raise ValueError("journal amounts must be positive")
    from credo.lending.books.guard import ensure_open  # closed periods refuse postings

    ensure_open(business_date)
    if loan is not None:  # 权责发生制: a receipt of interest settles the receivable first
        from credo.lending.accruals.services import split_entry_lines

        rows = [r for r in split_entry_lines(loan, kind, business_date, rows) if r[1] or r[2]]
    entry = JournalEntry.objects.create(
        kind=kind,
        loan=loan,
        product=product,
        business_date=business_date,
        memo=memo[:200],
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        reverses=reverses,
    )
    ids = account_ids(code for code, _d, _c in rows)
    JournalLine.objects.bulk_create(
        [
            JournalLine(entry=entry, account_id=ids[code], loan=loan, debit=d, credit=c)
            for code, d, c in rows
        ]
    )
    return entry


def fen(value: Any) -> int:
    """Aggregates over MoneyField come back as Money (or None for no rows)."""
    if value is None:
        return 0
    return value.fen if isinstance(value, Money) else int(value)


def loan_account_balance(loan: Loan, code: str) -> int:
    """Debit − credit of one account for one loan (fen)."""
    agg = JournalLine.objects.filter(loan=loan, account__code=code).aggregate(
        d=Sum("debit"), c=Sum("credit")
    )
    return fen(agg["d"]) - fen(agg["c"])


@dataclass
class VerifyReport:
    entries: int = 0
    loans: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(loans: Iterable[Loan] | None = None) -> VerifyReport:
    """Invariants: every entry balances; per loan, the principal sub-ledger equals the loan's
    outstanding principal = disbursed − repaid principal ≥ 0; the credit liability equals the
    loan's credit balance ≥ 0; the control accounts equal the sum of the loans."""
    report = VerifyReport()
    unbalanced = (
        JournalLine.objects.values("entry_id").annotate(d=Sum("debit"), c=Sum("credit")).order_by()
    )
    for row in unbalanced:
        report.entries += 1
        if fen(row["d"]) != fen(row["c"]):
            report.problems.append(f"entry {row['entry_id']} does not balance")
    per_loan: dict[tuple[int, str], int] = {}
    for sub in (
        JournalLine.objects.filter(account__code__in=["loan_principal", "customer_credit"])
        .values("loan_id", "account__code")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by()
    ):
        per_loan[(sub["loan_id"], sub["account__code"])] = fen(sub["d"]) - fen(sub["c"])
    # principal repaid per loan in one grouped query (one aggregate per loan made a restore's
    # ledger check of 100,000 loans take minutes)
    repaid_qs = Installment.objects.values("loan_id").annotate(s=Sum("principal_paid")).order_by()
    qs: Iterable[Loan]
    if loans is None:
        qs = Loan.objects.exclude(status=Loan.Status.PENDING).iterator(chunk_size=5000)
    else:
        qs = list(loans)
        repaid_qs = repaid_qs.filter(loan_id__in=[loan.pk for loan in qs])
    repaid_by_loan = {row["loan_id"]: fen(row["s"]) for row in repaid_qs}
    total_principal = total_credit = 0
    for loan in qs:
        report.loans += 1
        principal_gl = per_loan.get((loan.pk, "loan_principal"), 0)
        credit_gl = -per_loan.get((loan.pk, "customer_credit"), 0)
        repaid = repaid_by_loan.get(loan.pk, 0)
        expected = loan.principal.fen - repaid
        outstanding = loan.outstanding_principal.fen
        if loan.status == Loan.Status.WRITTEN_OFF:
            expected = 0
        if not (principal_gl == outstanding == expected) or outstanding < 0:
            report.problems.append(
                f"loan {loan.number}: principal ledger {principal_gl}, outstanding "
                f"{outstanding}, disbursed − repaid {expected} (fen)"
            )
        if credit_gl != loan.credit_balance.fen or credit_gl < 0:
            report.problems.append(
                f"loan {loan.number}: credit ledger {credit_gl} ≠ credit balance "
                f"{loan.credit_balance.fen}"
            )
        total_principal += outstanding
        total_credit += loan.credit_balance.fen
    if loans is None:
        from credo.lending.books.checks import period_problems  # debits = credits per month

        report.problems.extend(period_problems())
        from credo.lending.accruals.checks import accrual_problems  # 应收利息 sub-ledger

        report.problems.extend(accrual_problems())
        from credo.lending.provisions.checks import provision_problems  # 贷款损失准备

        report.problems.extend(provision_problems())
        control = sum(v for (_l, code), v in per_loan.items() if code == "loan_principal")
        if control != total_principal:
            report.problems.append(
                f"control account loan_principal {control} ≠ sum of loans {total_principal}"
            )
    return report
