"""``credo docs roles|transitions``: regenerate docs/roles.md or docs/transitions.md from the
registrations (``--check`` only reports whether the file is up to date)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from credo.accounts import docs


class Command(BaseCommand):
    help = "从注册信息生成 docs/roles.md（角色权限表）或 docs/transitions.md（状态流转表）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("what", choices=sorted(docs.RENDERERS))
        parser.add_argument("--dir", default="", help="Directory to write to (default: docs/).")
        parser.add_argument(
            "--check", action="store_true", help="Fail if the file is not up to date."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        what = options["what"]
        directory = Path(options["dir"]) if options["dir"] else docs.DOCS_DIR
        path = directory / f"{what}.md"
        if options["check"]:
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != docs.RENDERERS[what]():
                raise CommandError(f"{path} is out of date: run `credo docs {what}`")
            self.stdout.write(f"{path} is up to date")
            return
        docs.write(what, directory)
        self.stdout.write(f"wrote {path}")
