from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from credo.core.money import Money
from credo.customers.models import Customer
from credo.lending.models import Loan, Product, ProductVersion
from tests.factories import UserFactory, png_bytes, role_with_perms

DAY = dt.date(2026, 6, 15)
FIELD_PERMS = (
    "fieldwork.view_inspection",
    "fieldwork.view_visit",
    "fieldwork.perform_inspection",
    "fieldwork.add_visit",
    "fieldwork.set_customer_site",
    "customers.view_customer",
)


@pytest.fixture(autouse=True)
def _documents(settings, tmp_path):
    settings.CREDO_DOCUMENT_ROOT = str(tmp_path / "documents")


@pytest.fixture
def field_role(db):
    return role_with_perms("fw_manager", "own", *FIELD_PERMS)


@pytest.fixture
def am(org, field_role):
    return UserFactory(
        username="am", display_name="张经理", org_unit=org["team_a"], roles=[field_role]
    )


@pytest.fixture
def am2(org, field_role):
    return UserFactory(
        username="am2", display_name="李经理", org_unit=org["team_a"], roles=[field_role]
    )


@pytest.fixture
def outsider_am(org, field_role):
    return UserFactory(
        username="am3", display_name="王经理", org_unit=org["team_c"], roles=[field_role]
    )


@pytest.fixture
def risk_manager(org):
    role = role_with_perms(
        "risk_manager", "all", "monitoring.view_alert", "fieldwork.view_inspection"
    )
    return UserFactory(username="riskm", display_name="赵风险", org_unit=org["b1"], roles=[role])


@pytest.fixture
def pv(db):
    product = Product.objects.create(code="fw-loan", name="经营贷")
    return ProductVersion.objects.create(
        product=product,
        number=1,
        status="published",
        min_amount=Money("1000"),
        max_amount=Money("50000000"),
        min_months=1,
        max_months=60,
        min_rate=Decimal("4"),
        max_rate=Decimal("18"),
        method="equal_principal",
        allocation_order=["penalty", "fee", "interest", "principal"],
    )


@pytest.fixture
def customer_factory(am, org):
    n = {"i": 0}

    def make(name=None, **kw):
        n["i"] += 1
        return Customer.objects.create(
            kind="enterprise",
            name=name or f"检查客户{n['i']}",
            owner=kw.pop("owner", am),
            team=kw.pop("team", org["team_a"]),
            branch=kw.pop("branch", org["b1"]),
            address="太原市小店区长风街1号",
            **kw,
        )

    return make


@pytest.fixture
def loan_factory(pv, am, org):
    n = {"i": 0}

    def make(
        customer,
        *,
        start=DAY - dt.timedelta(days=25),
        principal=500000,
        status="active",
        classification="normal",
        owner=None,
    ):
        n["i"] += 1
        return Loan.objects.create(
            number=f"F{n['i']:05d}",
            customer=customer,
            product_version=pv,
            principal=Money(str(principal)),
            annual_rate=Decimal("12"),
            months=12,
            method="equal_principal",
            penalty_multiplier=Decimal("1.5"),
            status=status,
            classification=classification,
            start_date=start,
            maturity_date=start + dt.timedelta(days=365),
            outstanding_principal=Money(str(principal)),
            owner=owner or am,
            team=org["team_a"],
            branch=org["b1"],
            created_by=am,
        )

    return make


@pytest.fixture
def photo():
    from credo.fieldwork.services import Upload

    def make(name="p.png", size=(40, 30)):
        return Upload(name=name, data=png_bytes(size))

    return make


ALL_OK = {
    "operating": "ok",
    "purpose": "ok",
    "finance": "ok",
    "staff": "ok",
    "collateral": "na",
    "litigation": "ok",
    "other_debt": "ok",
}
