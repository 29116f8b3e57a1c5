"""Known answers for the 24-month repayment status string and the month-end figures
(pure functions of a loan's facts, :mod:`credo.creditreport.compute`)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from credo.creditreport import compute
from credo.creditreport.compute import Inst, LoanFacts

D = dt.date


def idx(y: int, m: int) -> int:
    return compute.month_index(D(y, m, 1))


def monthly(start: D, n: int, paid: dict[int, D | None], principal: int = 100_000) -> list[Inst]:
    """``n`` monthly installments due on the start day of each following month; ``paid`` maps
    a period to the day it was settled (missing: paid on its due date; None: unpaid)."""
    out = []
    for p in range(1, n + 1):
        m = start.month - 1 + p
        due = D(start.year + m // 12, m % 12 + 1, start.day)
        on = paid.get(p, due)
        pr = principal if on else 0
        out.append(Inst(p, due, principal, 1_000, 0, pr, 1_000 if on else 0, 0, on))
    return out


def test_overdue_then_repaid_sequence():
    # opened 2025-01-15, 12 installments due on the 15th from 2025-02-15
    insts = monthly(
        D(2025, 1, 15),
        12,
        {
            2: D(2025, 4, 20),  # March's paid late in April: 1 at the end of March
            4: D(2025, 7, 10),  # May's and June's paid in July: 1 at May end, 2 at June end
            5: D(2025, 7, 10),
            9: None,  # October's, November's and December's never paid: 1, 2, 3
            10: None,
            11: None,
        },
    )
    facts = LoanFacts(1_200_000, D(2025, 1, 15), D(2026, 1, 15), insts)
    text = compute.status_history(facts, idx(2025, 12))
    # 2024-01 … 2024-12 not open, 2025-01 open with nothing due, then February … December
    assert text == "/" * 12 + "*" + "N1N12NNN123"
    assert compute.month_status(facts, idx(2025, 6)) == "2"


def test_restructure_then_write_off():
    # overdue from 2025-03; restructured (展期) 2025-05-10: the unpaid rows are closed on that
    # day (their dues cut to what was paid, as the restructuring service does) and the unpaid
    # principal moves into a new schedule, which is missed again; written off 2025-09-30
    old = [
        Inst(1, D(2025, 2, 15), 100_000, 0, 0, 100_000, 0, 0, D(2025, 2, 15)),
        Inst(2, D(2025, 3, 15), 0, 0, 0, 0, 0, 0, D(2025, 5, 10)),
        Inst(3, D(2025, 4, 15), 0, 0, 0, 0, 0, 0, D(2025, 5, 10)),
    ]
    new = [
        Inst(4, D(2025, 6, 15), 150_000, 0, 0, 150_000, 0, 0, D(2025, 6, 15)),
        Inst(5, D(2025, 7, 15), 150_000),
        Inst(6, D(2025, 8, 15), 150_000),
        Inst(7, D(2025, 9, 15), 150_000),
    ]
    facts = LoanFacts(
        700_000,
        D(2025, 1, 15),
        D(2025, 12, 15),
        old + new,
        written_off_on=D(2025, 9, 30),
        restructurings=[(D(2025, 5, 10), "extension")],
    )
    assert compute.status_history(facts, idx(2025, 10))[-10:] == "*N12*N12GG"
    may = compute.account_figures(facts, idx(2025, 5))
    assert may["events"] == [{"kind": "extension", "date": "2025-05-10"}]
    assert may["account_status"] == "open" and may["overdue_periods"] == 0
    aug = compute.account_figures(facts, idx(2025, 8))
    assert (aug["overdue_periods"], aug["overdue_principal"], aug["balance"]) == (
        2,
        300_000,
        450_000,
    )
    sep = compute.account_figures(facts, idx(2025, 9))
    assert sep["account_status"] == "written_off" and sep["balance"] == 0
    assert sep["events"] == [{"kind": "write_off", "date": "2025-09-30"}]
    assert sep["status_string"][-1] == "G"
    assert not compute.is_reported(facts, idx(2025, 10))


def test_early_settlement_and_quarterly_and_guarantor():
    # quarterly interest (due every 3 months): months without a due are "*"
    insts = [
        Inst(1, D(2025, 4, 10), 0, 3_000, 0, 0, 3_000, 0, D(2025, 4, 10)),
        Inst(2, D(2025, 7, 10), 0, 3_000, 0, 0, 3_000, 0, D(2025, 7, 10)),
        Inst(3, D(2025, 10, 10), 0, 3_000),
        Inst(4, D(2026, 1, 10), 100_000, 3_000),
    ]
    facts = LoanFacts(100_000, D(2025, 1, 10), D(2026, 1, 10), insts)
    assert compute.status_history(facts, idx(2025, 8))[-8:] == "***N**N*"
    # the guarantor paid the October interest (代偿), then the borrower settled early
    paid = [
        *insts[:2],
        Inst(3, D(2025, 10, 10), 0, 3_000, 0, 0, 3_000, 0, D(2025, 10, 12)),
        Inst(4, D(2026, 1, 10), 100_000, 3_000, 0, 100_000, 3_000, 0, D(2025, 11, 20)),
    ]
    settled = LoanFacts(
        100_000,
        D(2025, 1, 10),
        D(2026, 1, 10),
        paid,
        settled_on=D(2025, 11, 20),
        guarantor_paid=frozenset({idx(2025, 10)}),
    )
    assert compute.status_history(settled, idx(2025, 12))[-12:] == "***N**N**DCC"
    nov = compute.account_figures(settled, idx(2025, 11))
    assert nov["account_status"] == "settled" and nov["closed_on"] == D(2025, 11, 20)
    assert nov["events"] == [{"kind": "early_settlement", "date": "2025-11-20"}]
    assert compute.is_reported(settled, idx(2025, 11))
    assert not compute.is_reported(settled, idx(2025, 12))


def test_partial_payment_counts_in_balance_and_arrears():
    insts = [Inst(1, D(2025, 2, 15), 100_000, 5_000, 0, 100_000, 5_000, 0, D(2025, 3, 20))]
    # 30,000 principal + 5,000 interest had been paid by the end of February
    facts = LoanFacts(
        100_000, D(2025, 1, 15), D(2025, 2, 15), insts, partial={1: (30_000, 5_000, 0)}
    )
    feb = compute.account_figures(facts, idx(2025, 2))
    assert (feb["balance"], feb["overdue_principal"], feb["overdue_amount"]) == (
        70_000,
        70_000,
        70_000,
    )
    assert feb["overdue_days"] == 13 and feb["due_in_month"] == 105_000


def test_fingerprint_sees_every_reported_field():
    row = {"balance": 1, "status_string": "N" * 24, "events": []}
    assert compute.fingerprint(row) == compute.fingerprint(dict(row))
    assert compute.fingerprint(row) != compute.fingerprint({**row, "balance": 2})
    assert compute.changed_fields(row, {**row, "balance": 2}) == ["balance"]


# --- properties ------------------------------------------------------------------------------
START = D(2024, 3, 10)


@st.composite
def loans(draw):
    n = draw(st.integers(1, 30))
    insts = []
    for p in range(1, n + 1):
        m = START.month - 1 + p
        due = D(START.year + m // 12, m % 12 + 1, START.day)
        late = draw(st.one_of(st.none(), st.integers(0, 400)))
        on = None if late is None else due + dt.timedelta(days=late)
        insts.append(Inst(p, due, 1_000, 100, 0, 1_000 if on else 0, 100 if on else 0, 0, on))
    settled = draw(st.one_of(st.none(), st.dates(START, D(2027, 12, 31))))
    wo = draw(st.one_of(st.none(), st.dates(START, D(2027, 12, 31))))
    return LoanFacts(
        1_000 * n, START, insts[-1].due_date, insts, settled_on=settled, written_off_on=wo
    )


@settings(max_examples=200, deadline=None)
@given(loans(), st.integers(idx(2024, 1), idx(2028, 6)))
def test_history_is_a_sliding_window_of_month_statuses(facts, end):
    text = compute.status_history(facts, end)
    assert compute.valid_status_string(text)
    assert text == "".join(compute.month_status(facts, m) for m in range(end - 23, end + 1))
    assert compute.status_history(facts, end + 1)[:-1] == text[1:]


@settings(max_examples=200, deadline=None)
@given(loans(), st.integers(idx(2024, 3), idx(2028, 6)))
def test_month_figures_agree_with_the_status(facts, m):
    fig = compute.account_figures(facts, m)
    char = fig["status_string"][-1]
    if fig["account_status"] == "overdue":
        assert char == str(min(fig["overdue_periods"], 7))
        assert fig["overdue_principal"] <= fig["balance"]
    elif fig["account_status"] == "written_off":
        assert char == "G" and fig["balance"] == 0
    elif fig["account_status"] == "settled":
        assert char == "C" and fig["balance"] == 0
    else:
        assert char in "N*" and fig["overdue_amount"] == 0
