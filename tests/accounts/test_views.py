from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from credo.accounts.models import FieldPermission, OrgUnit, Role, User
from credo.core.audit.models import AuditEntry
from credo.core.sensitive import register_sensitive_field
from tests.factories import PASSWORD, UserFactory

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


ADMIN_PAGES = [
    ("accounts:user_list", None),
    ("accounts:user_create", None),
    ("accounts:role_list", None),
    ("accounts:role_create", None),
    ("accounts:field_permissions", None),
    ("accounts:orgunit_list", None),
    ("accounts:orgunit_create", None),
]


@pytest.mark.parametrize(("name", "arg"), ADMIN_PAGES)
def test_admin_pages_forbidden_without_permission(client, owner, name, arg):
    client.force_login(owner)
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize(("name", "arg"), ADMIN_PAGES)
def test_admin_pages_render_for_admin(admin_client, name, arg):
    resp = admin_client.get(reverse(name))
    assert resp.status_code == 200
    assert "<script>" not in resp.content.decode()


def test_anonymous_redirected_to_login(client):
    resp = client.get(reverse("accounts:user_list"))
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]


def test_user_list_search_and_pagination(admin_client, org):
    for i in range(25):
        UserFactory(username=f"bulk{i:02d}", display_name=f"批量{i}")
    resp = admin_client.get(reverse("accounts:user_list"))
    assert len(resp.context["page"].object_list) == 20
    resp = admin_client.get(reverse("accounts:user_list"), {"q": "批量7"})
    assert [u.username for u in resp.context["page"].object_list] == ["bulk07"]
    resp = admin_client.get(reverse("accounts:user_list"), {"q": "nobody-here"})
    assert "没有找到匹配的用户" in resp.content.decode()


def test_create_user_via_form(admin_client, org, system_roles):
    resp = admin_client.post(
        reverse("accounts:user_create"),
        {
            "username": "zhao",
            "display_name": "赵六",
            "employee_no": "E007",
            "email": "",
            "org_unit": org["team_a"].pk,
            "roles": [system_roles["account_manager"].pk],
            "password": "",
        },
        follow=True,
    )
    assert resp.status_code == 200
    user = User.objects.get(username="zhao")
    assert user.org_unit == org["team_a"] and user.role_codes == {"account_manager"}
    assert "初始密码" in resp.content.decode()
    assert AuditEntry.objects.filter(action="user.create", object_id=str(user.pk)).exists()


def test_create_user_weak_password_shows_chinese_error(admin_client, org):
    resp = admin_client.post(
        reverse("accounts:user_create"),
        {"username": "weak", "display_name": "弱", "password": "abc"},
    )
    assert resp.status_code == 200
    assert "密码" in resp.content.decode()
    assert not User.objects.filter(username="weak").exists()


def test_edit_user_deactivates(admin_client, owner, org, manager_role):
    resp = admin_client.post(
        reverse("accounts:user_edit", args=[owner.pk]),
        {"display_name": "张经理", "org_unit": org["team_b"].pk, "roles": [manager_role.pk]},
    )
    assert resp.status_code == 302
    owner.refresh_from_db()
    assert not owner.is_active and owner.org_unit == org["team_b"]
    assert owner.username == "owner"


def test_role_edit_system_role_keeps_code(admin_client, system_roles):
    fin = system_roles["finance"]
    perm = Permission.objects.get(codename="manage_org_units")
    resp = admin_client.get(reverse("accounts:role_edit", args=[fin.pk]))
    assert "用户与权限" in resp.content.decode()  # permissions grouped by app
    resp = admin_client.post(
        reverse("accounts:role_edit", args=[fin.pk]),
        {
            "code": "hacked",
            "name": "财务",
            "description": "",
            "data_scope": "branch",
            "permissions": [perm.pk],
        },
    )
    assert resp.status_code == 302
    fin.refresh_from_db()
    assert fin.code == "finance" and fin.data_scope == "branch"
    assert list(fin.permissions.all()) == [perm]


def test_role_create(admin_client):
    resp = admin_client.post(
        reverse("accounts:role_create"),
        {"code": "viewer", "name": "只读", "description": "", "data_scope": "own"},
    )
    assert resp.status_code == 302
    assert Role.objects.get(code="viewer").is_system is False


def test_field_permission_matrix(admin_client, manager_role):
    resp = admin_client.get(reverse("accounts:field_permissions"))
    assert "名称" in resp.content.decode()
    resp = admin_client.post(
        reverse("accounts:field_permissions"), {f"view:{manager_role.pk}:{KEY}": "on"}
    )
    assert resp.status_code == 302
    fp = FieldPermission.objects.get(role=manager_role, field_key=KEY)
    assert fp.can_view and not fp.can_edit
    admin_client.post(reverse("accounts:field_permissions"), {})
    assert not FieldPermission.objects.filter(role=manager_role).exists()


def test_orgunit_tree_and_create(admin_client, org):
    resp = admin_client.get(reverse("accounts:orgunit_list"))
    order = [row["unit"].code for row in resp.context["rows"]]
    assert order == ["hq", "dt", "dt-a", "ty", "ty-a", "ty-b"]  # depth-first: teams under branch
    depths = {row["unit"].code: row["depth"] for row in resp.context["rows"]}
    assert (depths["hq"], depths["ty"], depths["ty-a"]) == (0, 1, 2)
    resp = admin_client.post(
        reverse("accounts:orgunit_create"),
        {"code": "ty-z", "name": "太原九组", "kind": "team", "parent": org["head"].pk},
    )
    assert resp.status_code == 200 and "团队的上级必须是分支机构" in resp.content.decode()
    resp = admin_client.post(
        reverse("accounts:orgunit_create"),
        {"code": "ty-z", "name": "太原九组", "kind": "team", "parent": org["b1"].pk},
    )
    assert resp.status_code == 302
    assert OrgUnit.objects.get(code="ty-z").parent == org["b1"]


def test_profile_change_password(client, owner):
    client.force_login(owner)
    resp = client.get(reverse("accounts:profile"))
    assert "未启用" in resp.content.decode()
    resp = client.post(
        reverse("accounts:profile"),
        {"old_password": "wrong", "new_password1": "X", "new_password2": "X"},
    )
    assert "当前密码不正确" in resp.content.decode()
    resp = client.post(
        reverse("accounts:profile"),
        {
            "old_password": PASSWORD,
            "new_password1": "Brand-New-Pass-42",
            "new_password2": "Brand-New-Pass-42",
        },
    )
    assert resp.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("Brand-New-Pass-42")
    # still logged in after the change
    assert client.get(reverse("accounts:profile")).status_code == 200


def test_nav_shows_system_items_only_with_permission(admin_client, client, owner):
    html = admin_client.get(reverse("accounts:user_list")).content.decode()
    assert reverse("accounts:role_list") in html and reverse("accounts:orgunit_list") in html
    client.force_login(owner)
    html = client.get(reverse("accounts:profile")).content.decode()
    assert reverse("accounts:user_list") not in html


def test_role_form_offers_only_credo_permissions_and_keeps_others(admin_client, system_roles):
    fin = system_roles["finance"]
    framework_perm = Permission.objects.get(codename="add_logentry")
    fin.permissions.add(framework_perm)
    resp = admin_client.get(reverse("accounts:role_edit", args=[fin.pk]))
    html = resp.content.decode()
    assert "accounts.manage_users" in html and "admin.add_logentry" not in html
    admin_client.post(
        reverse("accounts:role_edit", args=[fin.pk]),
        {"code": "finance", "name": fin.name, "description": "", "data_scope": "all"},
    )
    assert list(fin.permissions.all()) == [framework_perm]
