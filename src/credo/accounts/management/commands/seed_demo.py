"""``credo seed_demo``: demo organisation, one user per role, then every app's demo data.

Idempotent: running ``make demo`` again keeps existing users and their passwords. Passwords are
generated on first creation and kept in ``$CREDO_DATA_DIR/demo-credentials.json`` (mode 0600) so
they can be printed again; a well-known demo password would be a risk if a demo database were
ever exposed.

Lives in the accounts app (it creates users and org units; core must not import accounts); the
apps' seeders come from core's registry (:func:`credo.core.demo.register_seeder`).
"""

from __future__ import annotations

import json
import os
import secrets
import string
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from credo.accounts import services
from credo.accounts.models import OrgUnit, Role, User
from credo.accounts.roles import ensure_default_roles
from credo.core.demo import DemoContext, add_production_guard, refuse_in_production, seeders

# (code, name, kind, parent code, region code)
DEMO_ORG = [
    ("hq", "总部", "head_office", None, "140000"),
    ("ty", "太原分公司", "branch", "hq", "140100"),
    ("dt", "大同分公司", "branch", "hq", "140200"),
    ("ty-a", "太原一组", "team", "ty", "140100"),
    ("ty-b", "太原二组", "team", "ty", "140100"),
    ("dt-a", "大同一组", "team", "dt", "140200"),
]

# (username, display name, role code, org unit code)
DEMO_USERS = [
    ("admin", "系统管理员", "admin", "hq"),
    ("zhangwei", "张伟", "account_manager", "ty-a"),
    ("lina", "李娜", "account_manager", "ty-a"),
    ("wangfang", "王芳", "account_manager", "dt-a"),
    ("zhaolei", "赵磊", "team_lead", "ty-a"),
    ("chenjing", "陈静", "risk_analyst", "ty"),
    ("liuyang", "刘洋", "risk_manager", "ty"),
    ("sunli", "孙丽", "credit_committee", "hq"),
    ("zhoumin", "周敏", "finance", "hq"),
    ("wuqiang", "吴强", "collector_junior", "ty-a"),
    ("zhengtao", "郑涛", "collector_senior", "ty"),
    ("qianhui", "钱慧", "management", "hq"),
    ("fengyu", "冯雨", "privacy_officer", "hq"),
]


def _password() -> str:
    # Satisfies the policy: three character classes, well over the minimum length.
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"Cd{body}-{secrets.randbelow(90) + 10}"


class Command(BaseCommand):
    help = "创建演示机构、每个角色的演示用户和各模块的演示数据（仅限开发/演示环境）。"

    def add_arguments(self, parser: Any) -> None:
        add_production_guard(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_in_production("seed_demo", options)
        ensure_default_roles()
        cred_path = Path(settings.DATA_DIR) / "demo-credentials.json"
        stored: dict[str, str] = {}
        if cred_path.exists():
            stored = json.loads(cred_path.read_text(encoding="utf-8"))

        with transaction.atomic():
            org: dict[str, OrgUnit] = {}
            for code, name, kind, parent, region in DEMO_ORG:
                unit, _ = OrgUnit.objects.get_or_create(
                    code=code,
                    defaults={
                        "name": name,
                        "kind": kind,
                        "parent": org.get(parent) if parent else None,
                        "region_code": region,
                    },
                )
                org[code] = unit

            users: dict[str, User] = {}
            rows = []
            for username, display, role_code, unit_code in DEMO_USERS:
                user = User.objects.filter(username=username).first()
                if user is None:
                    password = _password()
                    user = self._create_user(
                        username, display, role_code, org[unit_code], password, Role
                    )
                    stored[username] = password
                password_text = stored.get(username, "（已存在，密码未变）")
                users.setdefault(role_code, user)
                rows.append((username, display, role_code, unit_code, password_text))

        cred_path.parent.mkdir(parents=True, exist_ok=True)
        cred_path.write_text(json.dumps(stored, ensure_ascii=False, indent=2), encoding="utf-8")
        os.chmod(cred_path, 0o600)

        ctx = DemoContext(users=users, org=org, out=self.stdout.write)
        for name, seeder in seeders():
            self.stdout.write(f"seeding {name} …")
            seeder(ctx)

        self.stdout.write("")
        self.stdout.write("演示用户 / demo users (username / password / role / org unit):")
        for username, display, role_code, unit_code, password_text in rows:
            self.stdout.write(
                f"  {username:<10} {password_text:<18} {role_code:<17} {unit_code:<5} {display}"
            )
        self.stdout.write(f"(passwords kept in {cred_path})")

    def _create_user(
        self, username: str, display: str, role_code: str, unit: Any, password: str, role_model: Any
    ) -> Any:
        role = role_model.objects.get(code=role_code)
        user, _password_used = services.user_create(
            username=username,
            display_name=display,
            org_unit=unit,
            roles=[role],
            password=password,
            actor=None,
        )
        return user
