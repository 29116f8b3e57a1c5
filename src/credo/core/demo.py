"""Demo data seeding (``credo seed_demo``). Each app registers a seeder; ``make demo`` runs them.

Seeders must be idempotent: ``make demo`` may run many times against the same database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from credo.core.registry import Registry

Seeder = Callable[["DemoContext"], None]


@dataclass
class DemoContext:
    users: dict[str, Any]  # role code -> demo user
    org: dict[str, Any]  # org unit code -> OrgUnit
    out: Callable[[str], None]


#: name → (order, seeder); the first registration of a name wins.
demo_seeders: Registry[tuple[int, Seeder]] = Registry("demo seeders", on_duplicate="keep")


def register_seeder(name: str, seeder: Seeder, *, order: int = 100) -> None:
    demo_seeders.register(name, (order, seeder))


def seeders() -> list[tuple[str, Seeder]]:
    ordered = sorted(demo_seeders.items(), key=lambda item: (item[1][0], item[0]))
    return [(name, fn) for name, (_order, fn) in ordered]


def add_production_guard(parser: Any) -> None:
    """``--allow-production`` for commands that write demo data."""
    parser.add_argument(
        "--allow-production",
        action="store_true",
        help="Seed even when CREDO_ENVIRONMENT=production (never on a real lender's data).",
    )


def refuse_in_production(command: str, options: dict[str, Any]) -> None:
    """Demo data (printed passwords, invented customers) never goes into a real lender's book."""
    from django.conf import settings
    from django.core.management.base import CommandError

    if settings.ENVIRONMENT == "production" and not options.get("allow_production"):
        raise CommandError(
            f"{command} refuses to run with CREDO_ENVIRONMENT=production: demo data has no "
            "place on a production system (use --allow-production on a throwaway copy only)."
        )
