"""Monthly supervisory reports (监管报表): a frozen summary per month, built into a fixed layout.

Three steps, each its own function:

* :func:`compute` — the month's figures **as of its month end**, from data that later activity
  does not rewrite: the principal balance from the ledger (``loan_principal`` journal lines
  dated on or before the month end — a back-dated correction posts its difference dated
  today, and a closed period accepts no postings), the 五级分类 from
  :class:`~credo.lending.models.LoanClassHistory` (the class in force at the month end), the
  days past due from the installments (oldest instalment due and not paid by the month end),
  the rate in force from the LPR repricing history. Aggregated in one pass into a few hundred
  cells (table × bucket).
* :func:`freeze` — stores a computed month (:class:`SupervisoryMonth` + cells). Called after an
  accounting period's close (结账, :func:`credo.lending.books.services.period_close`'s hook) and
  by ``credo supervisory freeze``; a frozen month is only rewritten by a new close.
* :func:`build_report` — the report in its fixed layout from the stored cells only (what the
  page, the Excel, the PDF and the scheduled delivery use); the < 5 s target at 1,000,000 loans
  is for this step.

The bands and mappings are documented in docs (supervisory.md) and below.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import BigIntegerField, ExpressionWrapper, F, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core.money import fen_of
from credo.reports.supervisory_models import SupervisoryCell, SupervisoryMonth

VIEW_PERMISSION = "reports.view_supervisory"
RESERVE_ACCOUNT = "loan_loss_reserve"

# --- buckets (the fixed rows of each table, in order) ---------------------------------------------
CLASS_BUCKETS: list[tuple[str, str]] = [
    ("normal", "正常类"),
    ("special_mention", "关注类"),
    ("substandard", "次级类"),
    ("doubtful", "可疑类"),
    ("loss", "损失类"),
]
NPL_CLASSES = frozenset({"substandard", "doubtful", "loss"})
TERM_BUCKETS: list[tuple[str, str]] = [
    ("le1y", "1年以内（含1年）"),
    ("1to3y", "1年至3年（含3年）"),
    ("gt3y", "3年以上"),
]
RATE_BUCKETS: list[tuple[str, str]] = [
    ("le_lpr", "不高于LPR"),
    ("lpr_2x", "LPR至2倍LPR（含）"),
    ("2x_4x", "2倍至4倍LPR（含）"),
    ("4x_24", "4倍LPR至24%（含）"),
    ("24_36", "24%至36%（含）"),
    ("gt36", "36%以上"),
]
BORROWER_BUCKETS: list[tuple[str, str]] = [
    ("enterprise", "企业"),
    ("sole_proprietor", "个体工商户"),
    ("farmer", "农户"),
    ("other_individual", "其他个人"),
]
GUARANTEE_BUCKETS: list[tuple[str, str]] = [
    ("credit", "信用"),
    ("guarantee", "保证"),
    ("mortgage", "抵押"),
    ("pledge", "质押"),
]
SHANXI_CITIES: list[tuple[str, str]] = [
    ("140100", "太原市"),
    ("140200", "大同市"),
    ("140300", "阳泉市"),
    ("140400", "长治市"),
    ("140500", "晋城市"),
    ("140600", "朔州市"),
    ("140700", "晋中市"),
    ("140800", "运城市"),
    ("140900", "忻州市"),
    ("141000", "临汾市"),
    ("141100", "吕梁市"),
]
CITY_BUCKETS: list[tuple[str, str]] = [*SHANXI_CITIES, ("other", "省外"), ("none", "未填写")]


def industry_buckets() -> list[tuple[str, str]]:
    from credo.customers.industries import INDUSTRY_SECTIONS

    return [*INDUSTRY_SECTIONS, ("none", "未填写")]


def tables() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(key, title, buckets) of every bucket table, in the layout's order."""
    return [
        ("class", "按五级分类", CLASS_BUCKETS),
        ("term", "按贷款期限", TERM_BUCKETS),
        ("rate", "按年化利率", RATE_BUCKETS),
        ("borrower", "按借款人类型", BORROWER_BUCKETS),
        ("guarantee", "按担保方式", GUARANTEE_BUCKETS),
        ("industry", "按行业（国民经济行业门类）", industry_buckets()),
        ("city", "按地区（山西省地市）", CITY_BUCKETS),
    ]


# --- mappings (pure) -------------------------------------------------------------------------------
def term_bucket(months: int) -> str:
    if months <= 12:
        return "le1y"
    if months <= 36:
        return "1to3y"
    return "gt3y"


@functools.lru_cache(maxsize=8192)
def rate_bucket(apr: Decimal, lpr: Decimal) -> str:
    """APR bands (a documented choice): multiples of the 1-year LPR in force at the month end
    (4×LPR: the line of 最高人民法院《关于审理民间借贷案件适用法律若干问题的规定》(2020 修正)),
    then the 24 % and 36 % lines (the 2015 规定's two lines, still used by local regulators)."""
    if apr <= lpr:
        return "le_lpr"
    if apr <= 2 * lpr:
        return "lpr_2x"
    if apr <= 4 * lpr:
        return "2x_4x"
    if apr <= 24:
        return "4x_24"
    if apr <= 36:
        return "24_36"
    return "gt36"


BORROWER_TYPE_KEY = "borrower_type"  # an optional customer custom field overriding the mapping
_BORROWER_ALIASES = {
    "企业": "enterprise",
    "个体工商户": "sole_proprietor",
    "农户": "farmer",
    "其他个人": "other_individual",
}


@functools.lru_cache(maxsize=4096)
def borrower_bucket(kind: str, industry: str, uscc: str, declared: str | None) -> str:
    """企业 for an enterprise customer; an individual is 个体工商户 when it holds a 统一社会信用代码
    (a business licence), 农户 when its industry is 门类 A (农、林、牧、渔业), else 其他个人.
    A customer custom field ``borrower_type`` (企业/个体工商户/农户/其他个人) overrides."""
    if declared:
        value = _BORROWER_ALIASES.get(declared.strip(), declared.strip())
        if value in dict(BORROWER_BUCKETS):
            return value
    if kind == "enterprise":
        return "enterprise"
    if uscc:
        return "sole_proprietor"
    if industry == "A":
        return "farmer"
    return "other_individual"


@functools.lru_cache(maxsize=8192)
def city_bucket(region_code: str) -> str:
    code = (region_code or "").strip()
    if not code:
        return "none"
    if not code.startswith("14"):
        return "other"
    city = code[:4] + "00"
    return city if city in dict(SHANXI_CITIES) else "other"


def guarantee_bucket(kinds: Iterable[str]) -> str:
    """A loan secured several ways counts once, by its strongest security: 质押, then 抵押,
    then 保证 (a documented choice: statistics count a loan once, by its main security); none
    is 信用."""
    found = set(kinds)
    for key in ("pledge", "mortgage", "guarantee"):
        if key in found:
            return key
    return "credit"


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


# --- the summary -----------------------------------------------------------------------------------
CELL_FIELDS = (
    "loans",
    "balance",
    "overdue_balance",
    "npl_balance",
    "disbursed_loans",
    "disbursed_amount",
    "repaid_principal",
)


@dataclass
class Summary:
    month: dt.date
    month_end: dt.date
    cells: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    totals: dict[str, Any] = field(default_factory=dict)
    top_borrowers: list[dict[str, Any]] = field(default_factory=list)
    lender: dict[str, str] = field(default_factory=dict)
    frozen_at: dt.datetime | None = None
    source: str = ""
    seconds: float = 0.0

    def figures(self) -> dict[str, Any]:
        """Everything a report shows, comparable between a frozen and a recomputed month."""
        return {
            "cells": {
                f"{t}:{b}": {**{k: v[k] for k in CELL_FIELDS}, "rate_weight": str(v["rate_weight"])}
                for (t, b), v in sorted(self.cells.items())
                if v["loans"] or v["disbursed_loans"] or v["repaid_principal"]
            },
            "totals": self.totals,
            "top_borrowers": self.top_borrowers,
        }


def _empty_cell() -> dict[str, Any]:
    return {**dict.fromkeys(CELL_FIELDS, 0), "rate_weight": Decimal(0)}


def _reserve_balance(end: dt.date) -> int | None:
    """贷款损失准备 balance (credit − debit) at ``end``; None while the account does not exist."""
    from credo.lending.models import JournalLine, LedgerAccount

    if not LedgerAccount.objects.filter(code=RESERVE_ACCOUNT).exists():
        return None
    agg = JournalLine.objects.filter(
        account__code=RESERVE_ACCOUNT, entry__business_date__lte=end
    ).aggregate(d=Sum("debit"), c=Sum("credit"))
    return fen_of(agg["c"]) - fen_of(agg["d"])


def _known_until(month: dt.date) -> dt.datetime | None:
    """When the month's books were closed (结账): classification history written after that
    (a back-dated replay's rows) is not what the closed month knew, so a recompute leaves it
    out and equals the frozen figures. None while the period is open."""
    from credo.lending.books.models import AccountingPeriod

    return (
        AccountingPeriod.objects.filter(month=month, status=AccountingPeriod.Status.CLOSED)
        .values_list("closed_at", flat=True)
        .first()
    )


def _overdue_at(end: dt.date) -> set[int]:
    """Loans past due at the month end: from the close of business's month-end snapshot
    (:class:`~credo.reports.models.LoanMonthEnd`, DPD as the batch saw it — later value-dated
    repayments do not change it) when it exists for that day, else from the instalments (the
    oldest one due before the month end and not paid by then)."""
    from credo.lending.models import Installment
    from credo.reports.models import LoanMonthEnd

    snapshot = LoanMonthEnd.objects.filter(month_end=end)
    if snapshot.exists():
        return set(snapshot.filter(dpd__gt=0).values_list("loan_id", flat=True))
    return set(
        Installment.objects.filter(due_date__lt=end)
        .filter(Q(paid_on__isnull=True) | Q(paid_on__gt=end))
        .exclude(status="written_off")
        .values_list("loan_id", flat=True)
        .distinct()
        .order_by()
    )


def _classes_at(
    end: dt.date, known_until: dt.datetime | None = None
) -> tuple[dict[int, str], dict[int, str]]:
    """(class in force at ``end`` from the last change on or before it, class before the first
    change after it) per loan with a classification history."""
    from credo.lending.models import LoanClassHistory

    history = LoanClassHistory.objects.all()
    if known_until is not None:
        history = history.filter(created_at__lte=known_until)
    at: dict[int, str] = {}
    for loan_id, to_class in (
        history.filter(date__lte=end)
        .order_by("loan_id", "date", "id")
        .values_list("loan_id", "to_class")
        .iterator(chunk_size=20000)
    ):
        at[loan_id] = to_class
    before: dict[int, str] = {}
    for loan_id, from_class in (
        history.filter(date__gt=end)
        .order_by("loan_id", "date", "id")
        .values_list("loan_id", "from_class")
        .iterator(chunk_size=20000)
    ):
        before.setdefault(loan_id, from_class)
    return at, before


def _rates_at(end: dt.date) -> dict[int, Decimal]:
    """The annual rate in force at ``end`` of each repriced (LPR-floating) loan."""
    try:
        from credo.lending.rates.models import LoanRateChange
    except ImportError:  # pragma: no cover
        return {}
    rates: dict[int, Decimal] = {}
    for loan_id, rate in (
        LoanRateChange.objects.filter(effective_date__lte=end)
        .order_by("loan_id", "effective_date", "id")
        .values_list("loan_id", "new_rate")
    ):
        rates[loan_id] = Decimal(rate)
    return rates


def _fee_premium(memo: dict[tuple[Any, ...], Decimal], row: dict[str, Any]) -> Decimal:
    """APR − contract rate of a loan with fees (0 without: its APR is its rate), memoized on the
    terms that decide it."""
    upfront, per_inst = int(row["upfront_fen"] or 0), int(row["inst_fee_fen"] or 0)
    if not upfront and not per_inst:
        return Decimal(0)
    key = (
        int(row["principal_fen"]),
        row["annual_rate"],
        row["months"],
        row["method"],
        row["start_date"],
        row["repayment_day"],
        upfront,
        per_inst,
    )
    if key not in memo:
        from credo.lending.pricing.caps import terms_apr

        try:
            apr, _schedule = terms_apr(
                principal=key[0],
                annual_rate=row["annual_rate"],
                months=row["months"],
                method=row["method"],
                start=row["start_date"],
                repayment_day=row["repayment_day"],
                upfront_fee=upfront,
                installment_fee=per_inst,
            )
            memo[key] = (apr.percent - Decimal(row["annual_rate"])).quantize(Decimal("0.0001"))
        except Exception:  # noqa: BLE001 — terms outside the schedule generator: rate only
            memo[key] = Decimal(0)
    return memo[key]


def _ledger(start: dt.date, end: dt.date) -> tuple[dict[int, int], dict[int, int], int]:
    """Per loan: principal balance at ``end`` and principal repaid in the month (net of
    reversals and adjustments; not disbursements, write-offs or restructurings), and the
    principal written off in the month — all from the ``loan_principal`` ledger lines."""
    from credo.lending.models import JournalLine

    # principal balance at the month end, and the month's principal flows, from the ledger
    balances: dict[int, int] = {}
    # plain integers (not Money objects): a million rows
    net = Sum(F("debit") - F("credit"), output_field=BigIntegerField())
    for loan_id, fen in (
        JournalLine.objects.filter(
            account__code="loan_principal", loan__isnull=False, entry__business_date__lte=end
        )
        .values("loan_id")
        .annotate(net=net)
        .values_list("loan_id", "net")
        .order_by()
        .iterator(chunk_size=20000)
    ):
        balances[loan_id] = int(fen or 0)
    month_lines = JournalLine.objects.filter(
        account__code="loan_principal",
        loan__isnull=False,
        entry__business_date__gte=start,
        entry__business_date__lte=end,
    )
    repaid: dict[int, int] = {}
    for loan_id, d, c in (
        month_lines.exclude(entry__kind__in=("disbursement", "write_off", "restructure"))
        .values("loan_id")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .values_list("loan_id", "d", "c")
        .order_by()
    ):
        repaid[loan_id] = fen_of(c) - fen_of(d)
    written_off = fen_of(
        month_lines.filter(entry__kind="write_off").aggregate(c=Sum("credit"))["c"]
    )

    return balances, repaid, written_off


def _security(known_until: dt.datetime | None) -> dict[int, set[str]]:
    """The kinds of security attached to each loan (as known when the month was closed)."""
    from credo.collateral.models import Collateral, CollateralLink, Guarantee

    links = CollateralLink.objects.filter(loan__isnull=False)
    guarantees = Guarantee.objects.filter(loan__isnull=False)
    if known_until is not None:
        links = links.filter(created_at__lte=known_until)
        guarantees = guarantees.filter(created_at__lte=known_until)
    security: dict[int, set[str]] = {}
    for loan_id, kind in links.values_list("loan_id", "collateral__kind"):
        security.setdefault(loan_id, set()).add(
            "pledge" if kind == Collateral.Kind.PLEDGE else "mortgage"
        )
    for loan_id in guarantees.values_list("loan_id", flat=True):
        security.setdefault(loan_id, set()).add("guarantee")
    return security


def _fen(name: str) -> Any:
    """A money column read as a plain integer of fen (no Money object per row)."""
    return ExpressionWrapper(F(name), output_field=BigIntegerField())


def compute(month: dt.date) -> Summary:
    """The month's figures as of its month end (see the module docstring)."""
    from credo.core.lender import lender
    from credo.lending.models import Loan
    from credo.lending.pricing.selectors import one_year_lpr

    started = time.perf_counter()
    start = month_start(month)
    end = month_end(start)
    summary = Summary(month=start, month_end=end)
    lpr = one_year_lpr(end).rate

    balances, repaid, written_off = _ledger(start, end)
    overdue_ids = _overdue_at(end)
    known_until = _known_until(start)
    class_at, class_before = _classes_at(end, known_until)
    rates = _rates_at(end)
    security = _security(known_until)
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for key, _title, buckets in tables():
        for bucket, _label in buckets:
            cells[(key, bucket)] = _empty_cell()
    per_customer: dict[int, list[int]] = {}
    memo: dict[tuple[Any, ...], Decimal] = {}
    t: dict[str, Any] = {
        "loans": 0,
        "balance": 0,
        "overdue_loans": 0,
        "overdue_balance": 0,
        "npl_balance": 0,
        "disbursed_loans": 0,
        "disbursed_amount": 0,
        "repaid_principal": 0,
        "written_off": written_off,
        "rate_weight": Decimal(0),
    }
    rows = (
        Loan.objects.exclude(status="pending")
        .filter(start_date__lte=end)
        .annotate(
            declared=KeyTextTransform(BORROWER_TYPE_KEY, "customer__custom"),
            principal_fen=_fen("principal"),
            upfront_fen=_fen("upfront_fee"),
            inst_fee_fen=_fen("installment_fee"),
        )
        .values(
            "id",
            "customer_id",
            "principal_fen",
            "annual_rate",
            "months",
            "method",
            "start_date",
            "repayment_day",
            "upfront_fen",
            "inst_fee_fen",
            "classification",
            "customer__kind",
            "customer__industry",
            "customer__region_code",
            "customer__uscc",
            "declared",
        )
        .order_by()
    )
    row: dict[str, Any]
    for row in rows.iterator(chunk_size=20000):  # type: ignore[assignment]
        loan_id = row["id"]
        balance = balances.get(loan_id, 0)
        disbursed = start <= row["start_date"] <= end
        paid = repaid.get(loan_id, 0)
        if balance <= 0 and not disbursed and not paid:
            continue
        cls = class_at.get(loan_id) or class_before.get(loan_id) or row["classification"]
        open_ = balance > 0
        overdue = open_ and loan_id in overdue_ids
        npl = open_ and cls in NPL_CLASSES
        rate = rates.get(loan_id, row["annual_rate"]) + _fee_premium(memo, row)
        principal = int(row["principal_fen"])
        keys = (
            ("class", cls),
            ("term", term_bucket(row["months"])),
            ("rate", rate_bucket(rate, lpr)),
            (
                "borrower",
                borrower_bucket(
                    row["customer__kind"],
                    row["customer__industry"] or "",
                    row["customer__uscc"] or "",
                    row["declared"],
                ),
            ),
            ("guarantee", guarantee_bucket(security.get(loan_id, ()))),
            ("industry", row["customer__industry"] or "none"),
            ("city", city_bucket(row["customer__region_code"] or "")),
        )
        weight = Decimal(balance) * rate if open_ else Decimal(0)
        for bucket_key in keys:
            cell = cells.get(bucket_key)
            if cell is None:  # an industry code outside the table: counted as 未填写
                cell = cells[(bucket_key[0], "none")]
            if open_:
                cell["loans"] += 1
                cell["balance"] += balance
                cell["rate_weight"] += weight
                if overdue:
                    cell["overdue_balance"] += balance
                if npl:
                    cell["npl_balance"] += balance
            if disbursed:
                cell["disbursed_loans"] += 1
                cell["disbursed_amount"] += principal
            cell["repaid_principal"] += paid
        if open_:
            t["loans"] += 1
            t["balance"] += balance
            t["rate_weight"] += weight
            if overdue:
                t["overdue_loans"] += 1
                t["overdue_balance"] += balance
            if npl:
                t["npl_balance"] += balance
            entry = per_customer.setdefault(row["customer_id"], [0, 0])
            entry[0] += 1
            entry[1] += balance
        if disbursed:
            t["disbursed_loans"] += 1
            t["disbursed_amount"] += principal
        t["repaid_principal"] += paid

    reserve = _reserve_balance(end)
    top = sorted(per_customer.items(), key=lambda kv: (-kv[1][1], kv[0]))[:10]
    summary.cells = cells
    summary.top_borrowers = [
        {"customer_id": cid, "loans": n, "balance": bal} for cid, (n, bal) in top
    ]
    summary.totals = {
        **{k: v for k, v in t.items() if k != "rate_weight"},
        "rate_weight": str(t["rate_weight"]),
        "borrowers": len(per_customer),
        "reserve": reserve,
        "lpr": str(lpr),
    }
    who = lender()
    summary.lender = {"name": who.name, "uscc": who.uscc, "address": who.address}
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


# --- store / load ----------------------------------------------------------------------------------
@transaction.atomic
def freeze(month: dt.date, *, actor: Any = None, source: str = "close") -> SupervisoryMonth:
    """Compute ``month`` and store it as its frozen summary (replacing an earlier freeze: a
    period closed again after 反结账 is frozen again)."""
    from credo.core.audit.services import audit_record

    summary = compute(month)
    SupervisoryMonth.objects.filter(month=summary.month).delete()
    period = SupervisoryMonth.objects.create(
        month=summary.month,
        month_end=summary.month_end,
        frozen_at=timezone.now(),
        frozen_by=actor,
        source=source,
        totals=summary.totals,
        top_borrowers=summary.top_borrowers,
        lender=summary.lender,
        seconds=summary.seconds,
    )
    SupervisoryCell.objects.bulk_create(
        [
            SupervisoryCell(
                period=period,
                table=t,
                bucket=b,
                **{k: v[k] for k in CELL_FIELDS},
                rate_weight=v["rate_weight"],
            )
            for (t, b), v in summary.cells.items()
        ]
    )
    audit_record(
        action="supervisory.freeze",
        actor=actor,
        obj=period,
        metadata={
            "month": summary.month.strftime("%Y-%m"),
            "source": source,
            "loans": summary.totals["loans"],
            "balance": summary.totals["balance"],
        },
    )
    return period


def load(month: dt.date) -> Summary | None:
    """The frozen summary of ``month`` (None when it was never frozen)."""
    period = SupervisoryMonth.objects.filter(month=month_start(month)).first()
    if period is None:
        return None
    summary = Summary(
        month=period.month,
        month_end=period.month_end,
        totals=period.totals,
        top_borrowers=period.top_borrowers,
        lender=period.lender,
        frozen_at=period.frozen_at,
        source=period.source,
        seconds=period.seconds,
    )
    for key, _title, buckets in tables():
        for bucket, _label in buckets:
            summary.cells[(key, bucket)] = _empty_cell()
    for row in period.cells.values("table", "bucket", *CELL_FIELDS, "rate_weight"):
        summary.cells[(row["table"], row["bucket"])] = {
            **{k: fen_of(row[k]) for k in CELL_FIELDS},
            "rate_weight": Decimal(row["rate_weight"]),
        }
    return summary


def verify(month: dt.date) -> list[str]:
    """Recompute a frozen month and list the figures that differ (empty: reproducible)."""
    frozen = load(month)
    if frozen is None:
        return [_("%(m)s 尚未冻结。") % {"m": month.strftime("%Y-%m")}]
    fresh = compute(month).figures()
    stored = frozen.figures()
    problems = []
    for part in ("cells", "totals"):
        keys = set(fresh[part]) | set(stored[part])
        for key in sorted(keys):
            if fresh[part].get(key) != stored[part].get(key):
                problems.append(f"{part}.{key}: {stored[part].get(key)} → {fresh[part].get(key)}")
    if fresh["top_borrowers"] != stored["top_borrowers"]:
        problems.append("top_borrowers")
    return problems


def frozen_months() -> list[dt.date]:
    return list(SupervisoryMonth.objects.order_by("-month").values_list("month", flat=True))


def latest_frozen() -> dt.date | None:
    return SupervisoryMonth.objects.order_by("-month").values_list("month", flat=True).first()


# --- the fixed layout ------------------------------------------------------------------------------
def _ratio(num: int | None, den: int | None) -> Decimal | None:
    if num is None or not den:
        return None
    return (Decimal(num) / Decimal(den)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def _avg_rate(weight: Decimal | str, balance: int) -> Decimal | None:
    if not balance:
        return None
    return (Decimal(weight) / Decimal(balance)).quantize(Decimal("0.01"), ROUND_HALF_UP)


#: (key, label, fmt) of the bucket tables' columns: fmt int | money | pct | rate
BUCKET_COLUMNS: list[tuple[str, str, str]] = [
    ("loans", "笔数", "int"),
    ("balance", "贷款余额（元）", "money"),
    ("share", "余额占比", "pct"),
    ("overdue_balance", "其中：逾期贷款（元）", "money"),
    ("npl_balance", "其中：不良贷款（元）", "money"),
    ("disbursed_loans", "本月发放笔数", "int"),
    ("disbursed_amount", "本月发放金额（元）", "money"),
    ("repaid_principal", "本月收回本金（元）", "money"),
    ("avg_rate", "加权平均年化利率（%）", "rate"),
]
TOP_COLUMNS: list[tuple[str, str, str]] = [
    ("rank", "序号", "int"),
    ("name", "借款人名称", "text"),
    ("kind", "借款人类型", "text"),
    ("loans", "笔数", "int"),
    ("balance", "贷款余额（元）", "money"),
    ("share", "占贷款余额比例", "pct"),
]


def report_title(month: dt.date) -> str:
    return f"小额贷款公司贷款统计月报（{month.year}年{month.month:02d}月）"


def build_report(summary: Summary) -> dict[str, Any]:
    """The report in its fixed layout: every table with every bucket row, in a fixed order,
    from the stored summary alone (plus the top borrowers' names)."""
    from credo.customers.models import Customer

    totals = summary.totals
    balance = int(totals.get("balance") or 0)
    reserve = totals.get("reserve")
    npl = int(totals.get("npl_balance") or 0)
    overdue = int(totals.get("overdue_balance") or 0)
    indicators = [
        ("贷款余额（元）", balance, "money"),
        ("贷款笔数", totals.get("loans", 0), "int"),
        ("贷款户数", totals.get("borrowers", 0), "int"),
        ("本月发放笔数", totals.get("disbursed_loans", 0), "int"),
        ("本月发放金额（元）", totals.get("disbursed_amount", 0), "money"),
        ("本月收回本金（元）", totals.get("repaid_principal", 0), "money"),
        ("本月核销本金（元）", totals.get("written_off", 0), "money"),
        ("逾期贷款余额（元）", overdue, "money"),
        ("逾期率", _ratio(overdue, balance), "pct"),
        ("不良贷款余额（次级+可疑+损失，元）", npl, "money"),
        ("不良贷款率", _ratio(npl, balance), "pct"),
        ("贷款损失准备余额（元）", reserve, "money"),
        ("拨备覆盖率（贷款损失准备/不良贷款）", _ratio(reserve, npl), "pct"),
        ("贷款拨备率（贷款损失准备/贷款余额）", _ratio(reserve, balance), "pct"),
        ("加权平均年化利率（%）", _avg_rate(totals.get("rate_weight", "0"), balance), "rate"),
        ("月末1年期LPR（%）", Decimal(str(totals.get("lpr", "0"))), "rate"),
    ]
    sections = []
    for key, title, buckets in tables():
        rows = []
        total = {**_empty_cell()}
        for bucket, label in buckets:
            cell = summary.cells.get((key, bucket)) or _empty_cell()
            for k in CELL_FIELDS:
                total[k] += cell[k]
            total["rate_weight"] += Decimal(cell["rate_weight"])
            rows.append({"label": label, **_bucket_values(cell, balance)})
        rows.append({"label": "合计", "total": True, **_bucket_values(total, balance)})
        sections.append({"key": key, "title": title, "rows": rows})
    names = dict(
        Customer.objects.filter(
            pk__in=[b["customer_id"] for b in summary.top_borrowers]
        ).values_list("pk", "name")
    )
    kinds = dict(
        Customer.objects.filter(
            pk__in=[b["customer_id"] for b in summary.top_borrowers]
        ).values_list("pk", "kind")
    )
    top = [
        {
            "rank": i,
            "name": names.get(b["customer_id"], f"#{b['customer_id']}"),
            "kind": "企业" if kinds.get(b["customer_id"]) == "enterprise" else "个人",
            "loans": b["loans"],
            "balance": b["balance"],
            "share": _ratio(b["balance"], balance),
        }
        for i, b in enumerate(summary.top_borrowers, 1)
    ]
    top_total = sum(b["balance"] for b in summary.top_borrowers)
    return {
        "title": report_title(summary.month),
        "month": summary.month,
        "month_end": summary.month_end,
        "lender": summary.lender,
        "frozen_at": summary.frozen_at,
        "indicators": indicators,
        "columns": BUCKET_COLUMNS,
        "sections": sections,
        "top_columns": TOP_COLUMNS,
        "top": top,
        "top_share": _ratio(top_total, balance),
    }


def _bucket_values(cell: dict[str, Any], total_balance: int) -> dict[str, Any]:
    return {
        **{k: cell[k] for k in CELL_FIELDS},
        "share": _ratio(cell["balance"], total_balance),
        "avg_rate": _avg_rate(cell["rate_weight"], cell["balance"]),
    }


def display(value: Any, fmt: str) -> str:
    """A cell as text (page, PDF): money in 元 with separators, pct with %, — for none."""
    from credo.core.money import format_fen

    if value is None:
        return "—"
    if fmt == "money":
        return format_fen(int(value))
    if fmt == "pct":
        return f"{Decimal(value) * 100:.2f}%"
    if fmt == "rate":
        return f"{Decimal(value):.2f}"
    if fmt == "int":
        return f"{int(value):,}"
    return str(value)


def report_for(month: dt.date) -> dict[str, Any] | None:
    summary = load(month)
    return build_report(summary) if summary is not None else None
