import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from credo.core.money import Money
from credo.lending import services
from credo.lending.models import Loan
from tests.lending.conftest import (  # noqa: F401 (fixtures)
    borrower,
    finance,
    make_loan,
    product_version,
)


@pytest.fixture
def viewers(manager_role):
    manager_role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["lending", "customers"],
            codename__in=["view_loan", "view_customer"],
        )
    )


@pytest.fixture
def portfolio(make_loan, finance, viewers):  # noqa: F811
    """Four disbursed loans of 100,000 / 200,000 / 300,000 / 400,000 yuan; DPD 0, 15, 45, 120
    (set directly, as the close-of-business batch would)."""
    loans = []
    for amount, dpd, cls in (
        ("100000", 0, "normal"),
        ("200000", 15, "special_mention"),
        ("300000", 45, "special_mention"),
        ("400000", 120, "substandard"),
    ):
        loan = services.loan_disburse(
            loan=make_loan(principal=amount), actor=finance, value_date=dt.date(2026, 1, 15)
        )
        Loan.objects.filter(pk=loan.pk).update(
            dpd=dpd, classification=cls, status="overdue" if dpd else "active"
        )
        loans.append(Loan.objects.get(pk=loan.pk))
    return loans


__all__ = ["Decimal", "Money"]
