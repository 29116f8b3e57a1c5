from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from credo.automations import services
from credo.core.events.stream import events_pump
from credo.core.money import Money
from credo.customers.models import Customer
from credo.lending.models import Installment, Loan
from tests.factories import UserFactory, published_product_version, role_with_perms

ADMIN_PERMS = (
    "automations.view_automation",
    "automations.manage_automation",
    "customers.view_customer",
    "customers.change_customer",
    "leads.assign_lead",
    "leads.change_lead",
    "monitoring.handle_alert",
    "approvals.view_approvalinstance",
    "records.add_customrecord",
    "webhooks.manage_webhookendpoint",
)


@pytest.fixture
def admin(org):
    role = role_with_perms("auto_admin", "all", *ADMIN_PERMS)
    return UserFactory(
        username="autoadmin", display_name="管理员", org_unit=org["head"], roles=[role]
    )


@pytest.fixture
def customer(owner, org):
    return Customer.objects.create(
        kind="enterprise", name="太原钢铁贸易", owner=owner, team=org["team_a"], branch=org["b1"]
    )


@pytest.fixture
def pv(db):
    return published_product_version("auto-loan")


@pytest.fixture
def make_loan(pv, owner, org):
    n = {"i": 0}

    def make(customer, *, dues, dpd=0, start=None):
        n["i"] += 1
        loan = Loan.objects.create(
            number=f"AUTO{n['i']:04d}",
            customer=customer,
            product_version=pv,
            principal=Money.from_fen(900000 * len(dues)),
            annual_rate=Decimal("12"),
            months=len(dues),
            method="equal_principal",
            penalty_multiplier=Decimal("1.5"),
            status="overdue" if dpd else "active",
            dpd=dpd,
            start_date=start or dues[0] - dt.timedelta(days=30),
            maturity_date=dues[-1],
            outstanding_principal=Money.from_fen(900000 * len(dues)),
            owner=owner,
            team=org["team_a"],
            branch=org["b1"],
            created_by=owner,
        )
        for period, due in enumerate(dues, 1):
            Installment.objects.create(
                loan=loan,
                period=period,
                due_date=due,
                principal_due=Money.from_fen(900000),
                interest_due=Money.from_fen(100000),
                status="scheduled",
            )
        return loan

    return make


@pytest.fixture
def build(admin):
    """``build(trigger, actions, condition=None, cases=[(input, fire)])`` → published version."""

    def make(trigger, actions, condition=None, cases=None, name="测试自动化", publish=True):
        events_pump()  # the consumer starts at the head: history is not delivered
        version = services.automation_create(name=name, actor=admin)
        version = services.version_update(
            version=version,
            actor=admin,
            trigger=trigger,
            condition=condition or {"kind": "none"},
            actions=actions,
        )
        for inp, fire in cases or [({"record": {}}, True)]:
            services.testcase_create(
                automation=version.automation,
                name="用例",
                input=inp,
                expected_fire=fire,
                actor=admin,
            )
        if publish:
            version = services.version_publish(version=version, actor=admin)
        return version

    return make
