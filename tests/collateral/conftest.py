import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from credo.core.money import Money
from credo.lending.models import Loan
from tests.factories import RoleFactory, UserFactory
from tests.origination import conftest as _origination

# the origination fixtures (an applicant, a product, staff permissions, applications)
approvers = _origination.approvers
complete = _origination.complete
customer = _origination.customer
document_root = _origination.document_root
make_app = _origination.make_app
product_version = _origination.product_version
staff_perms = _origination.staff_perms

TODAY = dt.date(2026, 6, 1)


def _perms(app_label, *codenames):
    return Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    from credo.core import clock

    monkeypatch.setattr(clock, "today", lambda: TODAY)
    return TODAY


@pytest.fixture
def manage_perms(staff_perms):
    staff_perms.permissions.add(
        *_perms("collateral", "view_collateral", "manage_collateral", "add_collateral")
    )
    return staff_perms


@pytest.fixture
def checker(org):
    role = RoleFactory(code="risk_manager_c", name="风控经理C", data_scope="all")
    role.permissions.add(
        *_perms("collateral", "view_collateral", "approve_collateral_release", "manage_collateral")
    )
    role.permissions.add(*_perms("customers", "view_customer"))
    role.permissions.add(*_perms("lending", "view_loan"))
    role.permissions.add(*_perms("origination", "view_application"))
    return UserFactory(
        username="checker", display_name="孙风控", org_unit=org["head"], roles=[role]
    )


@pytest.fixture
def loan(owner, customer, product_version, manage_perms):
    from credo.lending import services

    return services.loan_create(
        customer=customer,
        product_version=product_version,
        principal=Money("300000"),
        annual_rate=Decimal("10"),
        months=12,
        actor=owner,
    )


def paid_off(loan):
    """Test setup: the loan as the close of business leaves it once fully repaid."""
    Loan.objects.filter(pk=loan.pk).update(status=Loan.Status.PAID_OFF)
    loan.refresh_from_db()
    return loan


@pytest.fixture
def house(owner, customer, manage_perms):
    from credo.collateral import services

    def make(value="500000", registered=True, **kw):
        c = services.collateral_create(
            actor=owner,
            owner=customer,
            kind="mortgage",
            category="real_estate",
            description="太原市小店区长风街 1 号 2 单元 301 室",
            address="太原市小店区长风街 1 号",
            registration_number="晋(2026)太原市不动产证明第0001234号" if registered else "",
            registered_on=dt.date(2026, 5, 1) if registered else None,
            expires_on=kw.pop("expires_on", dt.date(2029, 5, 1) if registered else None),
            **kw,
        )
        if value is not None:
            services.valuation_add(
                collateral=c,
                actor=owner,
                valued_on=dt.date(2026, 5, 20),
                value=Money(value),
                appraiser="山西某某房地产估价有限公司",
                method="market",
            )
            c.refresh_from_db()
        return c

    return make
