import datetime as dt

import pytest
from django.contrib.auth.models import Permission

from credo.lending import eod, services
from credo.lending.books.models import AccountingPeriod
from tests.factories import RoleFactory, UserFactory
from tests.lending.conftest import (  # noqa: F401, F811 (the shared lending fixtures)
    VALUE_DATE,
    borrower,
    finance,
    make_loan,
    product_version,
)


def _reporter(username, org):
    role = RoleFactory(code="cr_reporter", name="征信报送T", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(content_type__app_label="creditreport", codename="manage")
    )
    return UserFactory(username=username, display_name=username, org_unit=org["head"], roles=[role])


@pytest.fixture
def reporter(org):
    return _reporter("cr-maker", org)


@pytest.fixture
def checker(org):
    return _reporter("cr-checker", org)


def close_months(*months):
    for m in months:
        AccountingPeriod.objects.update_or_create(month=m, defaults={"status": "closed"})


@pytest.fixture
def book(make_loan, finance):  # noqa: F811
    """One loan of 120,000.00 over 12 months disbursed 2026-01-15 (installments due on the 15th
    from February), closed of business to 2026-03-31 with nothing paid; January to March
    closed."""
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    eod.run_eod(dt.date(2026, 3, 31))
    close_months(dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1))
    loan.refresh_from_db()
    return loan
