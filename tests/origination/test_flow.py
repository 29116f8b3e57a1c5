"""The whole flow through the real approvals and contracts services."""

import pytest

from credo.approvals import services as approvals
from credo.approvals.selectors import instance_for, open_task_of
from credo.contracts import services as contracts
from credo.contracts.selectors import contract_for
from credo.core.todo.models import Todo
from credo.lending.models import Loan
from credo.origination import services
from credo.origination.errors import InvalidState
from credo.origination.services import submission

pytestmark = pytest.mark.django_db


def _act(user, app, action="approve", **kw):
    task = open_task_of(instance_for(app), user)
    assert task is not None, f"{user} has no task"
    return approvals.approval_act(task=task, actor=user, action=action, **kw)


def test_admission_pass_starts_approval(make_app, owner, complete, approvers):
    app = services.application_submit(application=complete(make_app()), actor=owner)
    assert app.status == "in_approval" and app.admission_passed is True
    instance = instance_for(app)
    assert instance is not None and instance.route == "standard"
    assert instance.context["amount"] == 30_000_000 and instance.context["applicant_id"] == owner.pk


def test_full_flow_to_loan_pending_disbursement(make_app, owner, complete, approvers):
    lead, risk = approvers
    app = services.application_submit(application=complete(make_app()), actor=owner)
    _act(lead, app, comment="同意")
    app.refresh_from_db()
    assert app.status == "in_approval"
    # the risk manager asks a question: returned to the owner with a todo
    _act(risk, app, action="return", comment="请补充近三个月银行流水说明")
    app.refresh_from_db()
    assert app.status == "returned" and "银行流水" in app.return_question
    assert Todo.objects.filter(user=owner, status="open", source="origination").exists()
    with pytest.raises(InvalidState):
        services.application_submit(application=app, actor=owner)
    services.application_answer(application=app, actor=owner, answer="流水已补充，经营正常")
    app.refresh_from_db()
    assert app.status == "in_approval"
    assert not Todo.objects.filter(user=owner, status="open", source="origination").exists()
    _act(risk, app, comment="同意", amount=25_000_000, months=12)
    app.refresh_from_db()
    assert app.status == "contract_sent"
    assert app.approved_amount.fen == 25_000_000
    contract = contract_for(app)
    assert contract is not None and contract.status == "sent"
    assert contract.terms["amount_fen"] == 25_000_000 and len(contract.terms["schedule"]) == 12
    contracts.contract_simulate(contract=contract, outcome="signed", actor=owner)
    app.refresh_from_db()
    assert app.status == "loan_created"
    loan = app.loan
    assert loan.status == Loan.Status.PENDING and loan.principal.fen == 25_000_000
    assert loan.customer == app.customer and loan.created_by == owner and loan.months == 12


def test_rejected_by_approver(make_app, owner, complete, approvers):
    lead, _risk = approvers
    app = services.application_submit(application=complete(make_app()), actor=owner)
    _act(lead, app, action="reject", comment="经营风险较高")
    app.refresh_from_db()
    assert app.status == "rejected" and app.loan is None


def test_withdraw_cancels_running_approval(make_app, owner, complete, approvers):
    app = services.application_submit(application=complete(make_app()), actor=owner)
    services.application_withdraw(application=app, actor=owner, reason="客户放弃")
    app.refresh_from_db()
    assert app.status == "withdrawn"
    assert instance_for(app).status == "cancelled"


def test_auto_approval_goes_straight_to_contract(make_app, owner, complete, monkeypatch):
    monkeypatch.setattr(submission, "_risk", lambda customer: (800, "A"))
    app = services.application_submit(application=complete(make_app(amount="30000")), actor=owner)
    assert app.status == "contract_sent" and app.risk_grade == "A"
    assert instance_for(app).route == "auto"


def test_submit_without_approvers_refused_nothing_changed(make_app, owner, complete):
    from credo.rules.models import Evaluation

    app = complete(make_app())
    with pytest.raises(InvalidState) as err:
        services.application_submit(application=app, actor=owner)
    assert "无法发起审批" in err.value.message
    app.refresh_from_db()
    assert app.status == "draft" and app.admission_passed is None
    assert not Evaluation.objects.filter(model_key="origination.admission").exists()


def test_approver_outside_scope_can_open_application(client, make_app, owner, complete, approvers):
    from django.urls import reverse

    lead, _risk = approvers
    lead.roles.update(data_scope="own")
    from django.contrib.auth.models import Permission

    lead.roles.first().permissions.add(
        Permission.objects.get(content_type__app_label="origination", codename="view_application")
    )
    app = make_app()
    client.force_login(lead)
    assert client.get(reverse("origination:detail", args=[app.pk])).status_code == 404
    services.application_submit(application=complete(app), actor=owner)
    assert client.get(reverse("origination:detail", args=[app.pk])).status_code == 200


def test_signed_but_loan_refused_keeps_signature_and_retries(
    make_app, owner, outsider, complete, monkeypatch
):
    from credo.lending import limits
    from credo.lending.errors import InvalidLoan

    monkeypatch.setattr(submission, "_risk", lambda customer: (800, "A"))
    app = services.application_submit(application=complete(make_app(amount="30000")), actor=owner)
    contract = contract_for(app)

    def refuse(customer, fen):
        raise InvalidLoan("超出授信额度")

    monkeypatch.setattr(limits, "check_drawdown", refuse)
    contracts.contract_simulate(contract=contract, outcome="signed", actor=owner)
    app.refresh_from_db()
    contract.refresh_from_db()
    assert contract.status == "signed"
    assert app.status == "signed" and app.loan is None and "授信" in app.decision_note
    monkeypatch.undo()
    with pytest.raises(services.NotAllowed):
        services.application_create_loan(application=app, actor=outsider)
    app = services.application_create_loan(application=app, actor=owner)
    assert app.status == "loan_created" and app.loan.status == Loan.Status.PENDING


def test_rejected_signature_returns_to_approved_and_a_new_contract_can_be_sent(
    make_app, owner, complete, monkeypatch
):
    monkeypatch.setattr(submission, "_risk", lambda customer: (800, "A"))
    app = services.application_submit(application=complete(make_app(amount="30000")), actor=owner)
    first = contract_for(app)
    contracts.contract_simulate(contract=first, outcome="rejected", actor=owner)
    app.refresh_from_db()
    assert app.status == "approved" and first.number in app.decision_note
    app = services.application_contract_resend(application=app, actor=owner)
    assert app.status == "contract_sent"
    second = contract_for(app)
    assert second.pk != first.pk and second.status == "sent"
    contracts.contract_simulate(contract=second, outcome="signed", actor=owner)
    app.refresh_from_db()
    assert app.status == "loan_created" and app.loan.status == "pending"
    with pytest.raises(InvalidState):  # nothing to resend any more
        services.application_contract_resend(application=app, actor=owner)
