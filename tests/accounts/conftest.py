from __future__ import annotations

import pytest

from credo.accounts.models import DataScope
from credo.accounts.roles import ensure_default_roles
from tests.factories import RoleFactory, UserFactory


@pytest.fixture
def system_roles(db):
    return {r.code: r for r in ensure_default_roles()}


@pytest.fixture
def admin_user(org, system_roles):
    return UserFactory(
        username="sysadmin",
        display_name="系统管理员甲",
        org_unit=org["head"],
        roles=[system_roles["admin"]],
    )


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def scope_role():
    def make(scope: str):
        return RoleFactory(code=f"scope-{scope}", name=f"范围{scope}", data_scope=scope)

    return make


@pytest.fixture
def all_role(db):
    return RoleFactory(code="scope-all", name="范围all", data_scope=DataScope.ALL)
