"""The provisions' part of ``credo ledger verify``.

* Only provision runs, write-offs, recoveries (and their reversals) touch 贷款损失准备.
* Per product, the reserve's GL balance = the run postings (as stored on the runs) − the reserve
  used by write-offs + the principal recovered after write-off; every run posting is in the GL
  with the amount the run stored.
* Each run's lines add up to its required amount per product, and, for the latest run of every
  month, the GL right after the run (entries dated up to the month end, up to the run's last
  entry) shows exactly the required reserve.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Sum

from credo.lending.ledger import account_id, fen
from credo.lending.models import JournalEntry, JournalLine
from credo.lending.provisions.models import ProvisionLine, ProvisionPosting, ProvisionRun
from credo.lending.provisions.selectors import reserve_balances

K = JournalEntry.Kind
ALLOWED = {K.PROVISION, K.WRITE_OFF, K.RECOVERY, K.REVERSAL}


def provision_problems() -> list[str]:
    problems: list[str] = []
    reserve = account_id("loan_loss_reserve")
    for row in (
        JournalLine.objects.filter(account_id=reserve)
        .exclude(entry__kind__in=ALLOWED)
        .values("entry_id", "entry__kind")
        .order_by("entry_id")[:20]
    ):
        problems.append(
            f"entry {row['entry_id']} ({row['entry__kind']}) posts to loan_loss_reserve: only "
            "provision runs, write-offs and recoveries may"
        )
    gl = reserve_balances()
    by_kind = {
        kind: reserve_balances(kinds=[kind])
        for kind in (K.PROVISION, K.WRITE_OFF, K.RECOVERY, K.REVERSAL)
    }
    stored: dict[int, int] = defaultdict(int)
    for agg in ProvisionPosting.objects.values("product_id").annotate(s=Sum("amount")).order_by():
        stored[agg["product_id"]] = int(agg["s"] or 0)
    for product in sorted(set(gl) | set(stored) | set(by_kind[K.PROVISION])):
        posted = by_kind[K.PROVISION].get(product, 0)
        if posted != stored.get(product, 0):
            problems.append(
                f"product {product}: provision entries in the GL {posted} ≠ run postings "
                f"{stored.get(product, 0)} (fen)"
            )
        expected = (
            stored.get(product, 0)
            + by_kind[K.WRITE_OFF].get(product, 0)
            + by_kind[K.RECOVERY].get(product, 0)
            + by_kind[K.REVERSAL].get(product, 0)
        )
        if gl.get(product, 0) != expected:
            problems.append(
                f"product {product}: loan_loss_reserve {gl.get(product, 0)} ≠ run postings ± "
                f"write-offs/recoveries {expected} (fen)"
            )
    # every posting with an amount has its entry, with that amount on the reserve
    entry_amounts = {
        row["entry_id"]: fen(row["c"]) - fen(row["d"])
        for row in JournalLine.objects.filter(
            account_id=reserve, entry__provision_posting__isnull=False
        )
        .values("entry_id")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by()
    }
    for p in ProvisionPosting.objects.select_related("run").order_by("id"):
        got = entry_amounts.get(p.entry_id, 0) if p.entry_id else 0
        if got != p.amount or p.previous + p.amount != p.required.fen:
            problems.append(
                f"provision run {p.run}: product {p.product_id} posted {got}, stored "
                f"{p.previous} + {p.amount} → {p.required.fen} (fen)"
            )
    line_sums: dict[tuple[int, int], int] = {
        (row["run_id"], row["product_id"]): fen(row["s"])
        for row in ProvisionLine.objects.values("run_id", "product_id")
        .annotate(s=Sum("required"))
        .order_by()
    }
    for pv in ProvisionPosting.objects.values("run_id", "product_id", "required"):
        key = (pv["run_id"], pv["product_id"])
        if line_sums.get(key, 0) != fen(pv["required"]):
            problems.append(
                f"provision run {pv['run_id']}: product {pv['product_id']} lines "
                f"{line_sums.get(key, 0)} ≠ required {fen(pv['required'])} (fen)"
            )
    latest: dict[object, ProvisionRun] = {}
    for run in ProvisionRun.objects.order_by("month", "sequence"):
        latest[run.month] = run
    for run in latest.values():
        after = reserve_balances(upto=run.month_end, last_entry_id=run.last_entry_id)
        required = {p.product_id: p.required.fen for p in run.postings.all()}
        for product in sorted(set(after) | set(required)):
            if after.get(product, 0) != required.get(product, 0):
                problems.append(
                    f"provision run {run}: product {product} reserve after the run "
                    f"{after.get(product, 0)} ≠ required {required.get(product, 0)} (fen)"
                )
    return problems
