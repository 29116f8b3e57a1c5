"""The closed-period guard of :func:`credo.lending.ledger.post_entry`.

A posting takes a *share* lock on its month's period row (PostgreSQL ``FOR SHARE``): postings
do not block each other, but the close (``FOR UPDATE`` on the same row) waits for postings in
flight and every later posting waits for the close and then sees the month closed. So the
balances a close stores can never miss a posting that committed after it. Lock order: the
period row is a leaf — taken after the loan and its installments, nothing after it.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils.translation import gettext as _

from credo.lending.books.models import AccountingPeriod
from credo.lending.errors import InvalidState


class PeriodClosed(InvalidState):
    code = "period_closed"


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def ensure_open(business_date: dt.date) -> None:
    """Refuse a posting dated in a closed (or reopen-pending) month."""
    if isinstance(business_date, dt.datetime):
        business_date = business_date.date()
    month = month_of(business_date)
    # a constant statement (the model's own table name), parameters bound by the driver
    sql = f"SELECT status FROM {AccountingPeriod._meta.db_table} WHERE month = %s FOR SHARE"  # noqa: S608
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(sql, [month])
            row = cur.fetchone()
            if row is None:
                # the first posting of a month creates its (open) row, so a close racing with
                # this posting finds the row and waits for our share lock
                AccountingPeriod.objects.bulk_create(
                    [AccountingPeriod(month=month)], ignore_conflicts=True
                )
                cur.execute(sql, [month])
                row = cur.fetchone()
        status = row[0] if row else AccountingPeriod.Status.OPEN
    else:  # SQLite: one writer at a time, no row locks needed
        status = (
            AccountingPeriod.objects.filter(month=month).values_list("status", flat=True).first()
            or AccountingPeriod.Status.OPEN
        )
    if status != AccountingPeriod.Status.OPEN:
        raise PeriodClosed(
            _(
                "记账日期 %(d)s 所属会计期间 %(m)s 已结账，不能再记入该期间。"
                "迟到的款项请按今天的记账日期入账（倒起息的差额由重算在当前期间调整）；"
                "确需更正该期间，请先申请反结账并经第二人审批。"
            )
            % {"d": business_date.isoformat(), "m": month.strftime("%Y-%m")}
        )


def open_business_date(value_date: dt.date, today: dt.date) -> dt.date:
    """The date a posting with ``value_date`` can carry: itself if its month is open, else
    ``today`` (late money lands in the open period; its value date stays on the posting)."""
    status = (
        AccountingPeriod.objects.filter(month=month_of(value_date))
        .values_list("status", flat=True)
        .first()
    )
    if status in (None, AccountingPeriod.Status.OPEN):
        return value_date
    return today
