"""Scorecard fixtures (the generated history lives in tests/scorecard/data.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from tests.factories import RoleFactory, UserFactory
from tests.lending.conftest import borrower, finance, make_loan  # noqa: F401 (fixtures)
from tests.origination.conftest import (  # noqa: F401 (fixtures)
    approvers,
    complete,
    customer,
    make_app,
    product_version,
    staff_perms,
)
from tests.scorecard.data import generate, to_csv


@pytest.fixture
def history_csv() -> bytes:
    return to_csv(*generate())


@pytest.fixture
def risk_manager(org):
    role = RoleFactory(code="risk_manager_sc", name="风控经理SC", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="scorecard",
            codename__in=[
                "view_scorecard",
                "train_scorecard",
                "publish_scorecard",
            ],
        ),
        *Permission.objects.filter(
            content_type__app_label="origination", codename__in=["view_application"]
        ),
    )
    return UserFactory(
        username="riskmgr", display_name="孙风控", org_unit=org["head"], roles=[role]
    )


@pytest.fixture
def analyst(org):
    role = RoleFactory(code="risk_analyst_sc", name="风控专员SC", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="scorecard", codename__in=["view_scorecard"]
        )
    )
    return UserFactory(
        username="analyst", display_name="周专员", org_unit=org["head"], roles=[role]
    )


@pytest.fixture(autouse=True)
def scorecard_document_root(settings, tmp_path):
    settings.CREDO_DOCUMENT_ROOT = str(tmp_path / "documents")
    return tmp_path / "documents"
