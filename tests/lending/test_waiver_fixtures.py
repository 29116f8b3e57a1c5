"""Shared fixtures of the servicing approval tests (waiver, manual classification)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission

from credo.core import clock
from credo.lending import services
from credo.lending.models import Loan
from tests.factories import RoleFactory, UserFactory


def _role(code: str, perms: list[str], scope: str = "all"):
    role = RoleFactory(code=code, name=code, data_scope=scope)
    role.permissions.add(
        *Permission.objects.filter(content_type__app_label="lending", codename__in=perms)
    )
    return role


@pytest.fixture
def collector(org):
    role = _role("collector_t", ["view_loan", "request_waiver", "request_classification"])
    return UserFactory(
        username="collector", display_name="赵催收", org_unit=org["head"], roles=[role]
    )


@pytest.fixture
def risk_role(db):
    return _role("risk_manager_t", ["view_loan", "approve_waiver", "approve_classification"])


@pytest.fixture
def risk(org, risk_role):
    return UserFactory(
        username="risk", display_name="钱风控", org_unit=org["head"], roles=[risk_role]
    )


@pytest.fixture
def risk2(org, risk_role):
    return UserFactory(
        username="risk2", display_name="孙风控", org_unit=org["head"], roles=[risk_role]
    )


@pytest.fixture
def overdue_loan(make_loan, finance):
    """A loan started 50 days ago whose first installment (due ~20 days ago) is unpaid: the
    replay to yesterday accrues 罚息 (and 复利) on it."""
    from credo.lending.replay import service as replay_service

    today = clock.today()
    start = today - dt.timedelta(days=50)
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=start)
    replay_service.replay_loan(loan, as_of=today - dt.timedelta(days=1), actor=finance, reason="t")
    loan = Loan.objects.get(pk=loan.pk)
    assert loan.status == "overdue" and loan.dpd > 0
    return loan


def penalty_owed(loan) -> int:
    return sum(i.penalty_due.fen - i.penalty_paid.fen for i in loan.installments.all())
