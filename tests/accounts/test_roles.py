from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from credo.accounts import roles as roles_mod
from credo.accounts.models import DataScope, Role
from credo.accounts.roles import (
    DEFAULT_ROLES,
    ensure_default_roles,
    register_role_permissions,
)

pytestmark = pytest.mark.django_db

EXPECTED = {
    "account_manager": ("客户经理", DataScope.OWN),
    "team_lead": ("团队主管", DataScope.TEAM),
    "risk_analyst": ("风控专员", DataScope.BRANCH),
    "risk_manager": ("风控经理", DataScope.ALL),
    "credit_committee": ("审批委员会", DataScope.ALL),
    "finance": ("财务", DataScope.ALL),
    "collector_junior": ("催收员（初级）", DataScope.OWN),
    "collector_senior": ("催收员（高级）", DataScope.TEAM),
    "management": ("管理层", DataScope.ALL),
    "admin": ("系统管理员", DataScope.ALL),
    "privacy_officer": ("个人信息保护负责人", DataScope.ALL),
}


def test_post_migrate_created_the_ten_system_roles():
    # The test database was built by migrate, whose post_migrate created the roles.
    got = {r.code: (r.name, r.data_scope) for r in Role.objects.filter(is_system=True)}
    assert got == EXPECTED
    assert len(DEFAULT_ROLES) == 11  # … and the privacy officer (issue 22)


def test_admin_gets_management_and_audit_permissions():
    admin = Role.objects.get(code="admin")
    perms = {f"{p.content_type.app_label}.{p.codename}" for p in admin.permissions.all()}
    assert {
        "accounts.manage_users",
        "accounts.manage_roles",
        "accounts.manage_org_units",
        "audit.view_audit_log",
    } <= perms
    assert (
        not Role.objects.get(code="account_manager")
        .permissions.filter(codename="manage_users")
        .exists()
    )


def test_ensure_is_idempotent_and_keeps_admin_additions(monkeypatch):
    monkeypatch.setitem(roles_mod.role_grants._items, "finance", set())
    ensure_default_roles()
    finance = Role.objects.get(code="finance")
    extra = Permission.objects.get(codename="view_audit_log")
    finance.permissions.add(extra)
    finance.name = "财务部"
    finance.save()
    ensure_default_roles()
    ensure_default_roles()
    finance.refresh_from_db()
    assert Role.objects.filter(code="finance").count() == 1
    assert finance.name == "财务部"  # an admin's rename is not reverted
    assert finance.permissions.filter(pk=extra.pk).exists()


def test_recreates_a_missing_role_and_applies_registered_perms(monkeypatch):
    Role.objects.filter(code="finance").delete()
    monkeypatch.setitem(roles_mod.role_grants._items, "finance", set())
    register_role_permissions("finance", ["accounts.manage_org_units", "nope.does_not_exist"])
    ensure_default_roles()
    finance = Role.objects.get(code="finance")
    assert finance.is_system
    assert finance.data_scope == DataScope.ALL
    assert list(finance.permissions.values_list("codename", flat=True)) == ["manage_org_units"]


def test_register_rejects_unknown_role_and_bad_perm():
    with pytest.raises(ValueError):
        register_role_permissions("nobody", ["accounts.manage_users"])
    with pytest.raises(ValueError):
        register_role_permissions("finance", ["manage_users"])
