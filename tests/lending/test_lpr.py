"""LPR-linked floating rates: the LPR table (page, audit, permissions), a floating loan's rate
at creation, repricing on the repricing date (schedule rebuilt, records), the after-close job."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from credo.core.audit.models import AuditEntry
from credo.lending import services
from credo.lending.eod.common import after_close_jobs
from credo.lending.errors import InvalidLoan, InvalidState, NotPermitted
from credo.lending.forms import ProductVersionForm
from credo.lending.models import LoanRateChange, LprRate
from credo.lending.rates import services as rates
from credo.lending.rates.history import seed
from credo.lending.rates.jobs import lpr_repricing
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db
START = dt.date(2025, 1, 15)


@pytest.fixture(autouse=True)
def shipped_lpr(db):
    """The migration ships the history; a flushed (transactional) test database lost it."""
    seed(LprRate)


@pytest.fixture
def rate_admin(org):
    role = RoleFactory(code="rates_t", name="利率T", data_scope="all")
    role.permissions.add(Permission.objects.get(codename="manage_rates"))
    return UserFactory(
        username="rates", display_name="利率管理员", org_unit=org["head"], roles=[role]
    )


@pytest.fixture
def floating_version(product_version):
    product_version.rate_type = "lpr"
    product_version.lpr_tenor = "1y"
    product_version.spread_bp = 150
    product_version.repricing = "anniversary"
    product_version.save()
    return product_version


def test_shipped_history():
    assert LprRate.objects.filter(effective_date=dt.date(2024, 10, 21)).values_list(
        "one_year", "five_year"
    ).get() == (Decimal("3.1"), Decimal("3.6"))
    row = rates.lpr_in_force(dt.date(2026, 12, 1))
    assert row.effective_date == dt.date(2025, 5, 20)
    assert (row.one_year, row.five_year) == (Decimal("3"), Decimal("3.5"))
    assert rates.lpr_in_force(dt.date(2025, 5, 19)).effective_date == dt.date(2024, 10, 21)
    with pytest.raises(InvalidLoan, match="LPR"):
        rates.lpr_in_force(dt.date(2019, 1, 1))


def test_lpr_save_audited_and_permissioned(rate_admin, owner):
    with pytest.raises(NotPermitted):
        rates.lpr_save(
            actor=owner, effective_date=dt.date(2026, 12, 21), one_year="2.9", five_year="3.4"
        )
    with pytest.raises(InvalidLoan, match="0–100%"):
        rates.lpr_save(
            actor=rate_admin, effective_date=dt.date(2026, 12, 21), one_year="0", five_year="3.4"
        )
    with pytest.raises(InvalidLoan, match="格式"):
        rates.lpr_save(
            actor=rate_admin, effective_date=dt.date(2026, 12, 21), one_year="x", five_year="3.4"
        )
    row = rates.lpr_save(
        actor=rate_admin,
        effective_date=dt.date(2026, 12, 21),
        one_year="2.9",
        five_year="3.4",
        source="测试",
    )
    assert AuditEntry.objects.filter(action="lpr.create", object_id=str(row.pk)).exists()
    with pytest.raises(InvalidState):
        rates.lpr_save(
            actor=rate_admin, effective_date=dt.date(2026, 12, 21), one_year="2.8", five_year="3.4"
        )
    rates.lpr_save(
        actor=rate_admin,
        effective_date=dt.date(2026, 12, 21),
        one_year="2.85",
        five_year="3.4",
        instance=row,
    )
    entry = AuditEntry.objects.get(action="lpr.update", object_id=str(row.pk))
    assert entry.changes["one_year"] == ["2.9000", "2.8500"]


def test_lpr_pages(client, rate_admin, owner):
    client.force_login(owner)
    assert client.get(reverse("lending:lpr_list")).status_code == 403
    client.force_login(rate_admin)
    res = client.get(reverse("lending:lpr_list"))
    assert res.status_code == 200 and "2025-05-20" in res.content.decode()
    res = client.post(
        reverse("lending:lpr_create"),
        {"effective_date": "2026-11-20", "one_year": "2.95", "five_year": "3.45", "source": "x"},
    )
    assert res.status_code == 302
    row = LprRate.objects.get(effective_date=dt.date(2026, 11, 20))
    res = client.post(
        reverse("lending:lpr_edit", args=[row.pk]),
        {"effective_date": "2026-11-20", "one_year": "2.96", "five_year": "3.45", "source": "x"},
    )
    row.refresh_from_db()
    assert res.status_code == 302 and row.one_year == Decimal("2.96")


def _floating_loan(make_loan, finance, months=24):
    pending = make_loan(months=months, rate="99")  # the requested rate is ignored
    return services.loan_disburse(loan=pending, actor=finance, value_date=START)


def test_floating_loan_rate_at_creation(make_loan, finance, floating_version):
    loan = _floating_loan(make_loan, finance)
    assert loan.rate_type == "lpr" and loan.spread_bp == 150 and loan.repricing == "anniversary"
    assert loan.annual_rate == Decimal("4.5")  # 1Y LPR 3.00 % + 150 bp
    change = LoanRateChange.objects.get(loan=loan)
    assert change.kind == "initial" and change.lpr_value == Decimal("3")


def test_repricing_rebuilds_the_rest_of_the_schedule(
    client, make_loan, finance, floating_version, rate_admin
):
    loan = _floating_loan(make_loan, finance)
    before = {i.period: i for i in loan.installments.all()}
    rates.lpr_save(
        actor=rate_admin, effective_date=dt.date(2025, 12, 22), one_year="2.9", five_year="3.4"
    )
    day = dt.date(2026, 1, 15)  # first anniversary (= due date of period 12)
    assert rates.due_for_repricing(day) == [loan.pk]
    assert rates.due_for_repricing(dt.date(2026, 1, 16)) == []
    counts = rates.reprice_due_loans(day)
    assert counts == {"repriced": 1, "unchanged": 0, "failed": 0}
    loan.refresh_from_db()
    assert loan.annual_rate == Decimal("4.4")
    after = {i.period: i for i in loan.installments.all()}
    assert sorted(after) == list(range(1, 25))
    for p in range(1, 13):  # the current period and earlier keep the old rate
        assert after[p].interest_due == before[p].interest_due
    balance = sum(after[p].principal_due.fen for p in range(13, 25))
    assert balance == sum(before[p].principal_due.fen for p in range(13, 25))
    # 4.4 % / 12 on the remaining balance
    assert after[13].interest_due.fen == (balance * 44 + 6000) // 12000
    assert after[13].due_date == dt.date(2026, 2, 15) and after[24].due_date == dt.date(2027, 1, 15)
    change = LoanRateChange.objects.get(loan=loan, kind="repricing")
    assert (change.old_rate, change.new_rate, change.from_period) == (
        Decimal("4.5"),
        Decimal("4.4"),
        13,
    )
    assert AuditEntry.objects.filter(action="loan.reprice", object_id=str(loan.pk)).exists()
    client.force_login(UserFactory(username="lpr_super", is_superuser=True))
    page = client.get(reverse("lending:loan_detail", args=[loan.pk])).content.decode()
    assert "LPR 浮动利率" in page and "4.5% → 4.4%" in page
    assert loan.customer.events.filter(title__contains="重定价").exists()
    # idempotent: running the close of that date again changes nothing
    assert rates.reprice_due_loans(day) == {"repriced": 0, "unchanged": 1, "failed": 0}
    assert LoanRateChange.objects.filter(loan=loan, kind="repricing").count() == 1


def test_unchanged_rate_rebuilds_nothing(make_loan, finance, floating_version):
    loan = _floating_loan(make_loan, finance)
    before = list(loan.installments.values_list("pk", flat=True))
    assert rates.reprice_due_loans(dt.date(2026, 1, 15))["unchanged"] == 1
    assert list(loan.installments.values_list("pk", flat=True)) == before


def test_after_close_job_registered(make_loan, finance, floating_version, rate_admin):
    assert "lpr_repricing" in set(after_close_jobs.keys())
    loan = _floating_loan(make_loan, finance)
    rates.lpr_save(
        actor=rate_admin, effective_date=dt.date(2025, 12, 22), one_year="3.1", five_year="3.4"
    )

    class Run:
        business_date = dt.date(2026, 1, 15)

    assert lpr_repricing(Run())["repriced"] == 1
    loan.refresh_from_db()
    assert loan.annual_rate == Decimal("4.6")


def test_fixed_loans_never_repriced(make_loan, finance, product_version):
    pending = make_loan(months=24)
    loan = services.loan_disburse(loan=pending, actor=finance, value_date=START)
    assert loan.rate_type == "fixed"
    assert rates.due_for_repricing(dt.date(2026, 1, 15)) == []


def _version_form(**overrides):
    data = {
        "min_amount": "1000",
        "max_amount": "100000",
        "min_months": "3",
        "max_months": "36",
        "min_rate": "3",
        "max_rate": "18",
        "method": "equal_installment_quarterly",
        "rate_type": "fixed",
        "lpr_tenor": "1y",
        "spread_bp": "0",
        "repricing": "annual_jan1",
        "upfront_fee_rate": "0",
        "installment_fee": "0",
        "penalty_multiplier": "1.5",
        "grace_days": "0",
        "penalty_days_in_year": "360",
        "allocation_order": "penalty,fee,interest,principal",
        "holiday_rule": "defer_penalty",
        "penalty_from": "due_date",
        "compound_interest": "on",
        **overrides,
    }
    return ProductVersionForm(data)


def test_product_form_validation():
    form = _version_form()
    assert form.is_valid(), form.errors
    form = _version_form(max_months="35")
    assert not form.is_valid() and "max_months" in form.errors
    form = _version_form(method="bullet", rate_type="lpr")
    assert not form.is_valid() and "rate_type" in form.errors
    form = _version_form(method="equal_installment", rate_type="lpr", spread_bp="-35")
    assert form.is_valid(), form.errors


def test_check_terms_quarterly_multiple(product_version):
    from credo.core.money import Money
    from credo.lending.products import check_terms

    product_version.method = "interest_quarterly"
    with pytest.raises(InvalidLoan, match="3 个月的整数倍"):
        check_terms(product_version, amount=Money("20000"), months=10, rate="6")
    assert check_terms(product_version, amount=Money("20000"), months=12, rate="6")[1] == 12
