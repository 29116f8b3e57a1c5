# ruff: noqa: F811  (pytest fixtures imported by name)
"""The closed-period guard under concurrency (PostgreSQL): a posting in flight holds its month's
period row FOR SHARE, so a close waits for it and stores balances that include it; a posting
started after the close is refused."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, connections, transaction

from credo.lending import ledger
from credo.lending.books import services as books
from credo.lending.books.guard import PeriodClosed
from credo.lending.models import JournalEntry
from tests.lending.conftest import (  # noqa: F401  (fixtures)
    VALUE_DATE,
    borrower,
    finance,
    make_loan,
    product_version,
)
from tests.lending.test_books import (  # noqa: F401  (fixtures)
    JAN,
    accountant,
    book,
    books_role,
    eod_done,
    naive,
    tb_map,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def test_close_waits_for_a_posting_in_flight_and_includes_it(book, accountant, finance):
    eod_done(dt.date(2026, 1, 31))
    holding = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []
    closed_at: list[float] = []

    def posting() -> None:
        try:
            with transaction.atomic():
                ledger.post_entry(
                    loan=book[0],
                    kind=JournalEntry.Kind.FEE,
                    business_date=dt.date(2026, 1, 28),
                    actor=finance,
                    memo="结账时在途的手续费",
                    lines=[("cash", 4242, 0), ("fee_income", 0, 4242)],
                )
                holding.set()
                release.wait(10)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def close() -> None:
        try:
            books.period_close(month=JAN, actor=accountant)
            closed_at.append(time.monotonic())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    a = threading.Thread(target=posting)
    a.start()
    assert holding.wait(10)
    b = threading.Thread(target=close)
    b.start()
    time.sleep(0.5)
    assert not closed_at, "the close did not wait for the posting in flight"
    released = time.monotonic()
    release.set()
    a.join(10)
    b.join(10)
    assert not errors, errors
    assert closed_at and closed_at[0] >= released
    # the stored January includes the posting that was in flight
    assert tb_map(JAN) == naive(JAN)
    assert naive(JAN)["fee_income"][2] >= 4242
    with pytest.raises(PeriodClosed):
        ledger.post_entry(
            loan=book[0],
            kind=JournalEntry.Kind.FEE,
            business_date=dt.date(2026, 1, 29),
            actor=finance,
            memo="结账后",
            lines=[("cash", 1, 0), ("fee_income", 0, 1)],
        )
    assert ledger.verify().ok, ledger.verify().problems
