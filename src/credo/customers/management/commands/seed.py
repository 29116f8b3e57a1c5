"""``credo seed --customers N``: bulk realistic Shanxi customers for demos and benchmarks."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from credo.core.demo import add_production_guard, refuse_in_production


class Command(BaseCommand):
    help = "批量生成演示客户（山西地区，校验位有效），用于演示和性能测试（仅限开发/演示环境）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--customers", type=int, required=True, help="number of customers")
        parser.add_argument("--seed", type=int, default=42, help="random seed (deterministic)")
        parser.add_argument(
            "--owner",
            action="append",
            default=[],
            metavar="USERNAME",
            help="owner username (repeatable); default: every active account_manager",
        )
        parser.add_argument("--batch", type=int, default=1000)
        parser.add_argument("--events", type=int, default=3, help="timeline events per customer")
        parser.add_argument("--no-relations", action="store_true")
        add_production_guard(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_in_production("seed", options)
        from credo.accounts.models import User
        from credo.customers.demo import generate_customers

        count = options["customers"]
        if count <= 0:
            raise CommandError("--customers must be positive")
        usernames: list[str] = options["owner"]
        qs = User.objects.filter(is_active=True).select_related("org_unit__parent")
        if usernames:
            owners = list(qs.filter(username__in=usernames).order_by("username"))
            missing = sorted(set(usernames) - {u.username for u in owners})
            if missing:
                raise CommandError(f"unknown or inactive user(s): {', '.join(missing)}")
        else:
            owners = list(qs.filter(roles__code="account_manager").distinct().order_by("username"))
            if not owners:
                raise CommandError(
                    "no active account_manager user: run `credo seed_demo` or pass --owner"
                )
        started = time.perf_counter()
        state = {"next": 10_000}

        def progress(done: int) -> None:
            if done >= state["next"] or done == count:
                elapsed = time.perf_counter() - started
                self.stdout.write(f"  {done:,} / {count:,} customers ({elapsed:.1f} s)")
                while state["next"] <= done:
                    state["next"] += 10_000

        stats = generate_customers(
            count,
            owners=owners,
            seed=options["seed"],
            batch=options["batch"],
            with_relations=not options["no_relations"],
            events_per_customer=options["events"],
            progress=progress,
        )
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"created {stats.customers:,} customers ({stats.enterprises:,} enterprises, "
                f"{stats.individuals:,} individuals), {stats.relations:,} relations, "
                f"{stats.events:,} events for {len(owners)} owner(s) in {elapsed:.1f} s "
                f"({stats.customers / max(elapsed, 1e-9):,.0f}/s)"
            )
        )
