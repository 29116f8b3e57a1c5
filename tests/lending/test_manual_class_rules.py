"""The pure rules of the servicing approvals (property-tested): waiver amounts against what is
owed, the approver's limit, and the upgrade condition of a 不良 loan."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from credo.lending.servicing import rules
from credo.lending.servicing.rules import Period, upgrade_condition

COMPS = ("penalty", "compound", "fee", "interest")
owed_st = st.fixed_dictionaries({c: st.integers(0, 10**9) for c in COMPS})


@given(owed_st, st.data())
def test_amounts_within_owed_and_policy_are_accepted(owed, data):
    amounts = {c: data.draw(st.integers(0, owed[c])) for c in ("penalty", "fee") if owed[c] > 0}
    problems = rules.check_amounts(amounts, owed, ("penalty", "fee"))
    if sum(amounts.values()) == 0:
        assert problems == [("", "empty")]
    else:
        assert problems == []


@given(owed_st, st.sampled_from(COMPS), st.integers(1, 10**6))
def test_any_amount_above_owed_is_refused(owed, comp, extra):
    problems = rules.check_amounts({comp: owed[comp] + extra}, owed, COMPS)
    assert (comp, "over_owed") in problems


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6))
def test_penalty_and_compound_together_never_exceed_the_penalty_owed(p, c, owed_penalty):
    owed = {"penalty": owed_penalty, "compound": owed_penalty}
    problems = rules.check_amounts({"penalty": p, "compound": c}, owed, COMPS)
    assert (problems in ([], [("", "empty")])) == (p + c <= owed_penalty)


def test_interest_not_in_default_policy():
    assert rules.check_amounts({"interest": 1}, {"interest": 5}, rules.DEFAULT_COMPONENTS) == [
        ("interest", "not_allowed")
    ]


def test_approver_limit():
    assert rules.approver_limit({"risk_manager"}, None) is None
    assert rules.approver_limit({"risk_manager"}, 500) == 500
    setting = {"risk_manager": 100_00, "management": None, "*": 10_00}
    assert rules.approver_limit({"risk_manager"}, setting) == 100_00
    assert rules.approver_limit({"risk_manager", "management"}, setting) is None
    assert rules.approver_limit({"team_lead"}, setting) == 10_00
    assert rules.approver_limit({"team_lead"}, {"risk_manager": 1}) == 0


START = dt.date(2025, 1, 10)


def _periods(n: int, late: set[int], paid_upto: int) -> list[Period]:
    out = []
    for k in range(1, n + 1):
        due = rules.add_months(START, k)
        if k > paid_upto:
            out.append(Period(due, None))
        else:
            out.append(Period(due, due + dt.timedelta(days=20) if k in late else due))
    return out


@given(st.integers(1, 36), st.sets(st.integers(1, 36)), st.integers(0, 36), st.integers(0, 1200))
def test_upgrade_never_with_arrears_or_too_soon(n, late, paid_upto, offset):
    paid_upto = min(paid_upto, n)
    periods = _periods(n, late, paid_upto)
    today = START + dt.timedelta(days=offset)
    check = upgrade_condition(periods, today=today, start=START, dpd=0)
    if check.ok:
        due = [p for p in periods if p.due_date < today]
        assert all(p.paid_on is not None for p in due)
        assert check.on_time_periods >= 2
        assert today >= rules.add_months(check.since, 6)
        # the periods after the arrears were cleared were all paid on time
        after = [p for p in due if p.due_date > check.since]
        assert len(after) >= 2 and all(p.paid_on <= p.due_date for p in after)
    assert not upgrade_condition(periods, today=today, start=START, dpd=1).ok


def test_upgrade_examples():
    # period 2 paid 20 days late; periods 3..9 on time
    periods = _periods(9, {2}, 9)
    cleared = rules.add_months(START, 2) + dt.timedelta(days=20)
    # 4 months later: two periods on time but not yet 6 months → refused (the longer)
    check = upgrade_condition(periods, today=rules.add_months(cleared, 4), start=START, dpd=0)
    assert (check.ok, check.code) == (False, "months")
    assert check.earliest == rules.add_months(cleared, 6)
    check = upgrade_condition(periods, today=rules.add_months(cleared, 6), start=START, dpd=0)
    assert check.ok and check.on_time_periods >= 2
    # one on-time period after the arrears: refused
    check = upgrade_condition(
        _periods(3, {2}, 3), today=rules.add_months(START, 3) + dt.timedelta(1), start=START, dpd=0
    )
    assert (check.ok, check.code) == (False, "periods")
    # arrears still open
    check = upgrade_condition(
        _periods(4, set(), 2), today=rules.add_months(START, 5), start=START, dpd=0
    )
    assert (check.ok, check.code) == (False, "arrears")


def test_is_upgrade():
    assert rules.is_upgrade("substandard", "special_mention")
    assert not rules.is_upgrade("normal", "loss")
