"""The tables of the loan detail page (还款计划, 还款记录, 会计分录) as rows of display text.

The schedule (up to 360 rows on a 30-year loan) and the journal (several lines per posting)
are the largest loops of the page. Formatting each cell in the template costs a chain of
variable lookups and a filter per cell (≈ 0.1 ms a schedule row); these builders format each
value once, with the same rules the template used — :func:`format_fen` is ``|yuan``,
``isoformat()`` is ``|date:"Y-m-d"`` of a date, :func:`choice_label` is ``get_FOO_display`` —
and the template only places the (auto-escaped) strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from functools import cache
from types import SimpleNamespace
from typing import Any

from django.db import models
from django.utils.encoding import force_str

from credo.core.money import format_fen
from credo.lending.models import Installment, JournalEntry, Loan, Posting

INSTALLMENT_CLASS: dict[str, str] = {
    Installment.Status.PAID: "table-success",
    Installment.Status.OVERDUE: "table-danger",
    Installment.Status.DUE: "table-warning",
}


@cache
def _choices(model: type[models.Model], field: str) -> dict[Any, Any]:
    # the field's (value → lazy label) pairs, fixed by the code; translated on every call below
    concrete = next(f for f in model._meta.concrete_fields if f.name == field)
    return dict(concrete.flatchoices)


def choice_label(model: type[models.Model], field: str, value: Any) -> Any:
    """``instance.get_FOO_display()`` for a value of ``model.field`` (in the active language)
    without building the choices dict on every call."""
    return force_str(_choices(model, field).get(value, value), strings_only=True)


def _date(value: dt.date | None) -> str:
    return value.isoformat() if value is not None else ""


INSTALLMENT_FIELDS = (
    "period",
    "due_date",
    "principal_due",
    "interest_due",
    "fee_due",
    "penalty_due",
    "principal_paid",
    "interest_paid",
    "fee_paid",
    "penalty_paid",
    "status",
    "paid_on",
)
_MONEY = INSTALLMENT_FIELDS[2:10]


def installment_rows(loan: Loan) -> tuple[list[dict[str, Any]], SimpleNamespace | None]:
    """还款计划: one row per installment, by period — the columns it shows, each as text
    (``status`` stays the code, ``status_label`` is its label, ``css`` the row's class) — and
    installment 1 as read (``status``, ``due_date``, ``paid_on``: what the upfront fee's status
    needs), None before disbursement."""
    rows = list(loan.installments.order_by("period").values(*INSTALLMENT_FIELDS))
    first = (
        SimpleNamespace(
            status=rows[0]["status"], due_date=rows[0]["due_date"], paid_on=rows[0]["paid_on"]
        )
        if rows
        else None
    )
    for row in rows:
        status = row["status"]
        row["css"] = INSTALLMENT_CLASS.get(status, "")
        row["status_label"] = choice_label(Installment, "status", status)
        row["due_date"] = _date(row["due_date"])
        row["paid_on"] = _date(row["paid_on"])
        for key in _MONEY:
            row[key] = format_fen(row[key].fen)
    return rows, first


def _part(allocation: Any, *keys: str) -> Any:
    # ``allocation.totals.fee`` as the template resolved it: "" when a level is missing
    value = allocation
    for key in keys:
        if not isinstance(value, Mapping):
            return ""
        value = value.get(key, "")
    return value


def _user_name(user: Any) -> Any:
    # ``user.display_name|default:user.username``
    return (user.display_name or user.username) if user is not None else ""


def posting_rows(postings: Iterable[Posting]) -> list[dict[str, Any]]:
    """还款记录: one row per posting (with ``actor`` loaded), its allocation totals as yuan."""
    rows = []
    for p in postings:
        alloc = p.allocation
        credit = _part(alloc, "credit")
        rows.append(
            {
                "pk": p.pk,
                "reversed": p.reversed_at is not None,
                "received_on": _date(p.received_on),
                "amount": format_fen(p.amount.fen),
                "channel": choice_label(Posting, "channel", p.channel),
                "reference": p.reference,
                "penalty": format_fen(_part(alloc, "totals", "penalty") or 0),
                "fee": format_fen(_part(alloc, "totals", "fee") or 0),
                "interest": format_fen(_part(alloc, "totals", "interest") or 0),
                "principal": format_fen(_part(alloc, "totals", "principal") or 0),
                "credit": format_fen(credit) if credit else "",
                "actor": _user_name(p.actor),
            }
        )
    return rows


def journal(loan: Loan) -> tuple[bool, list[dict[str, Any]]]:
    """会计分录: whether the loan has entries, and one row per line of each entry (by entry,
    then line), the entry's date, kind and memo on its first line. One query: the entries
    joined to their lines and accounts (an entry without lines gives no row)."""
    rows: list[dict[str, Any]] = []
    has_entries = False
    last = None
    for e in loan.entries.order_by("id", "lines__id").values(
        "id",
        "kind",
        "business_date",
        "memo",
        "lines__id",
        "lines__debit",
        "lines__credit",
        "lines__account__code",
        "lines__account__name",
    ):
        has_entries = True
        if e["lines__id"] is None:
            continue
        first = e["id"] != last
        last = e["id"]
        debit, credit = e["lines__debit"].fen, e["lines__credit"].fen
        rows.append(
            {
                "first": first,
                "date": _date(e["business_date"]) if first else "",
                "kind": choice_label(JournalEntry, "kind", e["kind"]) if first else "",
                "account": f"{e['lines__account__code']} {e['lines__account__name']}",
                "debit": format_fen(debit) if debit else "",
                "credit": format_fen(credit) if credit else "",
                "memo": e["memo"] if first else "",
            }
        )
    return has_entries, rows
