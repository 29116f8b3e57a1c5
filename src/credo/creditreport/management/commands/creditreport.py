"""``credo creditreport``: 征信报送 from the command line.

* ``generate --month 2026-11 [--user NAME] [--writer reference-text --encoding gb18030]
  [--output FILE]`` — generate the month's submission (the month must be closed); with
  ``--writer`` also export it (stored with the submission, and copied to ``--output``).
* ``export --submission ID --writer reference-xlsx [--encoding …] [--output FILE]``.
* ``corrections [--loan NUMBER]`` — compare the reported months of the loans (default: every
  reported loan) with a regeneration and queue corrections / deletions.
* ``writers`` — the registered writers and their encodings.

Without ``--user`` the action is recorded as the system's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from credo.creditreport import services
from credo.creditreport.errors import CreditReportError
from credo.creditreport.models import CreditRecord, Submission
from credo.creditreport.writers import writers


class Command(BaseCommand):
    help = "征信报送: generate, export, corrections, writers."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        g = sub.add_parser("generate", help="generate a closed month's submission")
        g.add_argument("--month", required=True, help="YYYY-MM")
        g.add_argument("--user", default="", help="the username generating it")
        g.add_argument("--writer", default="", help="also export with this writer")
        g.add_argument("--encoding", default="", help="utf-8 or gb18030")
        g.add_argument("--output", default="", help="copy the exported file here")
        e = sub.add_parser("export", help="export a submission")
        e.add_argument("--submission", type=int, required=True)
        e.add_argument("--writer", default="reference-text")
        e.add_argument("--encoding", default="")
        e.add_argument("--user", default="")
        e.add_argument("--output", default="")
        c = sub.add_parser("corrections", help="queue corrections of reported months")
        c.add_argument("--loan", default="", help="a loan number (default: every reported loan)")
        sub.add_parser("writers", help="list the writers")

    def _user(self, name: str) -> Any:
        if not name:
            return None
        user = get_user_model().objects.filter(username=name).first()
        if user is None:
            raise CommandError(f"用户 {name} 不存在。")
        return user

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"])(options)
        except CreditReportError as exc:
            raise CommandError(exc.message) from None

    def _export(self, options: dict[str, Any], sub: Submission | None = None) -> None:
        if sub is None:
            sub = Submission.objects.filter(pk=options["submission"]).first()
            if sub is None:
                raise CommandError(f"报送批次 {options['submission']} 不存在。")
        f = services.submission_export(
            submission=sub,
            writer=options["writer"],
            encoding=options["encoding"],
            actor=self._user(options["user"]),
        )
        if options["output"]:
            Path(options["output"]).write_bytes(services.file_path(f).read_bytes())
        self.stdout.write(f"{f.file_name} {f.size} bytes sha256={f.sha256}")

    def _generate(self, options: dict[str, Any]) -> None:
        month = services.parse_month(options["month"])
        sub = services.submission_generate(month=month, actor=self._user(options["user"]))
        self.stdout.write(
            json.dumps(
                {"submission": sub.pk, "month": sub.label, **sub.counts, "seconds": sub.seconds},
                ensure_ascii=False,
            )
        )
        if options["writer"]:
            self._export(options, sub)

    def _corrections(self, options: dict[str, Any]) -> None:
        from credo.lending.models import Loan

        qs = CreditRecord.objects.exclude(submission__status=Submission.Status.CANCELLED)
        if options["loan"]:
            loan = Loan.objects.filter(number=options["loan"]).first()
            if loan is None:
                raise CommandError(f"贷款 {options['loan']} 不存在。")
            qs = qs.filter(loan=loan)
        ids = list(qs.values_list("loan_id", flat=True).distinct())
        counts = services.corrections_for_loans(loan_ids=ids, actor=None)
        self.stdout.write(json.dumps(counts, ensure_ascii=False))

    def _writers(self, options: dict[str, Any]) -> None:
        for w in writers:
            self.stdout.write(f"{w.key}\t{w.label}\t.{w.extension}\t{','.join(w.encodings)}")
