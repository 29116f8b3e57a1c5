import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from credo.core.money import Money
from credo.customers import services as customer_services
from credo.lending.models import Product, ProductVersion
from tests.factories import RoleFactory, UserFactory


@pytest.fixture
def product_version(db):
    product = Product.objects.create(code="jy-loan", name="经营贷")
    return ProductVersion.objects.create(
        product=product,
        number=1,
        status="published",
        min_amount=Money("10000"),
        max_amount=Money("5000000"),
        min_months=3,
        max_months=60,
        min_rate=Decimal("4"),
        max_rate=Decimal("18"),
        method="equal_installment",
        penalty_multiplier=Decimal("1.5"),
        upfront_fee_rate=Decimal("1"),
        allocation_order=["penalty", "fee", "interest", "principal"],
        # the shared book's dates (due 02-15 = 春节 2026) count from the due date itself;
        # 节假日顺延 is tested on its own (tests/lending/test_replay_engine.py)
        holiday_rule="none",
    )


@pytest.fixture
def finance(org):
    role = RoleFactory(code="finance_t", name="财务T", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="lending",
            codename__in=[
                "disburse_loan",
                "post_repayment",
                "reverse_posting",
                "run_eod",
                "write_off_loan",
                # the shared book is disbursed on fixed past dates (VALUE_DATE and earlier)
                "backdate_disbursement",
            ],
        )
    )
    return UserFactory(
        username="finance", display_name="周财务", org_unit=org["head"], roles=[role]
    )


@pytest.fixture
def borrower(owner):
    from credo.core.validators import uscc_check_char

    body = "91140100MA0000001"
    return customer_services.customer_create(
        actor=owner,
        data={
            "kind": "enterprise",
            "name": "太原借款企业有限公司",
            "uscc": body + uscc_check_char(body),
            "region_code": "140105",
        },
    )


def book_on(loan, day: dt.date):
    """Record ``loan`` as created on ``day``: a loan may not be disbursed before it existed
    (issue 15), and the shared book is disbursed on fixed past dates."""
    from django.utils import timezone

    from credo.lending.models import Loan

    at = timezone.make_aware(dt.datetime.combine(day, dt.time(9)))
    Loan.objects.filter(pk=loan.pk).update(created_at=at)
    loan.created_at = at
    return loan


@pytest.fixture
def make_loan(owner, borrower, product_version):
    """A loan pending disbursement, created by ``owner`` and booked on ``BOOKED_ON`` (before
    every value date the tests use)."""
    from credo.lending import services

    def make(principal="120000", rate="12", months=12, booked_on=None, **kw):
        loan = services.loan_create(
            customer=borrower,
            product_version=product_version,
            principal=Money(principal),
            annual_rate=Decimal(rate),
            months=months,
            actor=owner,
            **kw,
        )
        return book_on(loan, booked_on or BOOKED_ON)

    return make


VALUE_DATE = dt.date(2026, 1, 15)
BOOKED_ON = dt.date(2023, 1, 2)
