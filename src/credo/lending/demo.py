"""Demo loan book (``make demo``): products, ~200 disbursed loans over the last 20 months and
their repayment history, then one close of business and the month-end history for reports.

Whether a borrower stops paying depends on its profile (industry, registered capital, age of
business, risk flags, loan size against capital) through a fixed logistic formula, so the
history has the kind of signal a lender's real book has (the scorecard trains on it).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from credo.core import clock
from credo.core.money import Money
from credo.core.registry import Registry

DEMO_LOANS = 200
# Called with today's date once the demo book is disbursed and closed (upper apps register:
# lending imports no report, collection or monitoring code).
BookSeededHook = Callable[[dt.date], None]
book_seeded_hooks: Registry[BookSeededHook] = Registry("demo book seeded", on_duplicate="keep")
RISKY_INDUSTRIES = {"F": 0.6, "H": 0.8, "E": 0.5, "K": 0.9, "L": 0.4}  # 批发零售, 住宿餐饮, …


def default_probability(customer: Any, principal_yuan: int, rng: random.Random) -> float:
    """Chance the borrower stops paying at some point (the demo's hidden truth)."""
    score = -2.6
    score += RISKY_INDUSTRIES.get(customer.industry or "", 0.0)
    capital = customer.registered_capital.yuan if customer.registered_capital else Decimal(0)
    if customer.kind == "enterprise":
        if capital < 1_000_000:
            score += 0.7
        if capital and principal_yuan / float(capital) > 0.5:
            score += 0.6
        if customer.founded_on and (clock.today() - customer.founded_on).days < 3 * 365:
            score += 0.6
    else:
        score += 0.3
    if customer.risk_flags:
        score += 1.2
    score += rng.gauss(0, 0.3)
    return 1 / (1 + math.exp(-score))


def _products() -> list[Any]:
    from credo.lending.models import Product, ProductVersion

    specs = [
        ("jyd", "经营贷", "equal_installment", 12, 36, 100_000, 3_000_000, "6", "14"),
        ("xfd", "个人消费贷", "equal_principal", 6, 24, 20_000, 300_000, "8", "18"),
    ]
    versions = []
    for code, name, method, m_lo, m_hi, a_lo, a_hi, r_lo, r_hi in specs:
        product, _created = Product.objects.get_or_create(code=code, defaults={"name": name})
        pv = product.versions.filter(status="published").first()
        if pv is None:
            # django-stubs types MoneyField as an int field; Money is what it stores.
            pv = ProductVersion.objects.create(  # type: ignore[misc]
                product=product,
                number=1,
                status="published",
                min_amount=Money(a_lo),
                max_amount=Money(a_hi),
                min_months=m_lo,
                max_months=m_hi,
                min_rate=Decimal(r_lo),
                max_rate=Decimal(r_hi),
                method=method,
                penalty_multiplier=Decimal("1.5"),
                grace_days=3,
                allocation_order=["penalty", "fee", "interest", "principal"],
                required_documents=[
                    "营业执照",
                    "法定代表人身份证",
                    "近一年财务报表",
                    "近六个月银行流水",
                ]
                if code == "jyd"
                else ["身份证", "收入证明", "近六个月银行流水"],
            )
        versions.append(pv)
    return versions


@contextmanager
def _history_entry(user: Any) -> Iterator[Any]:
    """The demo book is history keyed in today, as when a lender migrates its existing book:
    each loan is recorded as created before its value date and disbursed back-dated by a user
    holding ``lending.backdate_disbursement``. The grant is withdrawn afterwards, so the demo's
    finance user keeps the default rights (no back-dating)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    perm = Permission.objects.get(
        content_type__app_label="lending", codename="backdate_disbursement"
    )
    had = user.user_permissions.filter(pk=perm.pk).exists()
    user.user_permissions.add(perm)
    try:
        yield get_user_model().objects.get(pk=user.pk)  # a fresh permission cache
    finally:
        if not had:
            user.user_permissions.remove(perm)


def seed_demo_loans(ctx: Any) -> None:
    from credo.customers.models import Customer
    from credo.lending.eod import run_eod
    from credo.lending.models import Loan

    if Loan.objects.exists():
        ctx.out("  loans: already present, skipped")
        return
    finance = ctx.users.get("finance")
    if finance is None:
        ctx.out("  loans: no finance user, skipped")
        return
    rng = random.Random(2026)  # noqa: S311 — demo data
    business, consumer = _products()
    today = clock.today()
    customers = list(
        Customer.objects.filter(status="active").select_related("owner").order_by("id")
    )
    rng.shuffle(customers)
    with _history_entry(finance) as clerk:
        created, postings = _seed_book(customers[:DEMO_LOANS], business, consumer, clerk, rng)
    run_eod(today - dt.timedelta(days=1))
    for hook in book_seeded_hooks:  # e.g. reports: the month-end history of the new book
        hook(today)
    overdue = Loan.objects.filter(dpd__gt=0).count()
    ctx.out(f"  loans: {created} disbursed, {postings} repayments, {overdue} overdue after EOD")


def _seed_book(
    customers: list[Any], business: Any, consumer: Any, finance: Any, rng: random.Random
) -> tuple[int, int]:
    from django.utils import timezone

    from credo.lending import services
    from credo.lending.models import Loan

    today = clock.today()
    created = postings = 0
    for customer in customers:
        pv = business if customer.kind == "enterprise" else consumer
        months = rng.choice([m for m in (6, 12, 24, 36) if pv.min_months <= m <= pv.max_months])
        lo, hi = int(pv.min_amount.yuan), int(pv.max_amount.yuan)
        principal = rng.randrange(lo, min(hi, lo * 20), 10_000)
        start = today - dt.timedelta(days=rng.randint(20, 600))
        rate = (
            Decimal(rng.choice(["7.2", "8.5", "9.6", "12", "14.4"]))
            .min(pv.max_rate)
            .max(pv.min_rate)
        )
        loan = services.loan_create(
            customer=customer,
            product_version=pv,
            principal=Money(principal),
            annual_rate=rate,
            months=months,
            actor=customer.owner,
        )
        # Recorded when it was booked, a few days before its value date (see _history_entry).
        booked = dt.datetime.combine(start - dt.timedelta(days=rng.randint(1, 10)), dt.time(10))
        Loan.objects.filter(pk=loan.pk).update(
            created_at=timezone.make_aware(booked, timezone.get_current_timezone())
        )
        loan = services.loan_disburse(loan=loan, actor=finance, value_date=start)
        created += 1
        p_default = default_probability(customer, principal, rng)
        stop_at = None
        if rng.random() < p_default:
            stop_at = rng.randint(1, max(1, months // 2))
        for inst in loan.installments.order_by("period"):
            if inst.due_date >= today - dt.timedelta(days=1) or (
                stop_at and inst.period >= stop_at
            ):
                break
            delay = rng.choice([0, 0, 0, 0, 1, 2]) if p_default < 0.2 else rng.choice([0, 3, 8, 20])
            paid_on = min(inst.due_date + dt.timedelta(days=delay), today - dt.timedelta(days=1))
            due = inst.principal_due.fen + inst.interest_due.fen + inst.fee_due.fen
            services.repayment_post(
                loan=loan,
                amount=Money.from_fen(due),
                received_on=paid_on,
                actor=finance,
                reference="演示数据",
            )
            postings += 1
    return created, postings


def register_book_seeded_hook(key: str, hook: BookSeededHook) -> None:
    """``hook(today)`` after :func:`seed_demo_loans` created the demo book."""
    book_seeded_hooks.register(key, hook)


def register() -> None:
    from credo.core.demo import register_seeder

    register_seeder("lending", seed_demo_loans, order=40)


register()
