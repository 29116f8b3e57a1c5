"""Standard reports (G2). Most are fixed specs over the datasets; vintage, roll rates, the
repayment forecast and staff performance are computed here, still aggregating in the database.

Vintage and roll rates read :class:`LoanMonthEnd` (each open loan's DPD at every month end),
written by the close-of-business batch on the last day of a month (``monthend_capture``) or
back-filled from the installments (``monthend_backfill``: DPD at a date = days since the oldest
installment that was due and not yet fully paid on that date).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext_lazy as _

from credo.core import clock
from credo.lending.models import owed_expression
from credo.lending.states import LOAN_OPEN_STATES
from credo.reports.datasets import _num
from credo.reports.models import LoanMonthEnd

# 核销 is its own destination: a loan written off between the two month ends is not 结清.
BUCKETS = ["C", "M1", "M2", "M3", "M4+", "结清", "核销"]
SOURCE_BUCKETS = BUCKETS[:5]


def bucket(dpd: int | None) -> str:
    if dpd is None:
        return "结清"
    if dpd <= 0:
        return "C"
    if dpd <= 30:
        return "M1"
    if dpd <= 60:
        return "M2"
    if dpd <= 90:
        return "M3"
    return "M4+"


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: dt.date, n: int) -> dt.date:
    y, m = divmod(day.month - 1 + n, 12)
    return day.replace(year=day.year + y, month=m + 1, day=1)


# --- month-end capture ---------------------------------------------------------------------------
def monthend_capture(business_date: dt.date) -> int:
    """Copy every open loan's DPD and balance for a month end (no-op on other days)."""
    if business_date != month_end(business_date):
        return 0
    from credo.lending.models import Loan

    with transaction.atomic():
        LoanMonthEnd.objects.filter(month_end=business_date).delete()
        rows = Loan.objects.filter(
            status__in=LOAN_OPEN_STATES, start_date__isnull=False
        ).values_list("id", "start_date", "dpd", "outstanding_principal", "principal")
        batch: list[LoanMonthEnd] = []
        n = 0
        for loan_id, start, dpd, bal, principal in rows.iterator(chunk_size=5000):
            if start is None:
                continue
            batch.append(
                LoanMonthEnd(
                    month_end=business_date,
                    loan_id=loan_id,
                    cohort=start.replace(day=1),
                    dpd=dpd,
                    outstanding=int(_num(bal)),
                    principal=int(_num(principal)),
                )
            )
            if len(batch) >= 5000:
                LoanMonthEnd.objects.bulk_create(batch)
                n += len(batch)
                batch = []
        LoanMonthEnd.objects.bulk_create(batch)
        return n + len(batch)


def monthend_backfill(month: dt.date) -> int:
    """Rebuild one month end from the installments (history before the batch ran, demo data)."""
    end = month_end(month)
    from credo.lending.models import Installment, Loan

    with transaction.atomic():
        LoanMonthEnd.objects.filter(month_end=end).delete()
        from django.db.models import Min

        oldest = dict(
            Installment.objects.filter(due_date__lte=end, loan__start_date__lte=end)
            .filter(Q(paid_on__isnull=True) | Q(paid_on__gt=end))
            .exclude(loan__status="pending")
            .values("loan_id")
            .annotate(oldest=Min("due_date"))
            .values_list("loan_id", "oldest")
        )
        # principal repaid after the month end is added back to today's balance
        repaid_after = dict(
            Installment.objects.filter(paid_on__gt=end)
            .values("loan_id")
            .annotate(p=Sum("principal_paid"))
            .values_list("loan_id", "p")
        )
        # a written-off loan was in the book until its write-off: its principal written off is
        # added back for the month ends before, and it is left out from the write-off on
        written_off = _write_offs(end=None)
        open_loans = Loan.objects.filter(start_date__lte=end).exclude(status="pending")
        batch = []
        for loan_id, start, bal, principal, status in open_loans.values_list(
            "id", "start_date", "outstanding_principal", "principal", "status"
        ).iterator(chunk_size=5000):
            balance = int(_num(bal)) + int(_num(repaid_after.get(loan_id)))
            if loan_id in written_off:
                wo_date, wo_principal = written_off[loan_id]
                if wo_date <= end:
                    continue
                balance += wo_principal
            if balance <= 0 or (
                status in ("paid_off", "written_off")
                and loan_id not in oldest
                and not repaid_after.get(loan_id)
            ):
                continue
            due = oldest.get(loan_id)
            if start is None:
                continue
            batch.append(
                LoanMonthEnd(
                    month_end=end,
                    loan_id=loan_id,
                    cohort=start.replace(day=1),
                    dpd=(end - due).days if due else 0,
                    outstanding=balance,
                    principal=int(_num(principal)),
                )
            )
        LoanMonthEnd.objects.bulk_create(batch, batch_size=5000)
        return len(batch)


# --- vintage -------------------------------------------------------------------------------------
@dataclass
class Vintage:
    months: list[int]  # months on book 1..N
    rows: list[
        dict[str, Any]
    ]  # {"cohort": date, "loans": n, "principal": fen, "rates": [Decimal|None]}


def vintage(user: Any, *, threshold: int = 30, max_mob: int = 12, by: str = "count") -> Vintage:
    """Share of each disbursement-month cohort that has ever been ``threshold``+ DPD by each month
    on book (cumulative), by loan count or by disbursed principal."""
    from credo.accounts.scope import scope_queryset

    qs = scope_queryset(
        LoanMonthEnd.objects.all(),
        user,
        owner_field="loan__owner",
        team_field="loan__team",
        branch_field="loan__branch",
    )
    cohorts = {
        r["cohort"]: r for r in qs.values("cohort").annotate(loans=Count("loan_id", distinct=True))
    }
    principal_by_cohort = _cohort_principal(user)
    # first month end at which each loan was ≥ threshold, grouped by cohort and that month
    from django.db.models import Min

    firsts = (
        qs.filter(dpd__gte=threshold)
        .values("loan_id", "cohort")
        .annotate(first=Min("month_end"), principal=Min("principal"))
    )
    hits: dict[tuple[dt.date, int], list[int]] = {}
    for r in firsts:  # one row per bad loan: the grouping happened in the database
        mob = (r["first"].year - r["cohort"].year) * 12 + r["first"].month - r["cohort"].month
        entry = hits.setdefault((r["cohort"], mob), [0, 0])
        entry[0] += 1
        entry[1] += int(_num(r["principal"]))
    last_month = _last_month_end(qs)
    rows = []
    for cohort in sorted(cohorts):
        loans = cohorts[cohort]["loans"]
        principal = principal_by_cohort.get(cohort, 0)
        rates: list[Decimal | None] = []
        # a loan already ≥ threshold at the end of its disbursement month counts from mob 1
        early = [v for (c, mob), v in hits.items() if c == cohort and mob <= 0]
        cum_n = sum(v[0] for v in early)
        cum_p = sum(v[1] for v in early)
        for mob in range(1, max_mob + 1):
            if last_month is None or add_months(cohort, mob) > last_month.replace(day=1):
                rates.append(None)  # not yet observed
                continue
            n, p = hits.get((cohort, mob), [0, 0])
            cum_n += n
            cum_p += p
            den = loans if by == "count" else principal
            num = cum_n if by == "count" else cum_p
            rates.append((Decimal(num) / Decimal(den)).quantize(Decimal("0.0001")) if den else None)
        rows.append({"cohort": cohort, "loans": loans, "principal": principal, "rates": rates})
    return Vintage(months=list(range(1, max_mob + 1)), rows=rows)


def _cohort_principal(user: Any) -> dict[dt.date, int]:
    from django.db.models.functions import TruncMonth

    from credo.lending.selectors import loans_for

    out: dict[dt.date, int] = {}
    for r in (
        loans_for(user)
        .exclude(start_date__isnull=True)
        .annotate(c=TruncMonth("start_date"))
        .values("c")
        .annotate(p=Sum("principal"))
    ):
        c = r["c"].date() if isinstance(r["c"], dt.datetime) else r["c"]
        out[c] = int(_num(r["p"]))
    return out


def _last_month_end(qs: Any) -> dt.date | None:
    from django.db.models import Max

    return qs.aggregate(m=Max("month_end"))["m"]


# --- roll rates ----------------------------------------------------------------------------------
def _write_offs(
    *, end: dt.date | None, start: dt.date | None = None, loan_ids: Any = None
) -> dict[int, tuple[dt.date, int]]:
    """loan id → (write-off date, principal written off) for write-offs up to ``end``."""
    from credo.lending.models import JournalEntry, JournalLine

    lines = JournalLine.objects.filter(
        entry__kind=JournalEntry.Kind.WRITE_OFF, account__code="loan_principal"
    )
    if end is not None:
        lines = lines.filter(entry__business_date__lte=end)
    if start is not None:
        lines = lines.filter(entry__business_date__gt=start)
    if loan_ids is not None:
        lines = lines.filter(loan_id__in=loan_ids)
    return {
        loan_id: (day, int(_num(credit)))
        for loan_id, day, credit in lines.values_list("loan_id", "entry__business_date", "credit")
    }


def _write_off_and_recovery_totals(user: Any, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Write-offs and 核销收回 between two month ends (start exclusive, end inclusive), in the
    user's scope."""
    from credo.lending.models import Recovery
    from credo.lending.selectors import loans_for

    scoped = loans_for(user).values("id")
    offs = _write_offs(end=end, start=start, loan_ids=scoped)
    rec = Recovery.objects.filter(
        loan_id__in=scoped, received_on__gt=start, received_on__lte=end
    ).aggregate(s=Sum("amount"), n=Count("id"))
    return {
        "write_off_count": len(offs),
        "write_off_principal": sum(p for _d, p in offs.values()),
        "recovery_count": rec["n"] or 0,
        "recovery_amount": int(_num(rec["s"])),
    }


def roll_rates(user: Any, month: dt.date | None = None) -> dict[str, Any]:
    """Bucket-to-bucket transition counts and rates from one month end to the next."""
    from credo.accounts.scope import scope_queryset

    qs = scope_queryset(
        LoanMonthEnd.objects.all(),
        user,
        owner_field="loan__owner",
        team_field="loan__team",
        branch_field="loan__branch",
    )
    last = _last_month_end(qs)
    if last is None:
        return {
            "from": None,
            "to": None,
            "buckets": BUCKETS,
            "matrix": {},
            "totals": {},
            "flows": {},
        }
    to_month = month_end(month) if month else last
    from_month = month_end(add_months(to_month, -1))
    before = dict(qs.filter(month_end=from_month).values_list("loan_id", "dpd"))
    after = dict(qs.filter(month_end=to_month).values_list("loan_id", "dpd"))
    gone = [loan_id for loan_id in before if loan_id not in after]
    written_off = _write_offs(end=to_month, loan_ids=gone) if gone else {}
    counts: dict[str, dict[str, int]] = {b: dict.fromkeys(BUCKETS, 0) for b in SOURCE_BUCKETS}
    for loan_id, dpd in before.items():
        if loan_id in after:
            dst = bucket(after[loan_id])
        else:
            dst = "核销" if loan_id in written_off else "结清"
        counts[bucket(dpd)][dst] += 1
    matrix = {}
    totals = {}
    for src, row in counts.items():
        total = sum(row.values())
        totals[src] = total
        matrix[src] = {
            dst: {
                "count": n,
                "rate": (Decimal(n) / Decimal(total)).quantize(Decimal("0.0001"))
                if total
                else None,
            }
            for dst, n in row.items()
        }
    return {
        "from": from_month,
        "to": to_month,
        "buckets": BUCKETS,
        "matrix": matrix,
        "totals": totals,
        "flows": _write_off_and_recovery_totals(user, from_month, to_month),
    }


# --- repayment forecast --------------------------------------------------------------------------
def repayment_forecast(user: Any, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Scheduled collections in the next 30/60/90 days and the amount expected at the
    historical collection ratio (paid / due over installments due in the last 90 days).
    Reads the due summary the close of business keeps (``DueSummary``) when it is current,
    otherwise the installments themselves."""
    from django.db.models import Max

    from credo.accounts.scope import scope_queryset
    from credo.lending.models import Installment
    from credo.reports.models import DueSummary
    from credo.reports.services import DUE_FUTURE_DAYS, DUE_WINDOW_DAYS

    today = today or clock.today()
    as_of = DueSummary.objects.aggregate(m=Max("as_of"))["m"]
    fresh = (
        as_of is not None
        and as_of <= today <= as_of + dt.timedelta(days=1)
        and today - dt.timedelta(days=90) >= as_of - dt.timedelta(days=DUE_WINDOW_DAYS)
        and today + dt.timedelta(days=90) <= as_of + dt.timedelta(days=DUE_FUTURE_DAYS)
    )
    if fresh:
        summary = scope_queryset(DueSummary.objects.all(), user)
        owed: Any = F("due") - F("paid")
        base: Any
        hist = summary.filter(
            due_date__gte=today - dt.timedelta(days=90), due_date__lt=today
        ).aggregate(due=Sum("due"), paid=Sum("paid"))
        base = summary
    else:
        owed = owed_expression(penalty=False)
        scoped = dict(
            owner_field="loan__owner", team_field="loan__team", branch_field="loan__branch"
        )
        hist = scope_queryset(
            Installment.objects.filter(
                due_date__gte=today - dt.timedelta(days=90), due_date__lt=today
            ),
            user,
            **scoped,
        ).aggregate(
            due=Sum(F("principal_due") + F("interest_due") + F("fee_due")),
            paid=Sum(F("principal_paid") + F("interest_paid") + F("fee_paid")),
        )
        base = scope_queryset(
            Installment.objects.filter(loan__status__in=LOAN_OPEN_STATES),
            user,
            **scoped,
        )
    due_h, paid_h = int(_num(hist["due"])), int(_num(hist["paid"]))
    ratio = (Decimal(paid_h) / Decimal(due_h)).quantize(Decimal("0.0001")) if due_h else None
    agg = base.aggregate(
        d30=Sum(owed, filter=Q(due_date__gte=today, due_date__lt=today + dt.timedelta(days=30))),
        d60=Sum(owed, filter=Q(due_date__gte=today, due_date__lt=today + dt.timedelta(days=60))),
        d90=Sum(owed, filter=Q(due_date__gte=today, due_date__lt=today + dt.timedelta(days=90))),
    )
    rows = []
    for days, key in ((30, "d30"), (60, "d60"), (90, "d90")):
        scheduled = int(_num(agg[key]))
        expected = (
            int((Decimal(scheduled) * ratio).quantize(Decimal(1))) if ratio is not None else None
        )
        rows.append({"days": days, "scheduled": scheduled, "ratio": ratio, "expected": expected})
    return rows


# --- staff performance ---------------------------------------------------------------------------
def staff_performance(user: Any, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Per account manager in the user's scope: customers, disbursed amount, collected, own-book
    overdue rate, plus follow-ups / applications / approvals when those apps are installed."""
    from django.apps import apps

    from credo.accounts.models import User
    from credo.customers.selectors import customers_for
    from credo.lending.selectors import loans_for

    per: dict[int, dict[str, Any]] = {}

    def put(uid: int | None, key: str, value: Any) -> None:
        if uid is not None:
            per.setdefault(uid, {})[key] = value

    for c in customers_for(user).values("owner_id").annotate(n=Count("id")):
        put(c["owner_id"], "customers", c["n"])
    loans = loans_for(user)
    for d in (
        loans.filter(start_date__gte=start, start_date__lte=end)
        .values("owner_id")
        .annotate(p=Sum("principal"), n=Count("id"))
    ):
        put(d["owner_id"], "disbursed", int(_num(d["p"])))
        put(d["owner_id"], "loans", d["n"])
    for b in (
        loans.filter(status__in=LOAN_OPEN_STATES)
        .values("owner_id")
        .annotate(
            b=Sum("outstanding_principal"), o=Sum("outstanding_principal", filter=Q(dpd__gt=0))
        )
    ):
        bal, od = int(_num(b["b"])), int(_num(b["o"]))
        put(
            b["owner_id"],
            "overdue_rate",
            (Decimal(od) / Decimal(bal)).quantize(Decimal("0.0001")) if bal else None,
        )
    from credo.lending.models import Posting

    for r in (
        Posting.objects.filter(
            loan__in=loans, reversed_at__isnull=True, received_on__gte=start, received_on__lte=end
        )
        .values("loan__owner_id")
        .annotate(a=Sum("amount"))
    ):
        put(r["loan__owner_id"], "collected", int(_num(r["a"])))  # type: ignore[typeddict-item]
    if apps.is_installed("credo.leads"):
        try:
            FollowUp = apps.get_model("leads", "FollowUp")
            for follow_up in (
                FollowUp.objects.filter(created_at__date__gte=start, created_at__date__lte=end)
                .values("actor_id")
                .annotate(n=Count("id"))
            ):
                put(follow_up["actor_id"], "follow_ups", follow_up["n"])
        except LookupError:
            pass
    if apps.is_installed("credo.origination"):
        try:
            Application = apps.get_model("origination", "Application")
            for app_row in (
                Application.objects.filter(created_at__date__gte=start, created_at__date__lte=end)
                .values("owner_id")
                .annotate(
                    n=Count("id"),
                    ok=Count(
                        "id",
                        filter=Q(
                            status__in=["approved", "contract_sent", "signed", "loan_created"]
                        ),
                    ),
                )
            ):
                put(app_row["owner_id"], "applications", app_row["n"])
                put(app_row["owner_id"], "approvals", app_row["ok"])
        except LookupError:
            pass
    names = {
        u.pk: u.display_name or u.username
        for u in User.objects.filter(pk__in=list(per)).only("pk", "display_name", "username")
    }
    rows = [{"user_id": uid, "name": names.get(uid, str(uid)), **vals} for uid, vals in per.items()]
    rows.sort(key=lambda r: (-(r.get("disbursed") or 0), r["name"]))
    return rows


# --- fixed specs ---------------------------------------------------------------------------------
STANDARD_SPECS: dict[str, dict[str, Any]] = {
    "lead_sources": {
        "title": _("线索来源分析"),
        "chart": "bar",
        "permission": "leads.view_lead",
        "spec": {
            "dataset": "leads",
            "dimensions": ["source"],
            "measures": ["count", "contacted", "qualified", "converted", "conversion_rate"],
            "order": "-count",
        },
    },
    "lead_funnel": {
        "title": _("线索转化漏斗"),
        "chart": "funnel",
        "permission": "leads.view_lead",
        "spec": {
            "dataset": "leads",
            "dimensions": [],
            "measures": ["count", "contacted", "qualified", "converted"],
        },
    },
    "product_sales": {
        "title": _("产品销售"),
        "chart": "bar",
        "spec": {
            "dataset": "loans",
            "dimensions": ["product"],
            "measures": ["count", "principal", "outstanding"],
            "order": "-principal",
        },
    },
    "regional": {
        "title": _("区域业绩（按地市）"),
        "chart": "bar",
        "spec": {
            "dataset": "loans",
            "dimensions": ["city"],
            "measures": ["count", "principal", "outstanding", "overdue_rate_balance"],
            "order": "-principal",
        },
    },
    "overdue_by_industry": {
        "title": _("逾期分析（按行业）"),
        "chart": "bar",
        "spec": {
            "dataset": "loans",
            "dimensions": ["industry"],
            "measures": ["outstanding", "overdue_balance", "overdue_rate_balance", "m1_rate"],
            "order": "-overdue_balance",
        },
    },
    "overdue_by_region": {
        "title": _("逾期分析（按地市）"),
        "chart": "bar",
        "spec": {
            "dataset": "loans",
            "dimensions": ["city"],
            "measures": ["outstanding", "overdue_balance", "overdue_rate_balance", "m1_rate"],
            "order": "-overdue_balance",
        },
    },
    "overdue_by_product": {
        "title": _("逾期分析（按产品）"),
        "chart": "bar",
        "spec": {
            "dataset": "loans",
            "dimensions": ["product"],
            "measures": ["outstanding", "overdue_balance", "overdue_rate_balance", "m1_rate"],
            "order": "-overdue_balance",
        },
    },
    "classification": {
        "title": _("五级分类分布"),
        "chart": "pie",
        "spec": {
            "dataset": "loans",
            "dimensions": ["classification"],
            "measures": ["count", "outstanding"],
            "filters": [{"dimension": "status", "op": "in", "value": list(LOAN_OPEN_STATES)}],
        },
    },
}
