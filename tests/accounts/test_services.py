from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from credo.accounts import services
from credo.accounts.errors import AccountsError
from credo.accounts.models import DataScope, FieldPermission, OrgUnit, Role, User
from credo.core.audit.models import AuditEntry
from credo.core.sensitive import register_sensitive_field

pytestmark = pytest.mark.django_db

KEY = "testapp.scopedrecord.name"


@pytest.fixture(autouse=True)
def _name_is_sensitive():
    """Registered for these tests only: a global registration would make every "name" look
    like a phone number to the audit log's masking in the rest of the suite."""
    from credo.core.sensitive import sensitive_registry

    register_sensitive_field(KEY, "名称", "phone")
    yield
    sensitive_registry.unregister(KEY)


def test_user_create_generates_strong_password_and_audits(org, admin_user, system_roles):
    user, pwd = services.user_create(
        username="newbie",
        display_name="新人",
        org_unit=org["team_a"],
        roles=[system_roles["account_manager"]],
        actor=admin_user,
    )
    assert len(pwd) >= 12 and user.check_password(pwd)
    assert user.team == org["team_a"]
    assert user.role_codes == {"account_manager"}
    entry = AuditEntry.objects.get(action="user.create")
    assert entry.actor_id == admin_user.pk
    assert entry.changes["username"]["after"] == "newbie"
    assert entry.changes["roles"]["after"] == ["account_manager"]
    assert pwd not in str(entry.changes) + str(entry.metadata)


def test_user_create_rejects_weak_password_and_duplicates(org, admin_user):
    with pytest.raises(AccountsError, match="密码"):
        services.user_create(
            username="weak",
            display_name="弱",
            org_unit=None,
            roles=[],
            password="abcdefgh",
            actor=admin_user,
        )
    assert not User.objects.filter(username="weak").exists()
    with pytest.raises(AccountsError, match="已存在"):
        services.user_create(
            username="SYSADMIN", display_name="x", org_unit=None, roles=[], actor=admin_user
        )


def test_only_superuser_grants_superuser(org, admin_user):
    with pytest.raises(AccountsError):
        services.user_create(
            username="x1",
            display_name="x",
            org_unit=None,
            roles=[],
            is_superuser=True,
            actor=admin_user,
        )


def test_user_update_set_active_and_password(org, admin_user, owner, system_roles):
    services.user_update(
        user=owner,
        display_name="张三",
        org_unit=org["team_b"],
        roles=[system_roles["team_lead"]],
        actor=admin_user,
    )
    owner.refresh_from_db()
    assert owner.display_name == "张三" and owner.org_unit == org["team_b"]
    entry = AuditEntry.objects.get(action="user.update")
    assert entry.changes["org_unit"] == {"before": "ty-a", "after": "ty-b"}

    services.user_set_active(user=owner, is_active=False, actor=admin_user)
    owner.refresh_from_db()
    assert not owner.is_active
    assert AuditEntry.objects.filter(action="user.deactivate").exists()
    with pytest.raises(AccountsError):
        services.user_set_active(user=admin_user, is_active=False, actor=admin_user)

    pwd = services.user_set_password(user=owner, password="N3w-Secret-Pass!", actor=admin_user)
    owner.refresh_from_db()
    assert owner.check_password(pwd)
    assert "N3w-Secret" not in str(AuditEntry.objects.get(action="user.set_password").metadata)


def test_role_create_and_update(admin_user):
    perm = Permission.objects.get(codename="manage_users")
    role = services.role_create(
        code="auditor",
        name="审计员",
        description="",
        data_scope=DataScope.BRANCH,
        permissions=[perm],
        actor=admin_user,
    )
    assert list(role.permissions.all()) == [perm]
    services.role_update(
        role=role,
        code="auditor2",
        name="审计员2",
        description="d",
        data_scope=DataScope.ALL,
        permissions=[],
        actor=admin_user,
    )
    role.refresh_from_db()
    assert (role.code, role.data_scope, role.permissions.count()) == ("auditor2", "all", 0)
    entry = AuditEntry.objects.get(action="role.update")
    assert entry.changes["permissions"] == {"before": ["accounts.manage_users"], "after": []}


def test_system_role_code_locked_but_perms_editable(admin_user, system_roles):
    fin = system_roles["finance"]
    with pytest.raises(AccountsError, match="编码"):
        services.role_update(
            role=fin,
            code="money",
            name=fin.name,
            description="",
            data_scope=fin.data_scope,
            permissions=[],
            actor=admin_user,
        )
    perm = Permission.objects.get(codename="view_audit_log")
    services.role_update(
        role=fin,
        name="财务部",
        description="",
        data_scope=fin.data_scope,
        permissions=[perm],
        actor=admin_user,
    )
    fin.refresh_from_db()
    assert fin.code == "finance" and fin.name == "财务部"
    assert list(fin.permissions.all()) == [perm]


def test_orgunit_parent_rules(org, admin_user):
    team = services.orgunit_create(
        code="ty-c", name="太原三组", kind=OrgUnit.Kind.TEAM, parent=org["b1"], actor=admin_user
    )
    assert team.branch == org["b1"]
    with pytest.raises(AccountsError, match="分支机构"):
        services.orgunit_create(
            code="bad", name="坏", kind=OrgUnit.Kind.TEAM, parent=org["head"], actor=admin_user
        )
    with pytest.raises(AccountsError, match="总部"):
        services.orgunit_create(
            code="bad2", name="坏2", kind=OrgUnit.Kind.BRANCH, parent=None, actor=admin_user
        )
    services.orgunit_update(unit=team, name="太原三组", parent=org["b2"], actor=admin_user)
    team.refresh_from_db()
    assert team.branch == org["b2"]
    with pytest.raises(AccountsError):
        services.orgunit_update(unit=team, name="x", parent=org["team_a"], actor=admin_user)
    assert AuditEntry.objects.filter(action__startswith="orgunit.").count() == 2


def test_orgunit_cannot_be_deactivated_with_members(org, owner, admin_user):
    with pytest.raises(AccountsError, match="用户"):
        services.orgunit_update(
            unit=org["team_a"], name="x", parent=org["b1"], is_active=False, actor=admin_user
        )


def test_field_permission_set(admin_user, manager_role):
    services.field_permission_set(
        role=manager_role, field_key=KEY, can_view=False, can_edit=True, actor=admin_user
    )
    row = FieldPermission.objects.get(role=manager_role, field_key=KEY)
    assert row.can_view and row.can_edit  # edit implies view
    services.field_permission_set(
        role=manager_role, field_key=KEY, can_view=False, can_edit=False, actor=admin_user
    )
    assert not FieldPermission.objects.exists()
    assert AuditEntry.objects.filter(action="field_permission.set").count() == 2
    with pytest.raises(AccountsError):
        services.field_permission_set(
            role=manager_role, field_key="x.y.z", can_view=True, can_edit=False, actor=admin_user
        )
    assert Role.objects.filter(pk=manager_role.pk).exists()
