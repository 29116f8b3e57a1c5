"""The pure replay engine (no database): on-time ≡ late, idempotence, day-by-day ≡ replay, and
the conventions (罚息, 复利, grace, DPD, 节假日顺延, classification upgrade rule, floor)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from credo.core.holidays import WorkingCalendar
from credo.lending.replay.engine import (
    ClassFloor,
    LoanTerms,
    MoneyEvent,
    ScheduleRow,
    apply_event,
    close_day,
    daily_penalty,
    initial_state,
    ledger_balances,
    replay,
)

D = dt.date
CAL = WorkingCalendar()
START = D(2025, 1, 10)


def schedule(n: int = 6, principal: int = 600_000, interest: int = 6_000) -> list[ScheduleRow]:
    rows = []
    for k in range(n):
        m = START.month + k + 1
        due = D(START.year + (m - 1) // 12, (m - 1) % 12 + 1, 10)
        rows.append(ScheduleRow(k + 1, due, principal // n, interest, 0, id=100 + k))
    return rows


def terms(**kw) -> LoanTerms:
    base = {
        "principal": 600_000,
        "annual_rate": Decimal("12"),
        "start_date": START,
        "holiday_rule": "none",
    }
    base.update(kw)
    return LoanTerms(**base)


def snapshot(state):
    return (
        state.status,
        state.dpd,
        state.classification,
        state.credit_balance,
        state.outstanding_principal,
        [
            (
                i.period,
                i.status,
                i.paid_on,
                i.penalty_due,
                i.compound_due,
                i.principal_paid,
                i.interest_paid,
                i.fee_paid,
                i.penalty_paid,
            )
            for i in state.insts
        ],
    )


def day_by_day(t, sched, events, as_of, floor=None):
    """The live system: each day its events are posted on time, then the day is closed."""
    state = initial_state(t, sched)
    day = t.start_date
    evs = sorted(enumerate(events), key=lambda p: (p[1].value_date, p[0]))
    pos = 0
    history = []
    while day <= as_of:
        while pos < len(evs) and evs[pos][1].value_date == day:
            apply_event(state, evs[pos][1], t)
            pos += 1
        out = close_day(state, day, t, CAL, floor)
        if out.class_change:
            history.append(out.class_change)
        day += dt.timedelta(days=1)
    return state, history


repayments = st.lists(
    st.tuples(st.integers(0, 260), st.integers(1, 200_000)), min_size=0, max_size=12
)
term_options = st.fixed_dictionaries(
    {
        "grace_days": st.integers(0, 5),
        "compound": st.booleans(),
        "penalty_from": st.sampled_from(["due_date", "grace_end"]),
        "holiday_rule": st.sampled_from(["none", "defer_penalty"]),
        "penalty_days_in_year": st.sampled_from([360, 365]),
    }
)


def to_events(pairs):
    return [
        MoneyEvent("repayment", START + dt.timedelta(days=d), id=k, amount=a)
        for k, (d, a) in enumerate(pairs)
    ]


@settings(max_examples=30)
@given(pairs=repayments, opts=term_options, horizon=st.integers(0, 330))
def test_day_by_day_close_equals_one_replay(pairs, opts, horizon):
    """(c) closing every day (the close of business) == one replay (fast path) to the date."""
    t = terms(**opts)
    sched = schedule()
    events = to_events(pairs)
    as_of = START + dt.timedelta(days=horizon)
    events = [e for e in events if e.value_date <= as_of]
    live, history = day_by_day(t, sched, events, as_of)
    fast = replay(t, sched, events, as_of, CAL)
    assert snapshot(fast.state) == snapshot(live)
    assert fast.class_history == history
    assert fast.ledger == ledger_balances(t, live)


@settings(max_examples=30)
@given(pairs=repayments, opts=term_options, data=st.data())
def test_posted_on_time_equals_posted_late(pairs, opts, data):
    """(a) the events posted on their value dates == the same events arriving late in any order
    (the book closed without them, then replayed): same state, same ledger balances."""
    t = terms(**opts)
    sched = schedule()
    as_of = START + dt.timedelta(days=300)
    events = to_events(pairs)
    on_time, _h = day_by_day(t, sched, events, as_of)
    shuffled = list(events)
    random.Random(data.draw(st.integers(0, 10_000))).shuffle(shuffled)
    # the book first closed to as_of with only part of the money, then the rest arrived late
    cut = data.draw(st.integers(0, len(shuffled)))
    replay(t, sched, shuffled[:cut], as_of, CAL)
    late = replay(t, sched, shuffled, as_of, CAL)
    assert snapshot(late.state) == snapshot(on_time)
    assert late.ledger == ledger_balances(t, on_time)
    assert sum(late.ledger.values()) == 0  # balanced


@settings(max_examples=20)
@given(pairs=repayments, opts=term_options)
def test_replay_is_idempotent(pairs, opts):
    """(b) replaying again gives the same state and ledger (no second adjustment)."""
    t = terms(**opts)
    sched = schedule()
    events = to_events(pairs)
    as_of = START + dt.timedelta(days=250)
    one = replay(t, sched, events, as_of, CAL)
    two = replay(t, sched, events, as_of, CAL)
    assert snapshot(one.state) == snapshot(two.state)
    assert one.ledger == two.ledger and one.allocations == two.allocations


def test_back_valued_payment_leaves_no_penalty():
    """The issue's scenario: due 02-15, closed to 02-20, paid with value date 02-15."""
    t = terms(start_date=D(2026, 1, 15))
    sched = [
        ScheduleRow(1, D(2026, 2, 15), 1_000_000, 67_185, id=1),
        ScheduleRow(2, D(2026, 3, 15), 1_000_000, 50_000, id=2),
    ]
    before = replay(t, sched, [], D(2026, 2, 20), CAL)
    assert before.status == "overdue" and before.dpd == 5
    assert before.state.insts[0].penalty_due > 0
    pay = MoneyEvent("repayment", D(2026, 2, 15), id=9, amount=1_067_185)
    after = replay(t, sched, [pay], D(2026, 2, 20), CAL)
    first = after.state.insts[0]
    assert first.status == "paid" and first.penalty_due == 0 and first.paid_on == D(2026, 2, 15)
    assert first.principal_paid == 1_000_000
    assert (after.status, after.dpd, after.classification) == ("active", 0, "normal")
    assert after.allocations[9]["totals"] == {
        "penalty": 0,
        "fee": 0,
        "interest": 67_185,
        "principal": 1_000_000,
    }


def test_penalty_and_compound_figures():
    """10,000.00 principal + 100.00 interest overdue at 12 % × 1.5 / 360: 罚息 5.00/day, 复利
    0.05/day; grace 0 → charged from the day after the due date."""
    t = terms(principal=1_000_000)
    sched = [ScheduleRow(1, D(2025, 2, 10), 1_000_000, 10_000, id=1)]
    assert daily_penalty(t, 1_000_000) == 500 and daily_penalty(t, 10_000) == 5
    r = replay(t, sched, [], D(2025, 2, 20), CAL)
    inst = r.state.insts[0]
    assert (inst.penalty_due, inst.compound_due) == (10 * 505, 10 * 5)
    assert (r.penalty_total, r.compound_total) == (5000, 50)
    off = replay(terms(principal=1_000_000, compound=False), sched, [], D(2025, 2, 20), CAL)
    assert off.state.insts[0].penalty_due == 5000


def test_grace_dpd_counts_from_due_date_and_penalty_is_retroactive():
    t = terms(principal=1_000_000, grace_days=3, compound=False)
    sched = [ScheduleRow(1, D(2025, 2, 10), 1_000_000, 10_000, id=1)]
    seen = []
    for n in range(1, 6):
        r = replay(t, sched, [], D(2025, 2, 10) + dt.timedelta(days=n), CAL)
        seen.append((r.dpd, r.status, r.state.insts[0].penalty_due))
    assert seen == [
        (1, "active", 0),
        (2, "active", 0),
        (3, "active", 0),
        (4, "overdue", 4 * 500),  # past grace: the 3 grace days + the day, from the due date
        (5, "overdue", 5 * 500),
    ]
    from_end = terms(principal=1_000_000, grace_days=3, compound=False, penalty_from="grace_end")
    r = replay(from_end, sched, [], D(2025, 2, 15), CAL)
    assert r.state.insts[0].penalty_due == 2 * 500
    paid_in_grace = MoneyEvent("repayment", D(2025, 2, 13), id=1, amount=1_010_000)
    r = replay(t, sched, [paid_in_grace], D(2025, 3, 1), CAL)
    assert r.state.insts[0].penalty_due == 0 and r.status == "paid_off"


def test_holiday_defers_penalty_to_next_working_day():
    cal = WorkingCalendar.of(holidays=[D(2025, 10, 1), D(2025, 10, 2), D(2025, 10, 3)])
    t = terms(principal=1_000_000, compound=False, holiday_rule="defer_penalty")
    sched = [ScheduleRow(1, D(2025, 10, 1), 1_000_000, 0, id=1)]
    # 10-01..03 holidays, 10-04/05 weekend → effective due 10-06
    r = replay(t, sched, [], D(2025, 10, 6), cal)
    assert (r.dpd, r.status, r.state.insts[0].penalty_due) == (0, "active", 0)
    r = replay(t, sched, [], D(2025, 10, 7), cal)
    assert (r.dpd, r.status, r.state.insts[0].penalty_due) == (1, "overdue", 500)
    none = replay(terms(principal=1_000_000, compound=False), sched, [], D(2025, 10, 7), cal)
    assert none.dpd == 6 and none.state.insts[0].penalty_due == 6 * 500


def test_next_working_day_rule_honours_holidays_declared_after_the_schedule():
    """Under 'next_working_day' the stored dates were moved at disbursement; a holiday declared
    later (next year's calendar published in the autumn) still defers overdue and penalty."""
    cal = WorkingCalendar.of(holidays=[D(2025, 10, 1), D(2025, 10, 2), D(2025, 10, 3)])
    t = terms(principal=1_000_000, compound=False, holiday_rule="next_working_day")
    sched = [ScheduleRow(1, D(2025, 10, 1), 1_000_000, 0, id=1)]
    r = replay(t, sched, [], D(2025, 10, 6), cal)
    assert (r.dpd, r.status, r.state.insts[0].penalty_due) == (0, "active", 0)
    r = replay(t, sched, [], D(2025, 10, 7), cal)
    assert (r.dpd, r.status, r.state.insts[0].penalty_due) == (1, "overdue", 500)


def test_classification_thresholds_2023_and_loss_not_upgraded_by_paying_arrears():
    t = terms(principal=3_600_000, compound=False)
    sched = [
        ScheduleRow(k + 1, D(2025 + (k + 1) // 12, (k + 1) % 12 + 1, 10), 100_000, 0, id=k)
        for k in range(36)
    ]
    r = replay(t, sched, [], D(2025, 2, 11), CAL)
    assert r.classification == "special_mention"
    for dpd, cls in ((90, "special_mention"), (91, "substandard"), (270, "substandard")):
        r = replay(t, sched, [], D(2025, 2, 10) + dt.timedelta(days=dpd), CAL)
        assert (r.dpd, r.classification) == (dpd, cls)
    r = replay(t, sched, [], D(2025, 2, 10) + dt.timedelta(days=271), CAL)
    assert r.classification == "doubtful"
    loss_day = D(2025, 2, 10) + dt.timedelta(days=361)
    r = replay(t, sched, [], loss_day, CAL)
    assert r.classification == "loss"
    owed = sum(
        i.owed("principal") + i.owed("penalty") for i in r.state.insts if i.status == "overdue"
    )
    pay = MoneyEvent("repayment", loss_day + dt.timedelta(days=1), id=1, amount=owed + 1000)
    cured = replay(t, sched, [pay], loss_day + dt.timedelta(days=2), CAL)
    assert cured.status == "active" and cured.dpd == 0
    assert cured.classification == "loss"  # arrears repaid is not enough
    # two more periods paid on time, but < 6 months: still 损失
    on_time = [
        MoneyEvent("repayment", i.due_date, id=10 + i.period, amount=100_000)
        for i in cured.state.insts
        if i.due_date > pay.value_date
    ]
    r = replay(t, sched, [pay, *on_time], pay.value_date + dt.timedelta(days=70), CAL)
    assert r.classification == "loss"
    r = replay(t, sched, [pay, *on_time], pay.value_date + dt.timedelta(days=190), CAL)
    assert r.classification == "normal"
    assert [h[2] for h in r.class_history] == [
        "special_mention",
        "substandard",
        "doubtful",
        "loss",
        "normal",
    ]


def test_floor_keeps_class_until_date():
    """A floor (重组/人工认定) holds the class; once lifted the 不良 upgrade rule still applies:
    6 months and two periods paid on time after the arrears were cleared."""
    t = terms()
    sched = schedule(12, 1_200_000, 1_000)
    floor = ClassFloor("substandard", D(2025, 4, 1))
    paid = [(31 + 28 * k, 101_000) for k in range(12)]
    r = replay(t, sched, to_events(paid[:1]), D(2025, 3, 1), CAL, floor)
    assert r.classification == "substandard"
    r = replay(t, sched, to_events(paid), D(2025, 4, 2), CAL, floor)
    assert r.classification == "substandard"
    r = replay(t, sched, to_events(paid), D(2025, 8, 15), CAL, floor)
    assert r.classification == "normal"


def test_waiver_reduces_penalty():
    t = terms(principal=1_000_000, compound=False)
    sched = [ScheduleRow(1, D(2025, 2, 10), 1_000_000, 0, id=1)]
    w = MoneyEvent("waiver", D(2025, 2, 15), id="w1", amounts={"penalty": 2000})
    r = replay(t, sched, [w], D(2025, 2, 15), CAL)
    assert r.state.insts[0].penalty_due == 5 * 500 - 2000
    assert r.state.insts[0].waived == {"penalty": 2000}


def test_360_installments_400_events_fast_enough_to_run():
    t = LoanTerms(principal=36_000_000, annual_rate=Decimal("4.9"), start_date=D(2020, 1, 1))
    sched = [
        ScheduleRow(k + 1, D(2020 + (k + 1) // 12, (k + 1) % 12 + 1, 1), 100_000, 5_000, id=k)
        for k in range(360)
    ]
    evs = [
        MoneyEvent("repayment", D(2020, 1, 1) + dt.timedelta(days=27 * k), id=k, amount=90_000)
        for k in range(400)
    ]
    r = replay(t, sched, evs, D(2049, 12, 31), CAL)
    assert sum(r.ledger.values()) == 0


# --- issue 18 item 1: replay THROUGH prepayments and LPR repricings -------------------------


def generated(method: str, principal: int = 600_000, months: int = 12) -> list[ScheduleRow]:
    from credo.lending.schedule import generate

    sched = generate(
        principal=principal, annual_rate=Decimal("12"), months=months, method=method, start=START
    )
    return [
        ScheduleRow(i.period, i.due_date, i.principal, i.interest, 0, id=100 + i.period)
        for i in sched.installments
    ]


def live_with_schedule_events(t, sched, events, as_of):
    """The live system: each day its money is posted on time, the day is closed, then the
    after-close repricing runs (the rate of the day for 罚息 from the next day)."""
    from credo.lending.replay.engine import AFTER_CLOSE, effective_terms

    state = initial_state(t, sched)
    day = t.start_date
    while day <= as_of:
        todays = [e for e in events if e.value_date == day]
        for ev in [e for e in todays if e.kind not in AFTER_CLOSE]:
            apply_event(state, ev, effective_terms(state, t))
        close_day(state, day, effective_terms(state, t), CAL)
        for ev in [e for e in todays if e.kind in AFTER_CLOSE]:
            apply_event(state, ev, effective_terms(state, t))
        day += dt.timedelta(days=1)
    return state


def full_snapshot(state):
    return (
        snapshot(state),
        [(i.period, i.due_date, i.principal_due, i.interest_due, i.fee_due) for i in state.insts],
        state.annual_rate,
    )


@settings(max_examples=15, deadline=None)
@given(
    pairs=repayments,
    opts=term_options,
    method=st.sampled_from(["equal_installment", "equal_principal", "interest_only"]),
    mode=st.sampled_from(["shorten_term", "reduce_payment"]),
    prepay_day=st.integers(1, 240),
    prepay_amount=st.integers(1_000, 400_000),
    reprice_month=st.integers(1, 8),
    rate=st.sampled_from(["9", "10.5", "15"]),
    fee=st.tuples(st.integers(0, 240), st.integers(1, 20_000)),
    data=st.data(),
)
def test_on_time_equals_late_across_prepayment_and_repricing(
    pairs, opts, method, mode, prepay_day, prepay_amount, reprice_month, rate, fee, data
):
    """Any repayments, a prepayment (either mode), an LPR repricing and an ad hoc charge:
    posted on time == the same posted late in any order after later closes (same schedule,
    state and ledger balances)."""
    from credo.lending.replay.engine import add_months

    t = terms(method=method, repayment_day=START.day, **opts)
    sched = generated(method)
    as_of = START + dt.timedelta(days=250)
    events = [
        *to_events(pairs),
        MoneyEvent(
            "prepayment",
            START + dt.timedelta(days=prepay_day),
            id="p",
            amount=prepay_amount,
            mode=mode,
        ),
        MoneyEvent("reprice", add_months(START, reprice_month), id="r", rate=Decimal(rate)),
        MoneyEvent("fee", START + dt.timedelta(days=fee[0]), id="c1", amount=fee[1]),
    ]
    events = [e for e in events if e.value_date <= as_of]
    on_time = live_with_schedule_events(t, sched, events, as_of)
    shuffled = list(events)
    random.Random(data.draw(st.integers(0, 10_000))).shuffle(shuffled)
    cut = data.draw(st.integers(0, len(shuffled)))
    replay(t, sched, shuffled[:cut], as_of, CAL)
    late = replay(t, sched, shuffled, as_of, CAL)
    assert full_snapshot(late.state) == full_snapshot(on_time)
    assert late.ledger == ledger_balances(t, on_time)
    assert sum(late.ledger.values()) == 0
    assert sum(i.principal_due for i in late.state.insts) == t.principal
    again = replay(t, sched, list(reversed(shuffled)), as_of, CAL)  # idempotent, any order
    assert full_snapshot(again.state) == full_snapshot(late.state)


def test_prepayment_rebuild_matches_the_prepayment_arithmetic():
    """The engine's prepayment is the service's: principal = floor(R / (1 + r·d/360)), the
    paid row on the value date, the rest rebuilt (缩短期限 keeps the installment)."""
    t = terms(method="equal_installment", repayment_day=START.day)
    sched = generated("equal_installment")
    day = D(2025, 2, 20)  # 10 days after the first due date (02-10)
    pay = MoneyEvent(
        "repayment", D(2025, 2, 10), id=1, amount=sched[0].principal + sched[0].interest
    )
    pre = MoneyEvent("prepayment", day, id=2, amount=100_000, mode="shorten_term")
    r = replay(t, sched, [pay, pre], D(2025, 2, 20), CAL)
    future = sum(row.principal for row in sched[1:])
    principal = int(Decimal(100_000) / (1 + Decimal(12) * 10 / 36000))
    row = r.state.insts[1]
    assert (row.period, row.due_date, row.status) == (2, day, "paid")
    assert (row.principal_paid, row.interest_paid) == (principal, 100_000 - principal)
    assert r.outstanding_principal == future - principal
    regular = sched[1].principal + sched[1].interest
    rest = r.state.insts[2:]
    assert rest[0].due_date == D(2025, 3, 10)
    assert all(i.principal_due + i.interest_due == regular for i in rest[:-1])
    assert len(rest) < len(sched) - 2  # shorter term
    assert r.allocations[2]["prepayment"]["principal"] == principal


def test_charge_is_due_with_the_next_installment_and_replays():
    t = terms(principal=1_000_000, compound=False)
    sched = [
        ScheduleRow(1, D(2025, 2, 10), 500_000, 10_000, id=1),
        ScheduleRow(2, D(2025, 3, 10), 500_000, 5_000, id=2),
    ]
    charge = MoneyEvent("fee", D(2025, 2, 12), id="c7", amount=3_000)
    pay1 = MoneyEvent("repayment", D(2025, 2, 10), id=1, amount=510_000)
    r = replay(t, sched, [pay1, charge], D(2025, 2, 20), CAL)
    assert r.state.insts[0].status == "paid" and r.state.insts[1].fee_due == 3_000
    assert r.state.insts[1].charges == {"c7": 3_000}
    pay2 = MoneyEvent("repayment", D(2025, 3, 10), id=2, amount=508_000)
    r = replay(t, sched, [pay1, charge, pay2], D(2025, 3, 20), CAL)
    assert r.status == "paid_off" and r.ledger["fee_income"] == -3_000
    # a charge valued while the first installment is unpaid goes with it (paid first by order)
    early = MoneyEvent("fee", D(2025, 2, 10), id="c8", amount=3_000)
    r = replay(t, sched, [early], D(2025, 2, 10), CAL)
    assert r.state.insts[0].fee_due == 3_000
