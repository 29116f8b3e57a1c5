# ruff: noqa: F811  (pytest fixtures imported by name)
"""人工分类调整 maker-checker on PostgreSQL: the class changes at once, a downgrade holds as a
floor, a 不良 loan moves up only under the regulatory condition, history and audit written."""

from __future__ import annotations

import datetime as dt

import pytest

from credo.core import clock
from credo.core.audit.models import AuditEntry
from credo.core.todo.models import Todo
from credo.lending.errors import InvalidLoan, InvalidState, MakerChecker, NotPermitted
from credo.lending.models import ClassificationRequest, Loan, LoanClassHistory
from credo.lending.servicing import rules, services
from tests.lending.conftest import (  # noqa: F401  (fixtures)
    borrower,
    finance,
    make_loan,
    product_version,
)
from tests.lending.test_waiver_fixtures import (  # noqa: F401  (fixtures)
    collector,
    overdue_loan,
    risk,
    risk2,
    risk_role,
)

pytestmark = pytest.mark.django_db


def _ask(loan, actor, to_class="substandard", **kw):
    return services.classification_request_create(
        loan=loan,
        actor=actor,
        to_class=to_class,
        reason=kw.pop("reason", "借款人主营业务停产，还款来源不足"),
        **kw,
    )


def test_downgrade_sets_class_floor_and_history_at_once(overdue_loan, collector, risk):
    before = overdue_loan.classification
    assert before == "special_mention"
    req = _ask(overdue_loan, collector)
    assert req.from_class == before and req.until == rules.add_months(clock.today(), 6)
    assert Todo.objects.filter(user=risk, status="open").count() == 1
    services.classification_request_approve(request=req, actor=risk, note="同意下调")
    loan = Loan.objects.get(pk=overdue_loan.pk)
    assert loan.classification == "substandard"
    assert loan.classification_floor == "substandard"
    assert loan.classification_floor_until == req.until
    assert loan.version == overdue_loan.version + 1
    h = LoanClassHistory.objects.filter(loan=loan, reason="manual").get()
    assert (h.date, h.from_class, h.to_class, h.dpd) == (
        clock.today(),
        before,
        "substandard",
        loan.dpd,
    )
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "classification.request",
        "classification.approve",
        "loan.classification_manual",
    } <= actions
    assert not Todo.objects.filter(status="open").exists()


def test_the_close_of_business_keeps_the_floor(overdue_loan, collector, risk, finance):
    from credo.lending.replay import service as replay_service

    req = _ask(overdue_loan, collector, to_class="doubtful")
    services.classification_request_approve(request=req, actor=risk)
    replay_service.replay_loan(Loan.objects.get(pk=overdue_loan.pk), actor=finance, reason="重算")
    assert Loan.objects.get(pk=overdue_loan.pk).classification == "doubtful"


def test_same_person_cannot_approve_and_permissions_checked(
    overdue_loan, collector, risk, risk2, risk_role, finance
):
    from django.contrib.auth.models import Permission

    with pytest.raises(NotPermitted):
        _ask(overdue_loan, finance)
    risk_role.permissions.add(Permission.objects.get(codename="request_classification"))
    risk = type(risk).objects.get(pk=risk.pk)
    req = _ask(overdue_loan, risk)
    with pytest.raises(MakerChecker):
        services.classification_request_approve(request=req, actor=risk)
    with pytest.raises(NotPermitted):
        services.classification_request_approve(request=req, actor=collector)
    loan = Loan.objects.get(pk=overdue_loan.pk)
    assert loan.classification == "special_mention" and not loan.classification_floor
    assert not LoanClassHistory.objects.filter(reason="manual").exists()
    services.classification_request_approve(request=req, actor=risk2)
    assert Loan.objects.get(pk=overdue_loan.pk).classification == "substandard"


def test_upgrade_of_a_non_performing_loan_in_arrears_is_refused(overdue_loan, collector, risk):
    req = _ask(overdue_loan, collector)
    services.classification_request_approve(request=req, actor=risk)
    audits = AuditEntry.objects.count()
    with pytest.raises(InvalidState, match="还清全部逾期欠款"):
        _ask(overdue_loan, collector, to_class="normal")
    assert ClassificationRequest.objects.count() == 1
    assert AuditEntry.objects.count() == audits
    assert Loan.objects.get(pk=overdue_loan.pk).classification == "substandard"


def test_upgrade_of_a_performing_loan_clears_the_floor(overdue_loan, collector, risk):
    req = _ask(overdue_loan, collector, to_class="normal")
    services.classification_request_approve(request=req, actor=risk)
    loan = Loan.objects.get(pk=overdue_loan.pk)
    assert loan.classification == "normal"
    assert loan.classification_floor == "" and loan.classification_floor_until is None


def test_guards(overdue_loan, collector, risk):
    with pytest.raises(InvalidLoan, match="相同"):
        _ask(overdue_loan, collector, to_class="special_mention")
    with pytest.raises(InvalidLoan, match="调整原因"):
        _ask(overdue_loan, collector, reason=" ")
    with pytest.raises(InvalidLoan, match="晚于今天"):
        _ask(overdue_loan, collector, until=clock.today())
    req = _ask(overdue_loan, collector, until=clock.today() + dt.timedelta(days=30))
    with pytest.raises(InvalidState, match="待审批"):
        _ask(overdue_loan, collector, to_class="doubtful")
    services.classification_request_reject(request=req, actor=risk, note="依据不足")
    with pytest.raises(InvalidState, match="已处理"):
        services.classification_request_approve(request=req, actor=risk)
    assert Loan.objects.get(pk=overdue_loan.pk).classification == "special_mention"
    req2 = _ask(overdue_loan, collector)
    services.classification_request_cancel(request=req2, actor=collector)
    assert ClassificationRequest.objects.get(pk=req2.pk).status == "cancelled"
    assert not Todo.objects.filter(status="open").exists()


def test_double_click_approves_once(overdue_loan, collector, risk):
    req = _ask(overdue_loan, collector)
    services.classification_request_approve(request=req, actor=risk)
    services.classification_request_approve(request=req, actor=risk)
    assert LoanClassHistory.objects.filter(reason="manual").count() == 1


def test_upgrade_of_a_non_performing_loan_once_cured(make_loan, finance, collector, risk):
    """Period 1 paid 20 days late, every later period on time for more than 6 months: a 次级
    loan may move up; the upgrade removes the floor."""
    from credo.lending import services as lending_services
    from credo.lending.models import Installment

    today = clock.today()
    start = rules.add_months(today, -10)
    loan = lending_services.loan_disburse(loan=make_loan(), actor=finance, value_date=start)
    for inst in Installment.objects.filter(loan=loan, due_date__lt=today):
        late = dt.timedelta(days=20 if inst.period == 1 else 0)
        Installment.objects.filter(pk=inst.pk).update(
            status="paid",
            paid_on=inst.due_date + late,
            principal_paid=inst.principal_due,
            interest_paid=inst.interest_due,
        )
    Loan.objects.filter(pk=loan.pk).update(
        classification="substandard",
        dpd=0,
        classification_floor="substandard",
        classification_floor_until=today + dt.timedelta(days=30),
    )
    loan = Loan.objects.get(pk=loan.pk)
    assert services.upgrade_check(loan, today).ok
    req = _ask(loan, collector, to_class="normal", reason="欠款已还清并按时还款超过 6 个月")
    services.classification_request_approve(request=req, actor=risk)
    loan = Loan.objects.get(pk=loan.pk)
    assert loan.classification == "normal" and loan.classification_floor == ""
    h = LoanClassHistory.objects.get(loan=loan, reason="manual")
    assert (h.from_class, h.to_class) == ("substandard", "normal")
