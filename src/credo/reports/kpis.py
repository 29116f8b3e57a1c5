"""Dashboard KPIs (G1): each a small aggregate in the database, scoped to the user.

Apps add their own with :func:`register_kpi` (origination: today's applications, approval rate;
collections: collection rate of cases …). A KPI returns the value for a period and the same
value for the previous period of equal length, so the card shows the change.

Balances (point-in-time KPIs) of a closed period come only from the frozen portfolio snapshot
the close of business wrote for it; without one the previous figure is ``None`` (shown "—",
no change), never the live book — otherwise "上期" would move with every repayment today.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext_lazy as _

from credo.core import clock
from credo.core.registry import Registry
from credo.lending.states import LOAN_OPEN_STATES
from credo.reports.datasets import _num

# fn(user, start, end) → number (fen for money, Decimal fraction for pct, int for counts)
KpiFn = Callable[[Any, dt.date, dt.date], Any]


@dataclass(frozen=True)
class Kpi:
    key: str
    label: Any
    fn: KpiFn
    fmt: str = "int"  # int | money | pct
    permission: str = ""
    url: str = ""  # click-through list (a URL path; query string allowed)
    order: int = 100
    point_in_time: bool = False  # balances: value at `end`, compared with value at `start - 1`
    better: str = "up"  # "up" or "down": which direction is good (colours the change)


#: key → dashboard KPI; registering a key again replaces it.
kpi_registry: Registry[Kpi] = Registry("dashboard KPIs", on_duplicate="replace")


def register_kpi(kpi: Kpi) -> None:
    kpi_registry.register(kpi.key, kpi)


def kpis_for(user: Any) -> list[Kpi]:
    return sorted(
        (k for k in kpi_registry if not k.permission or user.has_perm(k.permission)),
        key=lambda k: (k.order, k.key),
    )


def period_bounds(period: str, today: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """(start, end, previous start, previous end) for today / this week / this month / year."""
    if period == "day":
        start = today
    elif period == "week":
        start = today - dt.timedelta(days=today.weekday())
    elif period == "year":
        start = today.replace(month=1, day=1)
    else:
        start = today.replace(day=1)
    length = (today - start).days + 1
    prev_end = start - dt.timedelta(days=1)
    prev_start = prev_end - dt.timedelta(days=length - 1)
    return start, today, prev_start, prev_end


_MEMO: contextvars.ContextVar[dict[Any, Any] | None] = contextvars.ContextVar(
    "kpi_memo", default=None
)
# The day the dashboard is computed for: only a period ending on it may fall back to the live book.
_TODAY: contextvars.ContextVar[dt.date | None] = contextvars.ContextVar("kpi_today", default=None)


def _memo(key: Any, fn: Callable[[], Any]) -> Any:
    memo = _MEMO.get()
    if memo is None:
        return fn()
    if key not in memo:
        memo[key] = fn()
    return memo[key]


def compute(user: Any, period: str, today: dt.date) -> list[dict[str, Any]]:
    token = _MEMO.set({})
    today_token = _TODAY.set(today)
    try:
        return _compute(user, period, today)
    finally:
        _TODAY.reset(today_token)
        _MEMO.reset(token)


def _compute(user: Any, period: str, today: dt.date) -> list[dict[str, Any]]:
    start, end, pstart, pend = period_bounds(period, today)
    cards = []
    for kpi in kpis_for(user):
        value = kpi.fn(user, start, end)
        previous = kpi.fn(user, pstart, pend)
        change = None
        if isinstance(value, int | Decimal) and isinstance(previous, int | Decimal) and previous:
            change = (Decimal(value) - Decimal(previous)) / abs(Decimal(previous))
        cards.append(
            {
                "key": kpi.key,
                "label": kpi.label,
                "fmt": kpi.fmt,
                "value": value,
                "previous": previous,
                "change": change,
                "good": None
                if change is None or change == 0
                else (change > 0) == (kpi.better == "up"),
                "url": kpi.url,
            }
        )
    return cards


# --- built-in KPIs over the lending core and customers -------------------------------------------
def _loans(user: Any) -> Any:
    from credo.lending.selectors import loans_for

    return loans_for(user)


def _live_book(user: Any) -> dict[str, Any]:
    agg = (
        _loans(user)
        .filter(status__in=LOAN_OPEN_STATES)
        .aggregate(
            n=Count("id"),
            bal=Sum("outstanding_principal"),
            od_n=Count("id", filter=Q(dpd__gt=0)),
            od_bal=Sum("outstanding_principal", filter=Q(dpd__gt=0)),
            m1=Sum("outstanding_principal", filter=Q(dpd__gt=30)),
            m3=Sum("outstanding_principal", filter=Q(dpd__gt=90)),
        )
    )
    return {k: _num(v) for k, v in agg.items()}


def _snapshot_book(user: Any, day: dt.date) -> dict[str, Any] | None:
    """The book as the close of business left it on the last business date ≤ ``day`` (the
    snapshot holds a few hundred rows per date instead of the whole loan table)."""
    from django.db.models import Max

    from credo.accounts.scope import scope_queryset
    from credo.reports.models import PortfolioSnapshot

    last = PortfolioSnapshot.objects.filter(business_date__lte=day).aggregate(
        m=Max("business_date")
    )["m"]
    if last is None or (day - last).days > 7:
        return None
    agg = scope_queryset(PortfolioSnapshot.objects.filter(business_date=last), user).aggregate(
        n=Sum("loans"),
        bal=Sum("outstanding"),
        od_n=Sum("overdue_loans"),
        od_bal=Sum("overdue_balance"),
        m1=Sum("m1_balance"),
        m3=Sum("m3_balance"),
    )
    return {k: _num(v) for k, v in agg.items()}


def _book_at(user: Any, day: dt.date) -> dict[str, Any] | None:
    """The book at the end of ``day``: the snapshot of the last closed business date ≤ ``day``.
    Only the current period (``day`` is today) may fall back to the live book; a past day
    without a snapshot has no figure (None)."""

    def load() -> dict[str, Any] | None:
        snap = _snapshot_book(user, day)
        if snap is not None:
            return snap
        if day >= (_TODAY.get() or clock.today()):
            return _live_book(user)
        return None

    return _memo(("book", getattr(user, "pk", None), day), load)


def _ratio(num: int, den: int) -> Decimal | None:
    return (Decimal(num) / Decimal(den)).quantize(Decimal("0.0001")) if den else None


def disbursed(user: Any, start: dt.date, end: dt.date) -> int:
    v = (
        _loans(user)
        .filter(start_date__gte=start, start_date__lte=end)
        .aggregate(s=Sum("principal"))
    )
    return int(_num(v["s"]))


def outstanding(user: Any, start: dt.date, end: dt.date) -> int | None:
    book = _book_at(user, end)
    return None if book is None else int(book["bal"])


def _rate(num_field: str, den_field: str) -> KpiFn:
    def fn(user: Any, start: dt.date, end: dt.date) -> Any:
        book = _book_at(user, end)
        if book is None:
            return None
        return _ratio(int(book[num_field]), int(book[den_field]))

    return fn


def collection_rate(user: Any, start: dt.date, end: dt.date) -> Any:
    """Of what fell due in the period, the share paid (as of the last close of business when
    the period lies in the summary window, otherwise live)."""
    from django.db.models import Max

    from credo.accounts.scope import scope_queryset
    from credo.lending.models import Installment
    from credo.reports.models import DueSummary
    from credo.reports.services import DUE_WINDOW_DAYS

    as_of = _memo("due_as_of", lambda: DueSummary.objects.aggregate(m=Max("as_of"))["m"])
    fresh = as_of is not None and end <= as_of + dt.timedelta(days=1)
    if fresh and as_of is not None and start >= as_of - dt.timedelta(days=DUE_WINDOW_DAYS):
        s = scope_queryset(
            DueSummary.objects.filter(due_date__gte=start, due_date__lte=end), user
        ).aggregate(due=Sum("due"), paid=Sum("paid"))
        return _ratio(int(_num(s["paid"])), int(_num(s["due"])))

    qs = scope_queryset(
        Installment.objects.filter(due_date__gte=start, due_date__lte=end),
        user,
        owner_field="loan__owner",
        team_field="loan__team",
        branch_field="loan__branch",
    )
    agg = qs.aggregate(
        due=Sum(F("principal_due") + F("interest_due") + F("fee_due")),
        paid=Sum(F("principal_paid") + F("interest_paid") + F("fee_paid")),
    )
    return _ratio(int(_num(agg["paid"])), int(_num(agg["due"])))


def new_customers(user: Any, start: dt.date, end: dt.date) -> int:
    from credo.customers.selectors import customers_for

    return (
        customers_for(user).filter(created_at__date__gte=start, created_at__date__lte=end).count()
    )


BUILTIN_KPIS: tuple[Kpi, ...] = (
    Kpi(
        "disbursed",
        _("放款金额"),
        disbursed,
        "money",
        "lending.view_loan",
        "/lending/loans/",
        30,
    ),
    Kpi(
        "outstanding",
        _("贷款余额"),
        outstanding,
        "money",
        "lending.view_loan",
        "/lending/loans/",
        40,
        True,
    ),
    Kpi(
        "overdue_rate_count",
        _("逾期率（笔数）"),
        _rate("od_n", "n"),
        "pct",
        "lending.view_loan",
        "/lending/loans/?overdue=1",
        50,
        True,
        "down",
    ),
    Kpi(
        "overdue_rate_balance",
        _("逾期率（余额）"),
        _rate("od_bal", "bal"),
        "pct",
        "lending.view_loan",
        "/lending/loans/?overdue=1",
        51,
        True,
        "down",
    ),
    Kpi(
        "m1_rate",
        _("M1+ 逾期率"),
        _rate("m1", "bal"),
        "pct",
        "lending.view_loan",
        "/lending/loans/?overdue=1",
        52,
        True,
        "down",
    ),
    Kpi(
        "m3_rate",
        _("M3+ 逾期率"),
        _rate("m3", "bal"),
        "pct",
        "lending.view_loan",
        "/lending/loans/?overdue=1",
        53,
        True,
        "down",
    ),
    Kpi(
        "collection_rate",
        _("回收率"),
        collection_rate,
        "pct",
        "lending.view_loan",
        "/lending/loans/",
        60,
    ),
    Kpi(
        "new_customers",
        _("新增客户"),
        new_customers,
        "int",
        "customers.view_customer",
        "/customers/",
        70,
    ),
)


def register_builtin() -> None:
    for kpi in BUILTIN_KPIS:
        register_kpi(kpi)
