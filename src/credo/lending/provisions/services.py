"""Writes of the provisions: a new version of the rates, the monthly provision run, and the lock
shared with write-offs.

Lock order: the run locks its month's period row ``FOR UPDATE`` (postings dated in the month
hold it ``FOR SHARE``, so the reserve's month-end balance cannot move under the run), then the
reserve lock (:func:`reserve_lock`). A write-off takes the loan row, then the reserve lock, then
(through ``post_entry``) the share lock of today's period — a later month than any run's, since
a month can only be provisioned after it ended.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.money import Money
from credo.lending import ledger
from credo.lending.books.guard import ensure_open
from credo.lending.books.models import AccountingPeriod
from credo.lending.books.selectors import month_end as last_day
from credo.lending.books.selectors import month_start
from credo.lending.errors import InvalidLoan, InvalidState, NotPermitted
from credo.lending.models import EodRun, JournalEntry, Product
from credo.lending.provisions import selectors
from credo.lending.provisions.models import (
    CLASSES,
    ProvisionLine,
    ProvisionPosting,
    ProvisionRates,
    ProvisionRun,
)

MANAGE = "lending.manage_provisions"
VIEW = "lending.view_books"
RATE_FIELDS = ("general_pct", *(f"{c}_pct" for c in CLASSES))
# 《贷款损失准备计提指引》第七条: 次级类 25 %、可疑类 50 %, "可以上下浮动 20%" (of the rate)
BANDS = {
    "substandard_pct": (Decimal("20"), Decimal("30"), "次级类"),
    "doubtful_pct": (Decimal("40"), Decimal("60"), "可疑类"),
}
# pg_advisory_xact_lock key of "the reserve" (write-offs and the run serialize on it)
RESERVE_LOCK_KEY = 0x70726F76  # "prov"


def _require(actor: Any, message: str) -> None:
    if actor is None or not actor.has_perm(MANAGE):
        raise NotPermitted(message)


def reserve_lock() -> None:
    """Serialize the users of the reserve's balance (the run, a write-off) — a transaction-level
    advisory lock on PostgreSQL; SQLite has one writer anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [RESERVE_LOCK_KEY])


def pct_text(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f}"


# ------------------------------------------------------------------------------------- rates


def validate_rates(values: dict[str, Any]) -> dict[str, Decimal]:
    """The rates as Decimals, or :class:`InvalidLoan` with a readable Chinese message."""
    out: dict[str, Decimal] = {}
    for key in RATE_FIELDS:
        try:
            value = Decimal(str(values[key]))
        except (KeyError, InvalidOperation):
            raise InvalidLoan(_("请填写全部计提比例。")) from None
        if not value.is_finite() or value < 0 or value > 100:
            raise InvalidLoan(_("计提比例须在 0% 至 100% 之间。"))
        if value.as_tuple().exponent < -3:  # type: ignore[operator]
            raise InvalidLoan(_("计提比例最多保留三位小数。"))
        out[key] = value
    for key, (low, high, label) in BANDS.items():
        if not low <= out[key] <= high:
            raise InvalidLoan(
                _(
                    "%(c)s贷款专项准备计提比例须在 %(lo)s%% 至 %(hi)s%% 之间"
                    "（《贷款损失准备计提指引》：基准比例可上下浮动 20%%）。"
                )
                % {"c": label, "lo": pct_text(low), "hi": pct_text(high)}
            )
    specific = [out[f"{c}_pct"] for c in CLASSES]
    if specific != sorted(specific):
        raise InvalidLoan(_("专项准备计提比例须随五级分类由正常到损失逐级不降低。"))
    return out


@transaction.atomic
def rates_update(*, actor: Any, note: str, **values: Any) -> ProvisionRates:
    """A new version of the provision rates (the earlier versions stay as history; runs name
    the version they used); permission ``lending.manage_provisions``, audited."""
    _require(actor, _("没有维护贷款损失准备计提比例的权限。"))
    note = (note or "").strip()
    if not note:
        raise InvalidLoan(_("请填写调整说明。"))
    clean = validate_rates(values)
    current = selectors.current_rates()
    if current.pk:  # two editors queue on the latest version instead of colliding
        ProvisionRates.objects.select_for_update().filter(pk=current.pk).first()
        current = selectors.current_rates()
    row = ProvisionRates.objects.create(
        version=current.version + 1, note=note[:200], created_by=actor, **clean
    )
    audit_record(
        action="provision.rates_update",
        actor=actor,
        obj=row,
        changes={
            k: [pct_text(getattr(current, k)), pct_text(clean[k])]
            for k in RATE_FIELDS
            if Decimal(getattr(current, k)) != clean[k]
        },
        metadata={"version": row.version, "note": row.note},
    )
    return row


# --------------------------------------------------------------------------------------- run


def _lock_period(month: dt.date) -> AccountingPeriod:
    AccountingPeriod.objects.bulk_create([AccountingPeriod(month=month)], ignore_conflicts=True)
    return AccountingPeriod.objects.select_for_update().get(month=month)


def run_blockers(month: dt.date, today: dt.date | None = None) -> list[str]:
    """Why ``month`` cannot be provisioned now (empty: it can)."""
    month = month_start(month)
    end = last_day(month)
    today = today or clock.today()
    problems: list[str] = []
    if end >= today:
        problems.append(
            _("会计期间 %(m)s 尚未结束（月末 %(d)s），月末日终完成后才能计提。")
            % {"m": month.strftime("%Y-%m"), "d": end.isoformat()}
        )
    elif not EodRun.objects.filter(business_date=end, status=EodRun.Status.DONE).exists():
        problems.append(
            _("%(d)s（月末）的日终批处理尚未完成，请先完成日终再计提。") % {"d": end.isoformat()}
        )
    later = ProvisionRun.objects.filter(month__gt=month).order_by("month").first()
    if later is not None:
        problems.append(
            _("%(l)s 已计提，不能再计提更早的 %(m)s；请按月份顺序计提。")
            % {"l": later.label, "m": month.strftime("%Y-%m")}
        )
    return problems


def provision_run(
    *, month: dt.date, actor: Any, today: dt.date | None = None
) -> tuple[ProvisionRun, bool]:
    """The monthly provision run of ``month`` (计提贷款损失准备); returns ``(run, created)``.

    Required reserve per product × class = 一般准备 (general % of the balance) + 专项准备
    (the class's % of the balance), each rounded half-up to the fen, from the balances and
    classes at the month end. Per product the difference to the reserve's balance at the month
    end is posted on the month-end date: Dr 资产减值损失 / Cr 贷款损失准备 (a release: the
    reverse). A re-run that finds no difference stores and posts nothing and returns the
    month's latest run (``created`` False)."""
    _require(actor, _("没有执行贷款损失准备计提的权限。"))
    started = time.perf_counter()
    month = month_start(month)
    end = last_day(month)
    problems = run_blockers(month, today)
    if problems:
        raise InvalidState(problems[0])
    with transaction.atomic():
        _lock_period(month)
        ensure_open(end)  # a closed month refuses the run with the guard's message
        reserve_lock()
        balances = selectors.month_end_balances(end)
        rates = selectors.current_rates()
        lines: list[ProvisionLine] = []
        required: dict[int, int] = {}
        for (product_id, cls), (loans, balance) in sorted(balances.items()):
            general_pct = Decimal(rates.general_pct)
            specific_pct = rates.specific_pct(cls)
            general = selectors.share(balance, general_pct)
            specific = selectors.share(balance, specific_pct)
            lines.append(
                ProvisionLine(
                    product_id=product_id,
                    classification=cls,
                    loans=loans,
                    balance=Money.from_fen(balance),  # type: ignore[misc]
                    general_pct=general_pct,
                    specific_pct=specific_pct,
                    general=Money.from_fen(general),  # type: ignore[misc]
                    specific=Money.from_fen(specific),  # type: ignore[misc]
                    required=Money.from_fen(general + specific),  # type: ignore[misc]
                )
            )
            required[product_id] = required.get(product_id, 0) + general + specific
        previous = selectors.reserve_balances(upto=end)
        products = sorted(set(required) | {p for p, v in previous.items() if v})
        diffs = {p: required.get(p, 0) - previous.get(p, 0) for p in products}
        last = selectors.latest_run(month)
        if last is not None and not any(diffs.values()):
            return last, False
        run = ProvisionRun.objects.create(
            month=month,
            sequence=(last.sequence + 1) if last else 1,
            month_end=end,
            rates=rates if rates.pk else None,
            rates_used=rates.as_dict() | {"version": rates.version},
            loans=sum(v[0] for v in balances.values()),
            balance=Money.from_fen(sum(v[1] for v in balances.values())),  # type: ignore[misc]
            required=Money.from_fen(sum(required.values())),  # type: ignore[misc]
            previous=sum(previous.get(p, 0) for p in products),
            posted=sum(diffs.values()),
            actor=actor if getattr(actor, "is_authenticated", False) else None,
        )
        for line in lines:
            line.run = run
        ProvisionLine.objects.bulk_create(lines, batch_size=1000)
        by_pk = Product.objects.in_bulk(products)
        postings = []
        for product_id in products:
            diff = diffs[product_id]
            entry = None
            if diff:
                charge = diff > 0
                entry = ledger.post_entry(
                    loan=None,
                    product=by_pk[product_id],
                    kind=JournalEntry.Kind.PROVISION,
                    business_date=end,
                    actor=actor,
                    memo=(
                        f"{'计提' if charge else '转回'}贷款损失准备 {month:%Y-%m} "
                        f"{by_pk[product_id].name}"
                    ),
                    lines=(
                        [("impairment_loss", diff, 0), ("loan_loss_reserve", 0, diff)]
                        if charge
                        else [("loan_loss_reserve", -diff, 0), ("impairment_loss", 0, -diff)]
                    ),
                )
            postings.append(
                ProvisionPosting(
                    run=run,
                    product_id=product_id,
                    previous=previous.get(product_id, 0),
                    required=Money.from_fen(required.get(product_id, 0)),  # type: ignore[misc]
                    amount=diff,
                    entry=entry,
                )
            )
        ProvisionPosting.objects.bulk_create(postings)
        run.last_entry_id = (
            JournalEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
        )
        run.duration_ms = int((time.perf_counter() - started) * 1000)
        run.save(update_fields=["last_entry_id", "duration_ms"])
        audit_record(
            action="provision.run",
            actor=actor,
            obj=run,
            metadata={
                "month": run.label,
                "sequence": run.sequence,
                "rates": run.rates_used,
                "loans": run.loans,
                "balance": run.balance.fen,
                "required": run.required.fen,
                "previous": run.previous,
                "posted": run.posted,
                "products": {str(p): diffs[p] for p in products},
            },
        )
    return run, True


def reserve_available(product_id: int) -> int:
    """The product's reserve today (credit balance, fen; never below 0 for a write-off)."""
    return max(selectors.reserve_balances().get(product_id, 0), 0)
