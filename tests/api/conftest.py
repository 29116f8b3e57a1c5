from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from credo.api.services import token_create
from tests.factories import RoleFactory, UserFactory


def grant(user, app_label: str, codename: str) -> None:
    role = RoleFactory(code=f"grant-{app_label}-{codename}", name=f"授权{app_label}{codename}")
    role.permissions.add(
        Permission.objects.get(codename=codename, content_type__app_label=app_label)
    )
    user.roles.add(role)
    for attr in ("_perm_cache", "_user_perm_cache", "_group_perm_cache", "_role_codes_cache"):
        if hasattr(user, attr):
            delattr(user, attr)


@pytest.fixture
def make_token():
    def _make(user, scopes=("read", "write"), days=30):
        return token_create(
            user=user, name="测试令牌", scopes=list(scopes), expires_in_days=days, actor=user
        )

    return _make


@pytest.fixture
def bearer():
    def _h(plain: str) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}

    return _h


@pytest.fixture
def admin_user(org):
    user = UserFactory(username="apiadmin", display_name="管理员", org_unit=org["head"])
    grant(user, "accounts", "manage_users")
    return user
