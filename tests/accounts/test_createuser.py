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


def _documented_createuser() -> tuple[str, str]:
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    deployment = (root / "docs" / "deployment.md").read_text(encoding="utf-8")
    synopsis = re.search(r"`(credo createuser [^`]+)`", readme).group(1).replace("\\|", "|")
    example = re.search(r"^\s*(credo createuser .+)$", deployment, re.M).group(1)
    return synopsis, example


def test_documents_and_command_agree(system_roles, tmp_path):
    """README's synopsis and deployment.md's example use the options the command has
    (issue 15, item 16: the guide said --org-unit/--name, which did not exist)."""
    import re
    import shlex

    from credo.accounts.management.commands.createuser import Command

    synopsis, example = _documented_createuser()
    parser = Command().create_parser("credo", "createuser")
    known = {opt for action in parser._actions for opt in action.option_strings}
    documented = set(re.findall(r"--[a-z-]+", synopsis)) | set(re.findall(r"--[a-z-]+", example))
    assert documented <= known, documented - known

    pw = tmp_path / "pw"
    pw.write_text("Zz9!documented-Password\n", encoding="utf-8")
    args = shlex.split(example)[2:]
    args[args.index("--password-file") + 1] = str(pw)
    run(*args)
    user = User.objects.get(username="admin")
    assert user.check_password("Zz9!documented-Password")
    assert user.display_name == "系统管理员"


def test_password_file_missing_or_empty_is_refused(system_roles, tmp_path):
    with pytest.raises(CommandError, match="无法读取密码文件"):
        run("--username", "x1", "--role", "finance", "--password-file", str(tmp_path / "nope"))
    empty = tmp_path / "empty"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(CommandError, match="为空"):
        run("--username", "x1", "--role", "finance", "--password-file", str(empty))
    assert not User.objects.filter(username="x1").exists()
