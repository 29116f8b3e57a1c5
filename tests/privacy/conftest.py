from __future__ import annotations

import pytest

from credo.accounts.models import Role
from credo.accounts.roles import ensure_default_roles
from credo.customers import services as customer_services
from tests.factories import UserFactory


@pytest.fixture
def officer(org):
    """A user with the system role 个人信息保护负责人 (its grants come from permissions.py)."""
    ensure_default_roles()
    role = Role.objects.get(code="privacy_officer")
    return UserFactory(username="dpo", display_name="隐私官", org_unit=org["head"], roles=[role])


@pytest.fixture
def person(owner, individual_data_factory):
    data = individual_data_factory(7)
    data.update(
        name="王小明", bank_account="6222020200112233445", address="太原市小店区平阳路 1 号"
    )
    return customer_services.customer_create(actor=owner, data=data)
