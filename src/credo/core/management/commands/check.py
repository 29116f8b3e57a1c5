"""``credo check``: Django's system checks plus Credo's configuration report.

Exit status 1 when anything is an error (missing/weak secret key, bad encryption keys, DEBUG
in production, unreachable database, and with ``--deploy`` the lender's identity missing). Each line names the variable to fix.
"""

from __future__ import annotations

from typing import Any

from django.core.management import CommandError
from django.core.management.commands.check import Command as DjangoCheck

from credo.core.checks import ERROR, WARNING, config_report


class Command(DjangoCheck):
    help = "Report misconfiguration (settings, keys, database) and run Django's system checks."

    def handle(self, *app_labels: Any, **options: Any) -> None:
        findings = config_report(deploy=bool(options.get("deploy")))
        marks = {ERROR: "ERROR", WARNING: "WARN ", "ok": "ok   "}
        self.stdout.write("Credo configuration:")
        for f in findings:
            name = f" [{f.variable}]" if f.variable else ""
            self.stdout.write(f"  {marks[f.level]} {f.code}{name} {f.message}")
        errors = [f for f in findings if f.level == ERROR]
        try:
            super().handle(*app_labels, **options)
        except CommandError:
            if not errors:
                raise
        if errors:
            raise CommandError(f"{len(errors)} configuration error(s); see above.")
