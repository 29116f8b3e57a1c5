"""``credo scorecard train|list|publish|retire|psi``: the scorecard from the command line.

    credo scorecard train --csv FILE --target COLUMN --bad-value V [--json] [--publish]
    credo scorecard train --book [--dpd 30] [--months 12] [--json]
    credo scorecard list
    credo scorecard publish N        # N = version number
    credo scorecard psi [--month YYYY-MM]

Training runs in this process (no worker needed) and stores the version like the page does.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

PARAMS = (
    "base_score",
    "base_odds",
    "pdo",
    "max_bins",
    "min_bin_share",
    "min_iv",
    "max_corr",
    "max_features",
    "holdout",
    "seed",
    "grade_cuts",
)


class Command(BaseCommand):
    help = "Scorecards: train (CSV or the loan book), list, publish, retire, monthly PSI."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser("train", help="train a new version (stored as a draft)")
        src = train.add_mutually_exclusive_group(required=True)
        src.add_argument("--csv", help="CSV file (UTF-8 or GBK) with a header row")
        src.add_argument("--book", action="store_true", help="the lender's own loan history")
        train.add_argument("--target", default="", help="CSV: column holding the outcome")
        train.add_argument("--bad-value", default="", help="CSV: value of a bad outcome, e.g. 1")
        train.add_argument("--dpd", type=int, default=30, help="book: bad = ever DPD ≥ this")
        train.add_argument("--months", type=int, default=12, help="book: within N months")
        train.add_argument("--name", default="")
        for name in PARAMS:
            train.add_argument("--" + name.replace("_", "-"), dest=name, default=None)
        train.add_argument("--json", action="store_true", help="print the metrics as JSON")
        train.add_argument("--publish", action="store_true", help="publish when training works")
        sub.add_parser("list", help="list versions")
        for action in ("publish", "retire"):
            p = sub.add_parser(action, help=f"{action} a version")
            p.add_argument("number", type=int)
        psi = sub.add_parser("psi", help="stability of a month's scores (default: last month)")
        psi.add_argument("--month", default="", help="YYYY-MM")

    def handle(self, *args: Any, **options: Any) -> None:
        from credo.scorecard import services
        from credo.scorecard.errors import ScorecardError
        from credo.scorecard.models import Scorecard

        action = options["action"]
        try:
            if action == "train":
                self._train(options)
            elif action == "list":
                for card in Scorecard.objects.order_by("number"):
                    auc = f"{card.auc:.3f}" if card.auc is not None else "-"
                    self.stdout.write(
                        f"v{card.number}\t{card.status}\t{card.rows} rows\tAUC {auc}\t{card.name}"
                    )
            elif action in ("publish", "retire"):
                version = Scorecard.objects.filter(number=options["number"]).first()
                if version is None:
                    raise CommandError(f"no scorecard version {options['number']}")
                if action == "publish":
                    services.scorecard_publish(scorecard=version, actor=None)
                else:
                    services.scorecard_retire(scorecard=version, actor=None)
                self.stdout.write(f"v{version.number}: {action}ed")
            else:
                month = None
                if options["month"]:
                    try:
                        month = dt.date.fromisoformat(options["month"] + "-01")
                    except ValueError:
                        raise CommandError("--month must be YYYY-MM") from None
                check = services.psi_check(month)
                if check is None:
                    self.stdout.write("no published scorecard")
                else:
                    psi = "-" if check.psi is None else f"{check.psi:.4f}"
                    self.stdout.write(
                        f"{check.month:%Y-%m}: n={check.n} PSI={psi} "
                        f"{'ALERT' if check.alerted else ''} {check.note}".rstrip()
                    )
        except ScorecardError as exc:
            raise CommandError(exc.message) from None

    def _train(self, options: dict[str, Any]) -> None:
        from credo.scorecard import services

        config = {k: options[k] for k in PARAMS if options.get(k) not in (None, "")}
        if options["csv"]:
            path = Path(options["csv"])
            if not path.is_file():
                raise CommandError(f"CSV file not found: {path}")
            if not options["target"]:
                raise CommandError("--target is required with --csv")
            if not options["bad_value"]:
                raise CommandError("--bad-value is required with --csv")
            card = services.scorecard_train_start(
                actor=None,
                source="csv",
                config=config,
                name=options["name"],
                csv_data=path.read_bytes(),
                csv_name=path.name,
                target=options["target"],
                bad_value=options["bad_value"],
                run=True,
            )
        else:
            config.update({"outcome_dpd": options["dpd"], "outcome_months": options["months"]})
            card = services.scorecard_train_start(
                actor=None, source="book", config=config, name=options["name"], run=True
            )
        if card.status == "failed":
            raise CommandError(f"v{card.number}: {card.error}")
        if options["publish"]:
            card = services.scorecard_publish(scorecard=card, actor=None)
        summary = services.model_card(card)
        if options["json"]:
            self.stdout.write(json.dumps(summary, ensure_ascii=False, indent=2))
            return
        h = summary["holdout"] or {}
        self.stdout.write(
            f"v{card.number} {card.status}: {card.rows} rows ({card.bads} bad), "
            f"{len(summary['features'])} features, holdout AUC {h.get('auc', 0):.3f} "
            f"KS {h.get('ks', 0):.3f} Gini {h.get('gini', 0):.3f}, {card.training_seconds}s"
        )
        for f in summary["features"]:
            self.stdout.write(f"  {f['name']}: IV {f['iv']:.3f}")
        for d in summary["dropped"] or []:
            self.stdout.write(f"  dropped {d['name']}: {d['reason']}")
