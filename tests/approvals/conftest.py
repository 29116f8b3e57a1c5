"""Approvers for the default ``origination.application`` flow and a dummy subject.

The subject is a plain user row (any model works: approvals stores only type + id)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from credo.accounts.models import DataScope, Role
from credo.approvals import services
from credo.approvals.defaults import ORIGINATION_FLOW
from tests.factories import UserFactory

FLOW = ORIGINATION_FLOW


def grant(user, *perms):
    """Give every role of ``user`` the permissions ``"app_label.codename"``; returns the user."""
    for role in user.roles.all():
        for p in perms:
            app_label, codename = p.split(".")
            role.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
    return user


def open_task():
    """The oldest open approval task, with its assignee."""
    from credo.approvals.models import ApprovalTask

    return (
        ApprovalTask.objects.select_related("assignee")
        .filter(status=ApprovalTask.Status.OPEN)
        .order_by("id")
        .first()
    )


def _role(code, name, scope=DataScope.ALL):
    role, _created = Role.objects.get_or_create(
        code=code, defaults={"name": name, "data_scope": scope, "is_system": True}
    )
    role.permissions.add(
        Permission.objects.get(
            content_type__app_label="approvals", codename="view_approvalinstance"
        )
    )
    return role


@pytest.fixture
def approvers(org, owner):
    lead_role = _role("team_lead", "团队主管", DataScope.TEAM)
    risk_role = _role("risk_manager", "风控经理")
    fin_role = _role("finance", "财务")
    gm_role = _role("management", "管理层")
    cc_role = _role("credit_committee", "审批委员会")
    owner.roles.add(_role("account_manager", "客户经理", DataScope.OWN))
    return {
        "lead": UserFactory(
            username="lead", display_name="赵主管", org_unit=org["team_b"], roles=[lead_role]
        ),
        "lead2": UserFactory(
            username="lead2", display_name="钱主管", org_unit=org["team_c"], roles=[lead_role]
        ),
        "risk": UserFactory(
            username="risk", display_name="孙风控", org_unit=org["head"], roles=[risk_role]
        ),
        "risk2": UserFactory(
            username="risk2", display_name="周风控", org_unit=org["head"], roles=[risk_role]
        ),
        "fin": UserFactory(
            username="fin", display_name="吴财务", org_unit=org["head"], roles=[fin_role]
        ),
        "gm": UserFactory(
            username="gm", display_name="郑总", org_unit=org["head"], roles=[gm_role]
        ),
        "cc": UserFactory(
            username="cc", display_name="王委员", org_unit=org["head"], roles=[cc_role]
        ),
    }


@pytest.fixture
def subject(colleague):
    return colleague


@pytest.fixture
def context(owner):
    def make(amount=20_000_000, grade="B", **extra):
        return {
            "amount": amount,
            "months": 12,
            "product": "jy-loan",
            "risk_grade": grade,
            "branch": "ty",
            "applicant_id": owner.pk,
            **extra,
        }

    return make


@pytest.fixture
def start(subject, owner, context, approvers):
    def _start(amount=20_000_000, grade="B", subj=None, **extra):
        return services.approval_start(
            subject=subj or subject,
            flow_key=FLOW,
            context=context(amount, grade, **extra),
            actor=owner,
            title="测试申请",
            url="/approvals/inbox/",
        )

    return _start


@pytest.fixture
def outcomes():
    calls = []

    def listener(instance, outcome):
        calls.append((instance.pk, outcome, instance.decided_amount, instance.decided_months))

    services.register_outcome_listener(FLOW, listener)
    yield calls
    services.unregister_outcome_listener(FLOW, listener)
