# ruff: noqa: F811 — pytest fixtures imported from tests.origination.conftest
"""Issue 19 item 4: the two path pairs that used to take locks in opposite orders.

While every audit write locked the single audit chain head until commit:

* a signed contract held the audit head (``contracts.signed``) and then wanted the customer's
  ``CreditLimit`` (the drawdown check of the new loan), while ``limit_set`` held the
  ``CreditLimit`` and then wanted the audit head;
* an application submission held the audit head (``application.submitted``) and then wanted
  the ``ApprovalFlow`` row (``approval_start``), while ``flow_version_publish`` held the flow
  and then wanted the audit head.

A third pair surfaced with the audit lock gone: an approver's final action locks the approval
instance and task, then its outcome listener locks the application; a withdrawal locked the
application, then the instance (``approval_cancel``). The withdrawal now locks the instance
first (``origination.services.submission._lock_approval_first``).

Audit rows are now appended without a shared row (``credo.core.audit.services``), so the
cycles are gone. Each test stops both transactions right after their first lock (both hold
it at the same time, as in the deadlock), then lets one go on first until it is finished or
waits for a row lock, then the other — in both orders. Both must commit (or one refuses
cleanly); PostgreSQL would abort one of them with "deadlock detected" if a cycle remained.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from credo.core.money import Money
from tests.origination.conftest import (  # noqa: F401 — fixtures
    approvers,
    complete,
    customer,
    document_root,
    make_app,
    product_version,
    staff_perms,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only"),
]

WAIT = 60  # seconds: only a hang ends this early; a passing run never waits this long


class Stops:
    """Stop thread ``a`` and thread ``b`` each at one point (where it holds its first lock)."""

    def __init__(self) -> None:
        self.reached = {"a": threading.Event(), "b": threading.Event()}
        self.go = {"a": threading.Event(), "b": threading.Event()}
        self.pids: dict[str, int] = {}
        self.errors: dict[str, BaseException] = {}
        self.done = {"a": threading.Event(), "b": threading.Event()}

    def stop_in(self, who: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread().name == who and not self.reached[who].is_set():
                self.reached[who].set()
                assert self.go[who].wait(WAIT), f"thread {who} never released"
            return fn(*args, **kwargs)

        return wrapper

    def thread(self, who: str, work: Callable[[], Any]) -> threading.Thread:
        def run() -> None:
            try:
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_backend_pid()")
                    self.pids[who] = cur.fetchone()[0]
                work()
            except BaseException as exc:  # noqa: BLE001 — asserted by the test
                self.errors[who] = exc
            finally:
                self.done[who].set()
                connections.close_all()

        return threading.Thread(target=run, name=who, daemon=True)

    def blocked_or_done(self, who: str) -> bool:
        if self.done[who].is_set():
            return True
        if who not in self.pids:
            return False
        with connection.cursor() as cur:
            cur.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [self.pids[who]]
            )
            row = cur.fetchone()
        return bool(row) and row[0] == "Lock"

    def run(self, a: Callable[[], Any], b: Callable[[], Any], *, first: str) -> None:
        threads = [self.thread("a", a), self.thread("b", b)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + WAIT
        for who in ("a", "b"):  # at its stop, or already waiting for the other's lock
            while not (self.reached[who].is_set() or self.blocked_or_done(who)):
                assert time.monotonic() < deadline, f"{who} neither stopped nor waits"
                time.sleep(0.01)
        assert not self.errors, self.errors  # both hold their first lock now
        second = "b" if first == "a" else "a"
        self.go[first].set()
        deadline = time.monotonic() + WAIT
        while not self.blocked_or_done(first):
            assert time.monotonic() < deadline, f"{first} neither finished nor waits for a lock"
            time.sleep(0.01)
        self.go[second].set()
        for t in threads:
            t.join(WAIT)
            assert not t.is_alive(), "a transaction hangs"


def _assert_no_deadlock(stops: Stops, *, may_refuse: tuple[type, ...] = ()) -> None:
    texts = {who: f"{type(e).__name__}: {e}" for who, e in stops.errors.items()}
    assert not any("deadlock" in t for t in texts.values()), texts
    unexpected = {w: t for w, t in texts.items() if not isinstance(stops.errors[w], may_refuse)}
    assert not unexpected, unexpected


@pytest.mark.parametrize("first", ["a", "b"])
def test_contract_signed_and_limit_set_do_not_deadlock(
    first, monkeypatch, owner, make_app, complete
):
    from credo.contracts import services as contracts
    from credo.contracts.selectors import contract_for
    from credo.lending.limits import services as limits
    from credo.lending.models import CreditLimit
    from credo.origination import services
    from credo.origination.services import submission

    monkeypatch.setattr(submission, "_risk", lambda customer: (800, "A"))  # the auto route
    app = services.application_submit(application=complete(make_app(amount="30000")), actor=owner)
    assert app.status == "contract_sent"
    limits.limit_set(customer=app.customer, amount=Money("100000"), actor=owner, reason="初始")
    contract = contract_for(app)
    stops = Stops()
    # a: the signed callback stops after auditing `contracts.signed` (it used to hold the audit
    #    head from there), before the drawdown check locks the credit limit;
    # b: limit_set stops holding the credit limit, before its audit row.
    monkeypatch.setattr(contracts, "record_event", stops.stop_in("a", contracts.record_event))
    monkeypatch.setattr(limits, "audit_record", stops.stop_in("b", limits.audit_record))
    stops.run(
        lambda: contracts.contract_simulate(contract=contract, outcome="signed", actor=owner),
        lambda: limits.limit_set(
            customer=app.customer, amount=Money("200000"), actor=owner, reason="上调"
        ),
        first=first,
    )
    _assert_no_deadlock(stops)
    app.refresh_from_db()
    assert app.status == "loan_created" and app.loan is not None
    limit = CreditLimit.objects.get(customer=app.customer)
    assert limit.amount.fen == 20_000_000 and limit.version == 2


@pytest.mark.parametrize("first", ["a", "b"])
def test_application_submit_and_flow_publish_do_not_deadlock(
    first, monkeypatch, owner, make_app, complete
):
    from credo.approvals.models import FlowVersion
    from credo.approvals.services import flows
    from credo.origination import services
    from credo.origination.services import submission
    from credo.origination.services.common import FLOW_KEY

    monkeypatch.setattr(submission, "_risk", lambda customer: (800, "A"))
    flow = flows.ensure_flow(FLOW_KEY)
    draft = flows.flow_version_create(flow=flow, actor=owner)
    app = complete(make_app(amount="30000"))
    stops = Stops()
    # a: the submission stops after auditing `application.in_approval` (it used to hold the
    #    audit head), before approval_start locks the flow;
    # b: flow_version_publish stops holding the flow and the draft, before publishing/auditing.
    monkeypatch.setattr(submission, "_approvals", stops.stop_in("a", submission._approvals))
    monkeypatch.setattr(flows, "validate_definition", stops.stop_in("b", flows.validate_definition))
    stops.run(
        lambda: services.application_submit(application=app, actor=owner),
        lambda: flows.flow_version_publish(version=draft, actor=owner),
        first=first,
    )
    _assert_no_deadlock(stops)
    app.refresh_from_db()
    draft.refresh_from_db()
    assert draft.status == FlowVersion.Status.PUBLISHED
    assert app.status == "contract_sent"


@pytest.mark.parametrize("first", ["a", "b"])
def test_final_approval_action_and_withdrawal_do_not_deadlock(
    first, monkeypatch, owner, make_app, complete, approvers
):
    from credo.approvals import services as approvals
    from credo.approvals.errors import ApprovalError
    from credo.approvals.selectors import instance_for, open_task_of
    from credo.approvals.services import act
    from credo.origination import services
    from credo.origination.errors import InvalidState
    from credo.origination.services import submission

    lead, _risk = approvers
    app = services.application_submit(application=complete(make_app()), actor=owner)
    assert app.status == "in_approval"
    task = open_task_of(instance_for(app), lead)
    stops = Stops()
    # a: the approver's rejection stops holding the instance and the task, before the outcome
    #    listener locks the application;
    # b: the withdrawal stops holding what it locks first (the application before the fix).
    monkeypatch.setattr(act, "approval_conflicts", stops.stop_in("a", act.approval_conflicts))
    monkeypatch.setattr(submission, "_check_actor", stops.stop_in("b", submission._check_actor))
    stops.run(
        lambda: approvals.approval_act(task=task, actor=lead, action="reject", comment="不同意"),
        lambda: services.application_withdraw(application=app, actor=owner, reason="客户放弃"),
        first=first,
    )
    # whichever commits second finds the application decided: a clean refusal, no deadlock
    _assert_no_deadlock(stops, may_refuse=(InvalidState, ApprovalError))
    app.refresh_from_db()
    assert app.status in ("rejected", "withdrawn")
    assert len(stops.errors) <= 1
