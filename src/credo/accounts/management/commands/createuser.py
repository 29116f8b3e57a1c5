"""``credo createuser --username U --role CODE [--role CODE2] [--org CODE] [--display-name NAME]
[--email E] [--password-file PATH | --password P] [--superuser]``.

README.md and docs/deployment.md show this same synopsis (a test checks they agree).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credo.accounts import services
from credo.accounts.errors import AccountsError
from credo.accounts.models import OrgUnit, Role


class Command(BaseCommand):
    help = "创建用户（密码未指定时自动生成并打印一次）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True, help="用户名")
        parser.add_argument(
            "--role", action="append", default=[], dest="roles", help="角色编码，可重复"
        )
        parser.add_argument("--org", default=None, help="所属机构/团队编码")
        parser.add_argument("--display-name", default="", help="姓名")
        parser.add_argument("--email", default="", help="电子邮箱")
        secret = parser.add_mutually_exclusive_group()
        secret.add_argument("--password", default=None, help="密码（不指定则自动生成）")
        secret.add_argument(
            "--password-file",
            default=None,
            help="从文件读取密码（不会出现在进程列表和命令历史中）",
        )
        parser.add_argument("--superuser", action="store_true", help="授予超级管理员身份")

    def handle(self, *args: Any, **options: Any) -> None:
        roles: list[Role] = []
        for code in options["roles"]:
            role = Role.objects.filter(code=code).first()
            if role is None:
                known = "、".join(Role.objects.order_by("id").values_list("code", flat=True))
                raise CommandError(f"未知角色：{code}（可用角色：{known}）")
            roles.append(role)
        if not roles and not options["superuser"]:
            raise CommandError("请至少指定一个 --role，或使用 --superuser。")
        org: OrgUnit | None = None
        if options["org"]:
            org = OrgUnit.objects.filter(code=options["org"]).first()
            if org is None:
                raise CommandError(f"未知机构：{options['org']}")
        given = options["password"]
        if options["password_file"]:
            try:
                given = Path(options["password_file"]).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise CommandError(f"无法读取密码文件 {options['password_file']}：{exc}") from exc
            if not given:
                raise CommandError(f"密码文件 {options['password_file']} 为空。")
        try:
            user, password = services.user_create(
                username=options["username"],
                display_name=options["display_name"] or options["username"],
                org_unit=org,
                roles=roles,
                password=given,
                email=options["email"],
                is_superuser=options["superuser"],
                actor=None,
            )
        except AccountsError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"已创建用户 {user.username}"))
        if given is None:
            self.stdout.write(f"初始密码：{password}")
