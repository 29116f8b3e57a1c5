from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from credo.core.money import Money
from credo.customers.models import Customer
from credo.lending.models import Installment, Loan, Product, ProductVersion
from tests.factories import RoleFactory, UserFactory

DAY = dt.date(2026, 6, 15)


def perms(*codenames):
    out = []
    for full in codenames:
        app, code = full.split(".")
        out.append(Permission.objects.get(content_type__app_label=app, codename=code))
    return out


@pytest.fixture
def pv(db):
    product = Product.objects.create(code="m-loan", name="经营贷")
    return ProductVersion.objects.create(
        product=product,
        number=1,
        status="published",
        min_amount=Money("1000"),
        max_amount=Money("5000000"),
        min_months=1,
        max_months=60,
        min_rate=Decimal("4"),
        max_rate=Decimal("18"),
        method="equal_principal",
        allocation_order=["penalty", "fee", "interest", "principal"],
    )


@pytest.fixture
def customer_factory(owner, org):
    n = {"i": 0}

    def make(name=None, **kw):
        n["i"] += 1
        return Customer.objects.create(
            kind="enterprise",
            name=name or f"监控客户{n['i']}",
            owner=kw.pop("owner", owner),
            team=kw.pop("team", org["team_a"]),
            branch=kw.pop("branch", org["b1"]),
            **kw,
        )

    return make


@pytest.fixture
def loan_factory(pv, owner, org):
    """``make(customer, schedule=[(due_date, paid_on or None, partial_fen or 0), ...])``:
    a disbursed loan with 10,000 yuan installments (principal 9,000 + interest 1,000)."""
    n = {"i": 0}

    def make(customer, schedule, *, dpd=0, status=None, start=None):
        n["i"] += 1
        unpaid = [s for s in schedule if s[1] is None]
        loan = Loan.objects.create(
            number=f"M{n['i']:05d}",
            customer=customer,
            product_version=pv,
            principal=Money.from_fen(900000 * len(schedule)),
            annual_rate=Decimal("12"),
            months=len(schedule),
            method="equal_principal",
            penalty_multiplier=Decimal("1.5"),
            status=status or ("overdue" if dpd else "active"),
            dpd=dpd,
            start_date=start or schedule[0][0] - dt.timedelta(days=30),
            maturity_date=schedule[-1][0],
            outstanding_principal=Money.from_fen(900000 * len(unpaid)),
            owner=owner,
            team=org["team_a"],
            branch=org["b1"],
            created_by=owner,
        )
        for period, (due, paid_on, *rest) in enumerate(schedule, 1):
            partial = rest[0] if rest else 0
            paid = paid_on is not None
            Installment.objects.create(
                loan=loan,
                period=period,
                due_date=due,
                principal_due=Money.from_fen(900000),
                interest_due=Money.from_fen(100000),
                principal_paid=Money.from_fen(900000 if paid else max(0, partial - 100000)),
                interest_paid=Money.from_fen(100000 if paid else min(partial, 100000)),
                status=(
                    "paid"
                    if paid
                    else ("overdue" if due < DAY else ("due" if due == DAY else "scheduled"))
                ),
                paid_on=paid_on,
            )
        return loan

    return make


@pytest.fixture
def risk_manager(org):
    role = RoleFactory(code="risk_manager", name="风险经理", data_scope="branch")
    role.permissions.add(
        *perms(
            "monitoring.view_alert",
            "monitoring.handle_alert",
            "monitoring.manage_retention",
            "lending.manage_limits",
            "lending.view_loan",
        )
    )
    return UserFactory(username="riskm", display_name="赵风险", org_unit=org["b1"], roles=[role])


@pytest.fixture
def management(org):
    role = RoleFactory(code="management", name="管理层", data_scope="all")
    role.permissions.add(*perms("monitoring.view_alert", "monitoring.handle_alert"))
    return UserFactory(username="boss", display_name="钱总", org_unit=org["head"], roles=[role])


def months(first: dt.date, n: int) -> list[dt.date]:
    out = []
    y, m = first.year, first.month
    for _ in range(n):
        out.append(dt.date(y, m, min(first.day, 28)))
        m += 1
        if m > 12:
            y, m = y + 1, 1
    return out
