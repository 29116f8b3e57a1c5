"""综合融资成本上限 (issue 20): the APR cap of a product version at publish, fee change,
application, loan creation and restructuring, and the 4 × LPR warning. Each refusal is
readable Chinese and changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy_financial as npf
import pytest
from django.contrib.auth.models import Permission

from credo.core import clock
from credo.core.money import Money
from credo.lending import services
from credo.lending.models import Installment, Loan, LprRate, Product, ProductVersion, Restructuring
from credo.lending.pricing import caps
from credo.lending.products import services as product_services
from credo.lending.restructure import services as rs
from tests.lending.conftest import VALUE_DATE

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 4, 20)


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    return TODAY


@pytest.fixture
def manager(owner):
    role = owner.roles.first()
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="lending",
            codename__in=["manage_products", "request_restructure", "view_loan"],
        )
    )
    return owner.__class__.objects.get(pk=owner.pk)


def _draft(**terms):
    product = Product.objects.create(code=terms.pop("code", "dx"), name="短期消费贷")
    data = {
        "min_amount": Money("10000"),
        "max_amount": Money("100000"),
        "min_months": 3,
        "max_months": 12,
        "min_rate": Decimal("10"),
        "max_rate": Decimal("18"),
        "method": "equal_installment",
        "upfront_fee_rate": Decimal("2"),
        "penalty_multiplier": Decimal("1.5"),
        "allocation_order": ["penalty", "fee", "interest", "principal"],
        **terms,
    }
    return ProductVersion.objects.create(product=product, number=1, status="draft", **data)


def _independent_apr(principal_fen, fee_fen, payments, per_year=12):
    return float(npf.irr([-(principal_fen - fee_fen), *payments])) * per_year * 100


def test_worst_corner_is_shortest_term_highest_rate(today):
    pv = _draft()
    rng = caps.version_range(pv)
    assert rng.high_terms["months"] == 3 and rng.high_terms["annual_rate"] == "18"
    # independent: 10,000 at 18 % over 3 months 等额本息, 2 % (200) deducted
    from credo.lending.schedule import generate

    s = generate(
        principal=1_000_000, annual_rate=Decimal("18"), months=3, method="equal_installment",
        start=TODAY,
    )  # fmt: skip
    expected = _independent_apr(1_000_000, 20_000, [i.payment for i in s.installments])
    assert rng.high.percent_str == f"{expected:.2f}"
    assert expected > 24
    assert rng.low.percent < rng.high.percent


def test_publish_refused_over_the_cap_and_nothing_changes(today, manager):
    pv = _draft()
    with pytest.raises(caps.AprCapExceeded) as exc:
        product_services.version_publish(version=pv, actor=manager)
    message = exc.value.message
    assert "年化利率" in message and "超过产品规定的上限 24.00%" in message
    assert "3 个月" in message
    pv.refresh_from_db()
    assert pv.status == "draft" and pv.published_at is None


def test_publish_allowed_with_a_higher_cap_or_lower_fee(today, manager):
    pv = _draft(max_apr=Decimal("36"))
    product_services.version_publish(version=pv, actor=manager)
    pv.refresh_from_db()
    assert pv.status == "published"
    other = _draft(code="dx2", upfront_fee_rate=Decimal("0.5"))
    product_services.version_publish(version=other, actor=manager)
    assert ProductVersion.objects.get(pk=other.pk).status == "published"


def test_fee_change_on_a_draft_refused_over_the_cap(today, manager):
    pv = _draft(upfront_fee_rate=Decimal("0"))
    product_services.version_update(version=pv, data={"grace_days": 3}, actor=manager)
    with pytest.raises(caps.AprCapExceeded):
        product_services.version_update(
            version=pv, data={"upfront_fee_rate": Decimal("3")}, actor=manager
        )
    pv.refresh_from_db()
    assert pv.upfront_fee_rate == 0 and pv.grace_days == 3


def test_version_new_copies_the_cap(today, manager):
    pv = _draft(max_apr=Decimal("30"), upfront_fee_rate=Decimal("0"))
    product_services.version_publish(version=pv, actor=manager)
    draft = product_services.version_new(product=pv.product, actor=manager)
    assert draft.max_apr == Decimal("30")


def test_loan_creation_refused_over_the_cap(make_loan, product_version):
    # 120,000 at 12 % for 12 months with 1 % deducted: 13.91 % (test_apr.py)
    ProductVersion.objects.filter(pk=product_version.pk).update(max_apr=Decimal("13.90"))
    product_version.refresh_from_db()
    before = Loan.objects.count()
    with pytest.raises(caps.AprCapExceeded) as exc:
        make_loan()
    assert "13.91%" in exc.value.message and "13.90%" in exc.value.message
    assert Loan.objects.count() == before
    ProductVersion.objects.filter(pk=product_version.pk).update(max_apr=Decimal("13.91"))
    product_version.refresh_from_db()
    assert make_loan().pk


def test_application_refused_over_the_cap(owner, borrower, product_version):
    from credo.origination import services as origination
    from credo.origination.errors import InvalidApplication
    from credo.origination.models import Application

    owner.roles.first().permissions.add(
        *Permission.objects.filter(
            content_type__app_label="origination",
            codename__in=["add_application", "view_application", "change_application"],
        )
    )
    owner = owner.__class__.objects.get(pk=owner.pk)
    ProductVersion.objects.filter(pk=product_version.pk).update(max_apr=Decimal("13"))
    product_version.refresh_from_db()
    with pytest.raises(InvalidApplication) as exc:
        origination.application_create(
            customer=borrower,
            product_version=product_version,
            amount=Money("120000"),
            months=12,
            annual_rate=Decimal("12"),
            purpose="经营周转",
            actor=owner,
        )
    assert "该申请的年化利率" in exc.value.message and "13.00%" in exc.value.message
    assert not Application.objects.exists()


@pytest.fixture
def open_loan(make_loan, finance, today):
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    services.repayment_post(
        loan=loan, amount=Money("10661.85"), received_on=dt.date(2026, 2, 15), actor=finance
    )
    Installment.objects.filter(loan=loan, period__in=(2, 3)).update(status="overdue")
    Loan.objects.filter(pk=loan.pk).update(status="overdue", dpd=36)
    return Loan.objects.get(pk=loan.pk)


def test_restructuring_refused_over_the_cap(open_loan, manager):
    with pytest.raises(caps.AprCapExceeded) as exc:
        rs.restructuring_request(
            loan=open_loan,
            kind=Restructuring.Kind.RESTRUCTURE,
            terms={"annual_rate": "30", "months": "12"},
            reason="经营困难",
            actor=manager,
        )
    # 30 % from 04-20 with the 15th as repayment day: a broken first period, 30.01 %
    assert "重组后新还款计划的年化利率" in exc.value.message
    assert "为 30.01%，超过产品规定的上限 24.00%" in exc.value.message
    assert not Restructuring.objects.exists()
    plan = rs.restructuring_quote(
        loan=open_loan, kind=Restructuring.Kind.RESTRUCTURE, terms={"annual_rate": "9"}
    )
    assert plan.as_dict(open_loan)["annualized_rate"] == "9.00"  # no installment fee


def test_lpr_warning_uses_the_table_then_the_setting(settings, today):
    apr = caps.Apr(Decimal("0.0115"), Decimal(12))  # 13.80 %
    settings.CREDO_LPR_ONE_YEAR_FALLBACK = "3.0"
    warning = caps.lpr_warning(apr, TODAY)
    assert "13.80%" in warning and "3.00%" in warning and "12.00%" in warning
    LprRate.objects.create(
        effective_date=dt.date(2026, 1, 20), one_year=Decimal("3.5"), five_year=Decimal("4")
    )
    assert caps.lpr_warning(apr, TODAY) == ""  # 4 × 3.5 = 14 %
    assert "3.00%" in caps.lpr_warning(apr, dt.date(2026, 1, 19))  # before the row: the setting


def test_loan_disclosure_of_a_loan(make_loan):
    d = caps.loan_disclosure(make_loan())
    assert d is not None and d.percent == "13.91" and not d.over_cap
