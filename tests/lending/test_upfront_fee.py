"""No 砍头息 (issue 20 item 3, 民法典 第六百七十条): the full principal is disbursed, the upfront
fee is a separate receivable the borrower pays at disbursement or with the first installment.

Through the services on the real database: the exact journal lines of both choices, the ledger
invariants, the replay (no correcting entry when nothing changed), prepayment and payoff with
the fee still due, the historical (deducted) loans of before the migration, refusals, and the
年化利率 against an independent IRR (plain bisection written here, no library)."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from fractions import Fraction

import pytest
from django.apps import apps as django_apps

from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.lending import ledger, services
from credo.lending.errors import InvalidLoan, InvalidState
from credo.lending.models import Installment, JournalEntry, Loan
from credo.lending.prepay import prepay, prepayment_quote
from credo.lending.pricing import caps
from credo.lending.pricing.apr import schedule_apr
from credo.lending.products import services as product_services
from credo.lending.replay.service import replay_loan
from credo.lending.schedule import generate
from tests.lending.conftest import VALUE_DATE

pytestmark = pytest.mark.django_db

PRINCIPAL = 12_000_000  # 120,000.00 yuan in fen (the shared book's loan: 12 %, 12 months)
FEE = 120_000  # 1 % of it


# ------------------------------------------------------------------ an independent IRR


def independent_irr(flows: list[tuple[Fraction, int]]) -> Fraction:
    """The periodic rate r with Σ amount / (1 + r)^t = 0, by bisection on exact fractions
    (times are whole periods here): NPV falls as r rises for one outflow followed by inflows."""

    def npv(r: Fraction) -> Fraction:
        return sum(Fraction(a) / (1 + r) ** int(t) for t, a in flows)

    lo, hi = Fraction(0), Fraction(1, 2)
    assert npv(lo) > 0 > npv(hi)
    for _ in range(60):  # 2^-60 of a half: far below the 0.005 % a two-decimal figure shows
        mid = (lo + hi) / 2
        if npv(mid) > 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def percent_2dp(periodic: Fraction, per_year: int) -> str:
    value = Decimal(periodic.numerator) / Decimal(periodic.denominator) * per_year * 100
    return str(value.quantize(Decimal("0.01")))


def lines_of(entry: JournalEntry) -> list[tuple[str, int, int]]:
    return sorted(
        (line.account.code, line.debit.fen, line.credit.fen)
        for line in entry.lines.select_related("account")
    )


def no_correction(loan: Loan, actor) -> None:
    """A replay from the start reproduces exactly what was posted: no 倒起息调整 entry."""
    before = JournalEntry.objects.filter(loan=loan).count()
    record = replay_loan(loan, actor=actor, reason="核对")
    assert record.entry is None
    assert JournalEntry.objects.filter(loan=loan).count() == before


def _first_installment_product(product_version):
    product_version.upfront_fee_timing = "first_installment"
    product_version.save(update_fields=["upfront_fee_timing"])
    return product_version


# ------------------------------------------------------------------ 放款时收取


def test_fee_at_disbursement_full_principal_and_separate_fee_entries(make_loan, finance):
    loan = make_loan()
    assert loan.upfront_fee_timing == "disbursement" and loan.upfront_fee.fen == FEE
    loan = services.loan_disburse(loan=loan, actor=finance, value_date=VALUE_DATE)

    disbursement = JournalEntry.objects.get(loan=loan, kind=JournalEntry.Kind.DISBURSEMENT)
    assert lines_of(disbursement) == [("cash", 0, PRINCIPAL), ("loan_principal", PRINCIPAL, 0)]
    fee_entries = list(
        JournalEntry.objects.filter(loan=loan, kind=JournalEntry.Kind.UPFRONT_FEE).order_by("id")
    )
    assert [lines_of(e) for e in fee_entries] == [
        [("fee_income", 0, FEE), ("fee_receivable", FEE, 0)],  # the receivable
        [("cash", FEE, 0), ("fee_receivable", 0, FEE)],  # the borrower pays it the same day
    ]
    assert all(e.business_date == VALUE_DATE for e in fee_entries)
    assert ledger.loan_account_balance(loan, "fee_receivable") == 0
    assert ledger.loan_account_balance(loan, "fee_income") == -FEE
    assert ledger.loan_account_balance(loan, "cash") == -PRINCIPAL + FEE
    # interest on the principal the borrower received: the full 120,000
    expected = generate(
        principal=PRINCIPAL,
        annual_rate=Decimal("12"),
        months=12,
        method="equal_installment",
        start=VALUE_DATE,
    )
    rows = list(loan.installments.order_by("period"))
    assert [r.interest_due.fen for r in rows] == [i.interest for i in expected.installments]
    assert all(r.fee_due.fen == 0 for r in rows)
    assert ledger.verify().ok
    audit = AuditEntry.objects.filter(action="loan.disburse", object_id=str(loan.pk)).get()
    assert audit.metadata["upfront_fee"] == FEE
    assert audit.metadata["upfront_fee_timing"] == "disbursement"
    assert audit.metadata["paid_out"] == PRINCIPAL
    title = loan.customer.events.get(kind="disbursement").title
    assert "120,000.00" in title and "一次性手续费 1,200.00 元，放款时收取" in title

    # idempotent: a second confirmation is refused and posts nothing
    count = JournalEntry.objects.filter(loan=loan).count()
    with pytest.raises(InvalidState):
        services.loan_disburse(loan=loan, actor=finance, value_date=VALUE_DATE)
    assert JournalEntry.objects.filter(loan=loan).count() == count

    first = rows[0]
    services.repayment_post(
        loan=loan,
        amount=Money.from_fen(first.principal_due.fen + first.interest_due.fen),
        received_on=first.due_date,
        actor=finance,
    )
    loan.refresh_from_db()
    assert ledger.verify().ok
    no_correction(loan, finance)


# ------------------------------------------------------------------ 随首期还款收取


def test_fee_with_first_installment(make_loan, finance, product_version):
    _first_installment_product(product_version)
    loan = make_loan()
    assert loan.upfront_fee_timing == "first_installment"
    loan = services.loan_disburse(loan=loan, actor=finance, value_date=VALUE_DATE)

    disbursement = JournalEntry.objects.get(loan=loan, kind=JournalEntry.Kind.DISBURSEMENT)
    assert lines_of(disbursement) == [("cash", 0, PRINCIPAL), ("loan_principal", PRINCIPAL, 0)]
    assert not JournalEntry.objects.filter(loan=loan, kind=JournalEntry.Kind.UPFRONT_FEE).exists()
    rows = list(loan.installments.order_by("period"))
    assert rows[0].fee_due.fen == FEE  # installment 1 carries it
    assert all(r.fee_due.fen == 0 for r in rows[1:])
    assert sum(r.fee_due.fen for r in rows) == FEE  # once, nowhere else
    assert ledger.loan_account_balance(loan, "cash") == -PRINCIPAL
    assert ledger.loan_account_balance(loan, "fee_income") == 0
    assert ledger.verify().ok

    first = rows[0]
    owed = first.principal_due.fen + first.interest_due.fen + FEE
    posting = services.repayment_post(
        loan=loan, amount=Money.from_fen(owed), received_on=first.due_date, actor=finance
    )
    assert posting.allocation["totals"]["fee"] == FEE
    assert lines_of(posting.entry) == sorted(
        [
            ("cash", owed, 0),
            ("fee_income", 0, FEE),
            ("interest_income", 0, first.interest_due.fen),
            ("loan_principal", 0, first.principal_due.fen),
        ]
    )
    first.refresh_from_db()
    assert first.status == "paid"
    assert ledger.loan_account_balance(loan, "fee_income") == -FEE
    assert ledger.verify().ok
    no_correction(loan, finance)

    # 冲正 puts the fee back on installment 1; the ledger and the replay still agree
    services.posting_reverse(posting=posting, actor=finance, reason="错账")
    first.refresh_from_db()
    assert first.fee_paid.fen == 0 and first.fee_due.fen == FEE
    assert ledger.loan_account_balance(loan, "fee_income") == 0
    assert ledger.verify().ok
    no_correction(loan, finance)


def test_first_installment_fee_in_payoff_and_prepayment(make_loan, finance, product_version):
    """Paid off before installment 1 falls due: the payoff includes the fee (once), the
    prepayment pays it, the loan is 已结清 and the replay agrees."""
    _first_installment_product(product_version)
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    on = VALUE_DATE + dt.timedelta(days=10)
    quote = prepayment_quote(loan=loan, on_date=on)
    assert quote["carried_fee"] == "1200.00"
    accrued = Money(quote["accrued_interest"]).fen
    payoff = PRINCIPAL + accrued + FEE
    assert Money(quote["payoff_amount"]).fen == payoff
    with pytest.raises(InvalidLoan, match="超过结清金额"):
        prepayment_quote(loan=loan, on_date=on, amount=Money.from_fen(payoff + 1))

    result = prepay(
        loan=loan, amount=Money.from_fen(payoff), on_date=on, mode="reduce_payment", actor=finance
    )
    loan.refresh_from_db()
    assert result.paid_off and loan.status == Loan.Status.PAID_OFF
    assert result.principal == PRINCIPAL and result.interest == accrued
    assert ledger.loan_account_balance(loan, "fee_income") == -FEE
    assert ledger.loan_account_balance(loan, "interest_income") == -accrued
    assert ledger.loan_account_balance(loan, "cash") == -PRINCIPAL + payoff
    assert not loan.installments.exclude(status="paid").exists()
    assert sum(i.fee_paid.fen for i in loan.installments.all()) == FEE
    assert ledger.verify().ok
    no_correction(loan, finance)


def test_first_installment_fee_carried_by_a_partial_prepayment(make_loan, finance, product_version):
    _first_installment_product(product_version)
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    on = VALUE_DATE + dt.timedelta(days=10)
    prepay(
        loan=loan,
        amount=Money("20000"),
        on_date=on,
        mode="reduce_payment",
        actor=finance,
    )
    rows = list(loan.installments.order_by("period"))
    # the fee moved to the first new row: owed once, never twice nor lost
    assert sum(r.fee_due.fen for r in rows) == FEE
    assert [r.fee_due.fen for r in rows if r.fee_due.fen] == [FEE]
    assert rows[0].status == "paid" and rows[1].fee_due.fen == FEE
    quote = prepayment_quote(loan=loan, on_date=on)
    assert quote["carried_fee"] == "1200.00"
    assert ledger.verify().ok
    # the replay rebuilds from the contract schedule (installment 1 with the fee) through the
    # prepayment: same rows, the fee still owed once
    no_correction(loan, finance)
    assert [(r.period, r.fee_due.fen) for r in loan.installments.order_by("period")] == [
        (r.period, r.fee_due.fen) for r in rows
    ]


def test_back_valued_money_replays_with_the_fee(make_loan, finance, product_version):
    """A close of business ran past installment 1; money valued on its due date is replayed
    (倒起息) and the fee on installment 1 is paid first, as posted on time."""
    from credo.lending.replay.service import replay_loans

    _first_installment_product(product_version)
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    first = loan.installments.get(period=1)
    replay_loans([loan.pk], as_of=first.due_date + dt.timedelta(days=5), actor=finance)
    loan.refresh_from_db()
    assert loan.status == Loan.Status.OVERDUE
    owed = first.principal_due.fen + first.interest_due.fen + FEE
    services.repayment_post(
        loan=loan, amount=Money.from_fen(owed), received_on=first.due_date, actor=finance
    )
    loan.refresh_from_db()
    first.refresh_from_db()
    assert first.status == "paid" and first.fee_paid.fen == FEE and first.penalty_due.fen == 0
    assert loan.status == Loan.Status.ACTIVE
    assert ledger.loan_account_balance(loan, "fee_income") == -FEE
    assert ledger.verify().ok
    no_correction(loan, finance)


# ------------------------------------------------------------------ historical loans


def _disburse_the_old_way(loan: Loan, actor) -> Loan:
    """What disbursement posted before migration 0022: cash = principal − fee."""
    schedule = generate(
        principal=loan.principal.fen,
        annual_rate=loan.annual_rate,
        months=loan.months,
        method=loan.method,
        start=VALUE_DATE,
    )
    Installment.objects.bulk_create(
        [
            Installment(
                loan=loan,
                period=i.period,
                due_date=i.due_date,
                principal_due=i.principal,
                interest_due=i.interest,
            )
            for i in schedule.installments
        ]
    )
    fee = loan.upfront_fee.fen
    ledger.post_entry(
        loan=loan,
        kind=JournalEntry.Kind.DISBURSEMENT,
        business_date=VALUE_DATE,
        actor=actor,
        memo=f"放款 {loan.number}",
        lines=[
            ("loan_principal", loan.principal.fen, 0),
            ("cash", 0, loan.principal.fen - fee),
            ("fee_income", 0, fee),
        ],
    )
    Loan.objects.filter(pk=loan.pk).update(
        status="active",
        start_date=VALUE_DATE,
        maturity_date=schedule.installments[-1].due_date,
        outstanding_principal=loan.principal,
    )
    loan.refresh_from_db()
    return loan


def test_migration_marks_disbursed_loans_deducted_and_keeps_their_entries(make_loan, finance):
    old = _disburse_the_old_way(make_loan(), finance)
    pending = make_loan()
    migration = importlib.import_module("credo.lending.migrations.0022_upfront_fee")
    migration.forwards(django_apps, None)
    old.refresh_from_db()
    pending.refresh_from_db()
    assert old.upfront_fee_timing == "deducted"
    assert pending.upfront_fee_timing == "disbursement"
    entry = JournalEntry.objects.get(loan=old)
    assert lines_of(entry) == [
        ("cash", 0, PRINCIPAL - FEE),
        ("fee_income", 0, FEE),
        ("loan_principal", PRINCIPAL, 0),
    ]
    assert ledger.verify().ok
    # the replay reproduces the historical balances: no correcting entry on an old loan
    first = old.installments.get(period=1)
    services.repayment_post(
        loan=old,
        amount=Money.from_fen(first.principal_due.fen + first.interest_due.fen),
        received_on=first.due_date,
        actor=finance,
    )
    no_correction(old, finance)
    assert ledger.verify().ok
    # its 年化利率 still counts the fee as paid at disbursement (118,800 received)
    flows = [(Fraction(0), -(PRINCIPAL - FEE))]
    flows += [
        (Fraction(i.period), i.principal_due.fen + i.interest_due.fen)
        for i in old.installments.order_by("period")
    ]
    assert caps.loan_apr(old).percent_str == percent_2dp(independent_irr(flows), 12)


# ------------------------------------------------------------------ refusals


def test_refusals_change_nothing(make_loan, finance, owner, product_version):
    loan = make_loan()
    Loan.objects.filter(pk=loan.pk).update(upfront_fee=Money("120000"))
    loan.refresh_from_db()
    with pytest.raises(InvalidLoan, match="一次性手续费不能达到或超过贷款本金"):
        services.loan_disburse(loan=loan, actor=finance, value_date=VALUE_DATE)
    Loan.objects.filter(pk=loan.pk).update(upfront_fee=Money("1200"), upfront_fee_timing="deducted")
    loan.refresh_from_db()
    with pytest.raises(InvalidLoan, match="不得从放款金额中扣除"):
        services.loan_disburse(loan=loan, actor=finance, value_date=VALUE_DATE)
    loan.refresh_from_db()
    assert loan.status == "pending"
    assert not JournalEntry.objects.filter(loan=loan).exists()
    assert not loan.installments.exists()
    refused = AuditEntry.objects.filter(action="loan.disburse_refused", object_id=str(loan.pk))
    assert refused.count() == 2

    product_version.status = "draft"
    product_version.save(update_fields=["status"])
    before = product_version.upfront_fee_timing
    with pytest.raises(InvalidLoan, match="不得从放款金额中扣除"):
        product_services.version_update(
            version=product_version, data={"upfront_fee_timing": "deducted"}, actor=owner
        )
    with pytest.raises(InvalidLoan, match="低于 100%"):
        product_services.version_update(
            version=product_version, data={"upfront_fee_rate": Decimal("100")}, actor=owner
        )
    with pytest.raises(InvalidLoan, match="低于 100%"):
        product_services.version_update(
            version=product_version, data={"upfront_fee_rate": Decimal("-1")}, actor=owner
        )
    product_version.refresh_from_db()
    assert product_version.upfront_fee_timing == before
    assert product_version.upfront_fee_rate == Decimal("1")


def test_version_timing_change_is_audited_and_copied(owner, product_version):
    product_version.status = "draft"
    product_version.save(update_fields=["status"])
    product_services.version_update(
        version=product_version,
        # the fixture's worst corner (18 %, 3 months, 1 % fee) is above the default 24 % cap
        data={"upfront_fee_timing": "first_installment", "max_apr": Decimal("36")},
        actor=owner,
    )
    audit = AuditEntry.objects.filter(action="product.version_update").latest("id")
    assert audit.changes["upfront_fee_timing"] == ["disbursement", "first_installment"]
    product_version.status = "published"
    product_version.save(update_fields=["status"])
    draft = product_services.version_new(product=product_version.product, actor=owner)
    assert draft.upfront_fee_timing == "first_installment"


# ------------------------------------------------------------------ 年化利率 known answers


def test_apr_documented_example_both_choices():
    """The issue's example: 120,000 at 10 %, 3 months 先息后本, a 1 % fee. Paid at
    disbursement the borrower nets 118,800 (14.09 %, as when it was deducted); paid with the
    first installment the fee moves one month later and costs less."""
    schedule = generate(
        principal=PRINCIPAL,
        annual_rate=Decimal("10"),
        months=3,
        method="interest_only",
        start=VALUE_DATE,
    )
    at_disbursement = [
        (Fraction(0), -PRINCIPAL + FEE),
        (Fraction(1), 100_000),
        (Fraction(2), 100_000),
        (Fraction(3), 12_100_000),
    ]
    expected = percent_2dp(independent_irr(at_disbursement), 12)
    assert expected == "14.09"
    assert schedule_apr(schedule, upfront_fee=FEE).percent_str == expected
    assert schedule_apr(schedule, upfront_fee=FEE, fee_timing="disbursement").percent_str == (
        expected
    )
    with_first = [
        (Fraction(0), -PRINCIPAL),
        (Fraction(1), 100_000 + FEE),
        (Fraction(2), 100_000),
        (Fraction(3), 12_100_000),
    ]
    expected_first = percent_2dp(independent_irr(with_first), 12)
    got = schedule_apr(schedule, upfront_fee=FEE, fee_timing="first_installment").percent_str
    assert got == expected_first == "14.05"
    assert Decimal("10") < Decimal(expected_first) < Decimal(expected)
    # no fee: the contract rate
    assert schedule_apr(schedule).percent_str == "10.00"


@pytest.mark.parametrize("timing", ["disbursement", "first_installment"])
def test_loan_apr_is_the_irr_of_its_real_flows(make_loan, finance, product_version, timing):
    """The disclosed 年化利率 of a disbursed loan equals the IRR of what actually moves: the
    cash paid out less the fee paid then, and each installment as booked (fee included)."""
    product_version.upfront_fee_timing = timing
    product_version.save(update_fields=["upfront_fee_timing"])
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    cash_out = -ledger.loan_account_balance(loan, "cash")  # principal − fee paid at t0
    assert cash_out == (PRINCIPAL - FEE if timing == "disbursement" else PRINCIPAL)
    flows = [(Fraction(0), -cash_out)]
    flows += [
        (Fraction(i.period), i.principal_due.fen + i.interest_due.fen + i.fee_due.fen)
        for i in loan.installments.order_by("period")
    ]
    expected = percent_2dp(independent_irr(flows), 12)
    assert caps.loan_apr(loan).percent_str == expected
    assert (
        caps.version_terms_apr(
            product_version,
            principal=PRINCIPAL,
            months=12,
            annual_rate=Decimal("12"),
            start=VALUE_DATE,
        ).percent_str
        == expected
    )
    if timing == "disbursement":
        assert expected == "13.91"  # the shared book's loan (tests/lending/test_apr.py)
    else:
        assert Decimal("12") < Decimal(expected) < Decimal("13.91")


def test_calculator_and_cli_take_the_collection(client, owner):
    from io import StringIO

    from django.core.management import call_command

    client.force_login(owner)
    params = {
        "principal": "120000",
        "annual_rate": "10",
        "months": "3",
        "method": "interest_only",
        "start": "2026-01-15",
        "upfront_fee": "1200",
    }
    page = client.get("/lending/calculator/", params).content.decode()
    assert "14.09%" in page
    page = client.get(
        "/lending/calculator/", {**params, "upfront_fee_timing": "first_installment"}
    ).content.decode()
    assert "14.09%" not in page and "随首期还款收取" in page
    out = StringIO()
    call_command(
        "schedule",
        principal="120000",
        annual_rate="10",
        months=3,
        method="interest_only",
        start="2026-01-15",
        upfront_fee="1200",
        fee_timing="first_installment",
        format="json",
        stdout=out,
    )
    assert '"apr_percent": "' in out.getvalue()
