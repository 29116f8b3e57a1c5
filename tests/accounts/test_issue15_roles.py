"""Issue 15: direct loan creation is granted to no default role except admin; back-dating a
disbursement beyond the configured days to none."""

from __future__ import annotations

import pytest

from credo.accounts.models import Role
from credo.accounts.roles import ensure_default_roles, registered_permissions

pytestmark = pytest.mark.django_db


def test_direct_loan_creation_is_admin_only_and_backdating_nobodys():
    ensure_default_roles()
    holders = {
        perm: set(
            Role.objects.filter(
                is_system=True,
                permissions__content_type__app_label="lending",
                permissions__codename=perm,
            ).values_list("code", flat=True)
        )
        for perm in ("create_loan_directly", "backdate_disbursement")
    }
    assert holders["create_loan_directly"] == {"admin"}
    assert holders["backdate_disbursement"] == set()
    for code in ("account_manager", "team_lead", "finance"):
        assert "lending.create_loan_directly" not in registered_permissions(code)
        assert "lending.add_loan" not in registered_permissions(code)
    assert "lending.create_loan_directly" in registered_permissions("admin")
