"""收费: ad hoc fees as value-dated events of the replay (service, audit, idempotency, reversal,
back-valued charges, a prepayment carrying a charge, the API)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.lending import eod, ledger, services
from credo.lending.charges.services import charge_create, charge_reverse
from credo.lending.errors import IdempotencyConflict, InvalidLoan, NotPermitted
from credo.lending.models import Loan, LoanCharge, Restructuring
from credo.lending.prepay import prepay
from tests.lending.conftest import VALUE_DATE
from tests.lending.test_replay_schedule_events import balances, state_of

pytestmark = pytest.mark.django_db(transaction=False)

D = dt.date


@pytest.fixture
def charger(finance):
    finance.roles.first().permissions.add(
        *Permission.objects.filter(codename__in=["charge_fee", "view_loan"])
    )
    return type(finance).objects.get(pk=finance.pk)  # fresh permission cache


def disbursed(make_loan, finance):
    made = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    Loan.objects.filter(pk=made.pk).update(holiday_rule="none")
    made.refresh_from_db()
    return made


def fee_of(loan, period):
    return loan.installments.get(period=period).fee_due.fen


def test_charge_is_due_with_the_next_installment_and_paid_as_fee(make_loan, finance, charger):
    loan = disbursed(make_loan, finance)
    base = fee_of(loan, 1)
    charge = charge_create(
        loan=loan,
        kind="handling",
        amount=Money("30"),
        charged_on=D(2026, 1, 20),
        actor=charger,
        memo="账户管理费",
    )
    assert charge.due_period == 1 and fee_of(loan, 1) == base + 3_000
    assert AuditEntry.objects.filter(action="loan.charge", object_id=str(loan.pk)).exists()
    inst = loan.installments.get(period=1)
    services.repayment_post(
        loan=loan,
        amount=Money.from_fen(inst.amount_owed()),
        received_on=inst.due_date,
        actor=finance,
    )
    inst.refresh_from_db()
    assert inst.status == "paid" and inst.fee_paid.fen == base + 3_000
    assert balances(loan)["fee_income"] <= -3_000
    loan.refresh_from_db()
    assert ledger.verify([loan]).ok


def test_back_valued_charge_equals_charge_on_time(make_loan, finance, charger):
    on_time, late = disbursed(make_loan, finance), disbursed(make_loan, finance)
    for loan in (on_time, late):
        inst = loan.installments.get(period=1)
        services.repayment_post(
            loan=loan,
            amount=Money.from_fen(inst.amount_owed()),
            received_on=inst.due_date,
            actor=finance,
        )
    eod.run_eod(D(2026, 2, 19))
    charge_create(
        loan=on_time, kind="breach", amount=Money("55.5"), charged_on=D(2026, 2, 20), actor=charger
    )
    eod.run_eod(D(2026, 3, 25))  # period 2 (due 03-15) overdue with its charge
    late_charge = charge_create(
        loan=late, kind="breach", amount=Money("55.5"), charged_on=D(2026, 2, 20), actor=charger
    )
    assert late_charge.due_period == 2
    assert state_of(late) == state_of(on_time)
    assert balances(late) == balances(on_time)
    # reversal: the fee leaves the installment, the charge stays on record
    charge_reverse(charge=late_charge, actor=charger, reason="误收")
    late_charge.refresh_from_db()
    assert late_charge.reversed_at is not None and late_charge.due_period is None
    assert fee_of(late, 2) == fee_of(on_time, 2) - 5_550
    with pytest.raises(Exception, match="已冲销"):
        charge_reverse(charge=late_charge, actor=charger, reason="again")


def test_charge_carried_by_a_prepayment_and_replayed(make_loan, finance, charger):
    loan = disbursed(make_loan, finance)
    inst = loan.installments.get(period=1)
    services.repayment_post(
        loan=loan,
        amount=Money.from_fen(inst.amount_owed()),
        received_on=inst.due_date,
        actor=finance,
    )
    charge = charge_create(
        loan=loan, kind="other", amount=Money("12"), charged_on=D(2026, 2, 16), actor=charger
    )
    assert charge.due_period == 2
    eod.run_eod(D(2026, 2, 19))
    prepay(
        loan=loan,
        amount=Money("10000"),
        on_date=D(2026, 2, 20),
        mode="reduce_payment",
        actor=finance,
    )
    charge.refresh_from_db()
    assert charge.due_period == 3 and fee_of(loan, 3) == loan.installment_fee.fen + 1_200
    before = state_of(loan)
    eod.run_eod(D(2026, 2, 25))
    # a back-valued repayment replays through the prepayment: the charge stays where it is
    services.repayment_post(loan=loan, amount=Money("1"), received_on=D(2026, 2, 17), actor=finance)
    charge.refresh_from_db()
    assert charge.due_period == 3 and fee_of(loan, 3) == loan.installment_fee.fen + 1_200
    assert state_of(loan)[-1][:2] == before[-1][:2]
    assert ledger.verify([loan]).ok


def test_refusals_change_nothing(make_loan, finance, charger, owner):
    loan = disbursed(make_loan, finance)
    with pytest.raises(NotPermitted):
        charge_create(
            loan=loan, kind="handling", amount=Money("1"), charged_on=D(2026, 2, 1), actor=owner
        )
    with pytest.raises(InvalidLoan):
        charge_create(
            loan=loan, kind="handling", amount=Money("1"), charged_on=D(2025, 1, 1), actor=charger
        )
    with pytest.raises(InvalidLoan):
        charge_create(
            loan=loan, kind="nope", amount=Money("1"), charged_on=D(2026, 2, 1), actor=charger
        )
    Restructuring.objects.create(
        loan=loan,
        kind="extension",
        status="executed",
        reason="测试",
        requested_by=finance,
        executed_on=D(2026, 3, 1),
    )
    with pytest.raises(InvalidLoan, match="重组"):
        charge_create(
            loan=loan, kind="handling", amount=Money("1"), charged_on=D(2026, 2, 1), actor=charger
        )
    assert not LoanCharge.objects.exists()
    one = charge_create(
        loan=loan,
        kind="handling",
        amount=Money("1"),
        charged_on=D(2026, 3, 2),
        actor=charger,
        idempotency_key="k1",
    )
    again = charge_create(
        loan=loan,
        kind="handling",
        amount=Money("1"),
        charged_on=D(2026, 3, 2),
        actor=charger,
        idempotency_key="k1",
    )
    assert one.pk == again.pk and LoanCharge.objects.count() == 1
    with pytest.raises(IdempotencyConflict):
        charge_create(
            loan=loan,
            kind="handling",
            amount=Money("2"),
            charged_on=D(2026, 3, 2),
            actor=charger,
            idempotency_key="k1",
        )


def test_charge_pages_and_api(client, make_loan, finance, charger):
    from django.urls import reverse

    loan = disbursed(make_loan, finance)
    client.force_login(charger)
    page = client.get(reverse("lending:loan_detail", args=[loan.pk])).content.decode()
    assert 'id="charge-link"' in page
    res = client.post(
        reverse("lending:loan_charge", args=[loan.pk]),
        {"kind": "handling", "amount": "20.00", "charged_on": "2026-01-20", "memo": "工本费"},
    )
    assert res.status_code == 302
    charge = LoanCharge.objects.get(loan=loan)
    page = client.get(reverse("lending:loan_detail", args=[loan.pk])).content.decode()
    assert "工本费" in page and 'id="charge-table"' in page
    res = client.post(
        reverse("lending:loan_charge_reverse", args=[loan.pk, charge.pk]), {"reason": "录错"}
    )
    assert res.status_code == 302
    charge.refresh_from_db()
    assert charge.reversed_at is not None
    res = client.post(
        f"/api/v1/lending/loans/{loan.pk}/charges",
        {"kind": "breach", "amount": "8.00", "charged_on": "2026-01-21"},
        content_type="application/json",
    )
    assert res.status_code == 201, res.content
    assert res.json()["due_period"] == 1 and res.json()["amount"] == "8.00"
    listed = client.get(f"/api/v1/lending/loans/{loan.pk}/charges").json()
    assert [c["reversed"] for c in listed] == [False, True]


def test_a_charge_that_takes_the_apr_over_the_products_cap_is_refused(make_loan, finance, charger):
    """An ad hoc fee is a borrowing cost: 年化利率 with it over the product's cap → refused whole
    (nothing charged, nothing replayed); a small one within the cap is accepted."""
    from credo.lending.pricing.caps import AprCapExceeded, loan_apr

    loan = disbursed(make_loan, finance)
    contract = Decimal(loan_apr(loan).percent_str)
    pv = loan.product_version
    pv.max_apr = contract + Decimal("1")
    pv.save(update_fields=["max_apr"])
    loan.refresh_from_db()
    entries = loan.entries.count()
    with pytest.raises(AprCapExceeded, match="收费后该贷款的年化利率"):
        charge_create(
            loan=loan,
            kind="other",
            amount=Money("20000"),
            charged_on=D(2026, 1, 20),
            actor=charger,
        )
    assert not LoanCharge.objects.filter(loan=loan).exists()
    assert loan.entries.count() == entries
    charge_create(
        loan=loan, kind="handling", amount=Money("10"), charged_on=D(2026, 1, 20), actor=charger
    )
    assert LoanCharge.objects.filter(loan=loan).count() == 1
