from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission

from credo.lending import services as lending_services
from tests.factories import RoleFactory, UserFactory
from tests.lending.conftest import (  # noqa: F401, F811  (fixtures re-exported)
    VALUE_DATE,
    borrower,
    finance,
    make_loan,
    product_version,
)

D = dt.date


def _perms(*codenames: str) -> list[Permission]:
    return list(
        Permission.objects.filter(content_type__app_label="collections", codename__in=codenames)
    )


@pytest.fixture
def junior(org):
    role = RoleFactory(code="collector_junior", name="初级催收", data_scope="own")
    role.permissions.add(*_perms("view_collectioncase", "contact_case"))
    return UserFactory(
        username="junior", display_name="赵催收", org_unit=org["team_b"], roles=[role]
    )


@pytest.fixture
def junior2(org, junior):
    role = junior.roles.get()
    return UserFactory(
        username="junior2", display_name="钱催收", org_unit=org["team_b"], roles=[role]
    )


@pytest.fixture
def senior(org):
    role = RoleFactory(code="collector_senior", name="高级催收", data_scope="team")
    role.permissions.add(*_perms("view_collectioncase", "contact_case", "manage_cases"))
    return UserFactory(
        username="senior", display_name="孙主管", org_unit=org["team_b"], roles=[role]
    )


@pytest.fixture
def risk_manager(org):
    role = RoleFactory(code="risk_mgr_t", name="风控经理T", data_scope="all")
    role.permissions.add(
        *_perms(
            "view_collectioncase",
            "contact_case",
            "manage_cases",
            "view_compliance",
            "change_collectionscript",
        )
    )
    return UserFactory(username="riskm", display_name="周风控", org_unit=org["head"], roles=[role])


@pytest.fixture
def loan(make_loan, finance):  # noqa: F811
    """120,000.00 at 12% over 12 months; first due 2026-02-15."""
    return lending_services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
