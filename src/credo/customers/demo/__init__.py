"""Realistic Shanxi demo/benchmark customers, generated deterministically (``random.Random``).

``generate_customers(n, owners=[...])`` bulk-creates ``n`` customers (≈60 % enterprises with
valid 统一社会信用代码, ≈40 % individuals with valid 身份证号), spread round-robin over the
owners (team/branch from the owner), with some relations, timeline events and risk flags.
It is used by ``credo seed --customers N``, the demo seeder and the benchmarks. No audit row
per customer: one ``customer.seed`` entry per run.

Submodules: ``names`` (the vocabulary) and ``generate``; the demo seeder lives here.
"""

from __future__ import annotations

from typing import Any

from credo.customers.demo.generate import (
    GenerateStats,
    generate_customers,
    make_id_number,
    make_uscc,
)
from credo.customers.models import Customer

__all__ = [
    "DEMO_COUNT",
    "GenerateStats",
    "generate_customers",
    "make_id_number",
    "make_uscc",
    "register",
    "seed_demo_customers",
]

# --- the demo seeder (``credo seed_demo``) -----------------------------------------------------
DEMO_COUNT = 2000


def seed_demo_customers(ctx: Any) -> None:
    """~2,000 customers for the demo account managers; skipped when customers exist."""
    from credo.accounts.models import User

    if Customer.objects.exists():
        ctx.out("  customers: already present, skipped")
        return
    owners = list(
        User.objects.filter(roles__code="account_manager", is_active=True)
        .select_related("org_unit__parent")
        .distinct()
        .order_by("username")
    )
    if not owners and "account_manager" in ctx.users:
        owners = [ctx.users["account_manager"]]
    if not owners:
        ctx.out("  customers: no account_manager user, skipped")
        return
    stats = generate_customers(DEMO_COUNT, owners=owners, seed=2024, batch=500)
    ctx.out(
        f"  customers: {stats.customers} created ({stats.enterprises} enterprises, "
        f"{stats.individuals} individuals, {stats.relations} relations)"
    )


def register() -> None:
    """Call from ``CustomersConfig.ready()``."""
    from credo.core.demo import register_seeder

    register_seeder("customers", seed_demo_customers, order=20)
