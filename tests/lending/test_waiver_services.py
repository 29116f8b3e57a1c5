# ruff: noqa: F811  (pytest fixtures imported by name)
"""罚息减免 maker-checker on PostgreSQL: request → second person approves → applied by replay."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from credo.core import clock
from credo.core.audit.models import AuditEntry
from credo.core.todo.models import Todo
from credo.lending import ledger
from credo.lending.errors import InvalidLoan, InvalidState, MakerChecker, NotPermitted
from credo.lending.models import Loan, LoanWaiver, WaiverRequest
from credo.lending.servicing import services
from tests.lending.conftest import (  # noqa: F401  (fixtures)
    borrower,
    finance,
    make_loan,
    product_version,
)
from tests.lending.test_waiver_fixtures import (  # noqa: F401  (fixtures)
    collector,
    overdue_loan,
    penalty_owed,
    risk,
    risk2,
    risk_role,
)

pytestmark = pytest.mark.django_db


def _request(loan, actor, fen=None, **kw):
    owed = services.owed_at(loan, clock.today())
    amount = fen if fen is not None else owed["penalty"]
    return services.waiver_request_create(
        loan=loan,
        actor=actor,
        amounts={"penalty": amount},
        value_date=kw.pop("value_date", clock.today()),
        reason=kw.pop("reason", "借款人住院，已还清欠款，申请减免罚息"),
        **kw,
    )


def test_request_then_second_person_approves_and_penalty_is_gone(overdue_loan, collector, risk):
    before = penalty_owed(overdue_loan)
    assert before > 0
    owed = services.owed_at(overdue_loan, clock.today())
    assert owed["penalty"] == before
    req = _request(overdue_loan, collector)
    assert req.status == "requested" and req.total.fen == before
    assert req.owed["penalty"] == before
    todo = Todo.objects.get(user=risk, dedupe_key=f"lending:waiver:{req.pk}")
    assert todo.status == "open" and f"/waivers/{req.pk}/" in todo.url
    assert not Todo.objects.filter(user=collector).exists()

    services.waiver_request_approve(request=req, actor=risk, note="同意")
    req.refresh_from_db()
    loan = Loan.objects.get(pk=overdue_loan.pk)
    assert req.status == "approved" and req.decided_by == risk
    waiver = LoanWaiver.objects.get(pk=req.waiver_ref)
    assert waiver.amounts == {"penalty": before} and waiver.approved_by == risk
    assert penalty_owed(loan) == 0
    assert ledger.verify().ok
    todo.refresh_from_db()
    assert todo.status == "done"
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"waiver.request", "waiver.approve", "loan.waiver"} <= actions
    titles = list(loan.customer.events.values_list("title", flat=True))
    assert any("已批准并入账" in t for t in titles) and any("待审批" in t for t in titles)


def test_requester_cannot_approve_own_request(overdue_loan, collector, risk, risk2, risk_role):
    from django.contrib.auth.models import Permission

    risk_role.permissions.add(Permission.objects.get(codename="request_waiver"))
    risk = type(risk).objects.get(pk=risk.pk)
    req = _request(overdue_loan, risk)  # an approver may request too …
    with pytest.raises(MakerChecker):
        services.waiver_request_approve(request=req, actor=risk)  # … but not approve it
    req.refresh_from_db()
    assert req.status == "requested" and not LoanWaiver.objects.exists()
    services.waiver_request_approve(request=req, actor=risk2)
    assert WaiverRequest.objects.get(pk=req.pk).status == "approved"


def test_permissions_are_checked(overdue_loan, collector, risk, finance):
    with pytest.raises(NotPermitted):
        _request(overdue_loan, finance)
    req = _request(overdue_loan, collector)
    with pytest.raises(NotPermitted):
        services.waiver_request_approve(request=req, actor=collector)
    with pytest.raises(NotPermitted):
        services.waiver_request_cancel(request=req, actor=risk)
    assert WaiverRequest.objects.get(pk=req.pk).status == "requested"


def test_over_limit_is_refused_and_changes_nothing(overdue_loan, collector, risk, settings):
    before = penalty_owed(overdue_loan)
    req = _request(overdue_loan, collector)
    settings.CREDO_WAIVER_LIMIT_FEN = {"risk_manager_t": before - 1}
    with pytest.raises(NotPermitted, match="超过您的审批权限"):
        services.waiver_request_approve(request=req, actor=risk)
    assert WaiverRequest.objects.get(pk=req.pk).status == "requested"
    assert penalty_owed(Loan.objects.get(pk=overdue_loan.pk)) == before
    settings.CREDO_WAIVER_LIMIT_FEN = {"risk_manager_t": before}
    services.waiver_request_approve(request=req, actor=risk)
    assert penalty_owed(Loan.objects.get(pk=overdue_loan.pk)) == 0


def test_amount_above_owed_is_refused_with_nothing_changed(overdue_loan, collector):
    before = penalty_owed(overdue_loan)
    audits = AuditEntry.objects.count()
    with pytest.raises(InvalidLoan, match="超过减免生效日"):
        _request(overdue_loan, collector, fen=before + 1)
    with pytest.raises(InvalidLoan, match="不能减免"):
        services.waiver_request_create(
            loan=overdue_loan,
            actor=collector,
            amounts={"interest": 100},
            value_date=clock.today(),
            reason="x",
        )
    with pytest.raises(InvalidLoan, match="减免原因"):
        _request(overdue_loan, collector, reason="  ")
    with pytest.raises(InvalidLoan, match="晚于今天"):
        _request(overdue_loan, collector, value_date=clock.today() + dt.timedelta(days=1))
    assert not WaiverRequest.objects.exists() and not Todo.objects.exists()
    assert AuditEntry.objects.count() == audits
    assert penalty_owed(Loan.objects.get(pk=overdue_loan.pk)) == before


def test_owed_at_an_earlier_value_date_is_smaller(overdue_loan, collector):
    today = clock.today()
    now = services.owed_at(overdue_loan, today)["penalty"]
    earlier = services.owed_at(overdue_loan, today - dt.timedelta(days=10))["penalty"]
    assert 0 < earlier < now
    with pytest.raises(InvalidLoan):
        _request(overdue_loan, collector, fen=now, value_date=today - dt.timedelta(days=10))
    req = _request(overdue_loan, collector, fen=earlier, value_date=today - dt.timedelta(days=10))
    assert req.total.fen == earlier


def test_owed_changed_since_request_refuses_approval(overdue_loan, collector, risk, finance):
    req = _request(overdue_loan, collector)
    from credo.lending.services import Money, repayment_post

    repayment_post(
        loan=Loan.objects.get(pk=overdue_loan.pk),
        amount=Money("50000"),
        received_on=clock.today(),
        actor=finance,
    )
    with pytest.raises(InvalidState, match="应还已变化"):
        services.waiver_request_approve(request=req, actor=risk)
    assert WaiverRequest.objects.get(pk=req.pk).status == "requested"


def test_reject_and_cancel_close_todos(overdue_loan, collector, risk, risk2):
    req = _request(overdue_loan, collector)
    assert Todo.objects.filter(status="open").count() == 2
    with pytest.raises(InvalidLoan):
        services.waiver_request_reject(request=req, actor=risk, note=" ")
    services.waiver_request_reject(request=req, actor=risk, note="材料不全")
    assert not Todo.objects.filter(status="open").exists()
    with pytest.raises(InvalidState):
        services.waiver_request_approve(request=req, actor=risk2)
    req2 = _request(overdue_loan, collector)
    services.waiver_request_cancel(request=req2, actor=collector)
    assert WaiverRequest.objects.get(pk=req2.pk).status == "cancelled"
    assert not Todo.objects.filter(status="open").exists()
    assert not LoanWaiver.objects.exists()


def test_one_waiting_request_per_loan(overdue_loan, collector):
    _request(overdue_loan, collector, fen=1)
    with pytest.raises(InvalidState, match="待审批"):
        _request(overdue_loan, collector, fen=1)


def test_double_click_by_the_same_approver_applies_once(overdue_loan, collector, risk, risk2):
    req = _request(overdue_loan, collector)
    services.waiver_request_approve(request=req, actor=risk)
    again = services.waiver_request_approve(request=req, actor=risk)
    assert again.status == "approved"
    with pytest.raises(InvalidState, match="已处理"):
        services.waiver_request_approve(request=req, actor=risk2)
    assert LoanWaiver.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_apply_once(overdue_loan, collector, risk, risk2):
    req = _request(overdue_loan, collector)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def approve(user):
        try:
            barrier.wait()
            services.waiver_request_approve(request=req, actor=user)
            results.append("ok")
        except InvalidState:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(u,)) for u in (risk, risk2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "refused"]
    assert LoanWaiver.objects.filter(loan=overdue_loan).count() == 1
    assert penalty_owed(Loan.objects.get(pk=overdue_loan.pk)) == 0
    assert ledger.verify().ok


@pytest.mark.parametrize("machine", ["WAIVER_REQUEST_MACHINE", "CLASSIFICATION_REQUEST_MACHINE"])
def test_request_status_table(machine):
    from credo.lending import states
    from tests.fsm_tables import assert_table

    assert_table(
        getattr(states, machine),
        ["requested", "approved", "rejected", "cancelled"],
        {("requested", "approved"), ("requested", "rejected"), ("requested", "cancelled")},
    )
