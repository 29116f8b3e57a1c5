from __future__ import annotations

import pytest

from tests.factories import UserFactory, role_with_perms


@pytest.fixture(autouse=True)
def _ocr_settings(settings, tmp_path):
    settings.CREDO_OCR_PROVIDER = "simulated"
    settings.CREDO_OCR_RATE_PER_MINUTE = 20
    settings.CREDO_DOCUMENT_ROOT = str(tmp_path / "documents")


@pytest.fixture
def am(org):
    role = role_with_perms(
        "ocr_am",
        "own",
        "customers.view_customer",
        "customers.add_customer",
        "customers.change_customer",
    )
    return UserFactory(username="am", display_name="张经理", org_unit=org["team_a"], roles=[role])


@pytest.fixture
def loan_officer(org):
    role = role_with_perms(
        "ocr_lo", "team", "customers.view_customer", "origination.add_application"
    )
    return UserFactory(username="lo", display_name="贷款员", org_unit=org["team_a"], roles=[role])


@pytest.fixture
def viewer(org):
    role = role_with_perms("ocr_viewer", "all", "customers.view_customer")
    return UserFactory(username="viewer", display_name="只读", org_unit=org["b1"], roles=[role])


@pytest.fixture
def ocr_admin(org):
    role = role_with_perms("ocr_admin", "all", "ocr.view_ocrrequest")
    return UserFactory(
        username="ocradmin", display_name="管理员", org_unit=org["head"], roles=[role]
    )
