from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from credo.accounts.models import User
from credo.core.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("createuser", *args, stdout=out)
    return out.getvalue()


def test_creates_user_with_generated_password(org, system_roles):
    out = run(
        "--username",
        "li",
        "--role",
        "team_lead",
        "--role",
        "finance",
        "--org",
        "ty-a",
        "--display-name",
        "李主管",
    )
    user = User.objects.get(username="li")
    assert user.display_name == "李主管" and user.org_unit == org["team_a"]
    assert user.role_codes == {"team_lead", "finance"}
    password = out.split("初始密码：")[1].strip()
    assert user.check_password(password)
    assert AuditEntry.objects.filter(action="user.create", object_id=str(user.pk)).exists()


def test_given_password_and_superuser(system_roles):
    out = run("--username", "root2", "--superuser", "--password", "Root-Pass-2024!")
    user = User.objects.get(username="root2")
    assert user.is_superuser and user.check_password("Root-Pass-2024!")
    assert "初始密码" not in out


def test_unknown_role_and_org_are_named(org, system_roles):
    with pytest.raises(CommandError, match="未知角色：ghost"):
        run("--username", "x", "--role", "ghost")
    with pytest.raises(CommandError, match="未知机构：nowhere"):
        run("--username", "x", "--role", "finance", "--org", "nowhere")
    assert not User.objects.filter(username="x").exists()


def test_weak_password_rejected_in_chinese(system_roles):
    with pytest.raises(CommandError, match="密码"):
        run("--username", "y", "--role", "finance", "--password", "123")
