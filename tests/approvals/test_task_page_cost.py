"""The approval task page reads each thing once: the task with its instance and the access
check in one query; the instance's tasks and its trail once for the steps, the user's task,
segregation of duties and the transfer picker; the application with its scope checks in one
query; its documents once. The query counts are pinned so a regression shows up here."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from credo.approvals import selectors
from credo.approvals import services as approvals
from credo.approvals.models import ApprovalInstance
from credo.core.audit.models import AuditEntry
from credo.core.context import set_request_memo
from credo.core.money import Money
from credo.customers.models import Relation
from credo.lending import services as lending
from credo.lending.models import Installment
from credo.origination import services
from tests.approvals.conftest import FLOW, grant, open_task
from tests.lending.conftest import book_on
from tests.origination.conftest import (  # noqa: F401 (fixtures)
    PDF,
    customer,
    document_root,
    make_app,
    make_customer,
    png_bytes,
    product_version,
    staff_perms,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 4, 20)

# Every query of one view of the decision-ready page below (the session and the user's
# permissions, the task, the application and its terms, scores, the exposure of a related-party
# group, a prior loan, collateral, documents, the audit row, the trail and the actions).
APPLICATION_PAGE_QUERIES = 31
# A subject without a panel (a user row): the approvals part of the page alone.
PLAIN_PAGE_QUERIES = 14


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    from credo.core import clock

    monkeypatch.setattr(clock, "today", lambda: TODAY)
    return TODAY


def _tables(queries):
    """How often each table is read: the table of a SELECT's first column (or of an EXISTS)."""
    out: dict[str, int] = {}
    for q in queries:
        sql = q["sql"]
        match = re.match(r'\s*SELECT (?:DISTINCT )?"(\w+)"\."', sql) or re.match(
            r'\s*SELECT 1 AS "a" FROM "(\w+)"', sql
        )
        if match:
            out[match.group(1)] = out.get(match.group(1), 0) + 1
    return out


@pytest.fixture
def decision_ready(make_app, owner, approvers, customer, org):  # noqa: F811
    """A submitted application with documents (one item uploaded twice), a related party, a
    prior loan with a repayment record and net assets entered: every part of the panel."""
    from credo.lending.exposure.models import NetAssets
    from credo.lending.exposure.selectors import clear_cached
    from credo.lending.models import ProductVersion
    from tests.factories import RoleFactory, UserFactory

    role = RoleFactory(code="finance_d", name="财务D", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="lending",
            codename__in=["disburse_loan", "post_repayment", "backdate_disbursement"],
        )
    )
    fin = UserFactory(username="fin_d", display_name="财务", org_unit=org["head"], roles=[role])
    loan = lending.loan_create(
        customer=customer,
        product_version=ProductVersion.objects.get(),
        principal=Money("120000"),
        annual_rate=Decimal("12"),
        months=12,
        actor=owner,
    )
    book_on(loan, dt.date(2026, 1, 10))
    loan = lending.loan_disburse(loan=loan, actor=fin, value_date=dt.date(2026, 1, 15))
    inst = list(loan.installments.order_by("period"))
    Installment.objects.filter(pk=inst[0].pk).update(
        status="paid", paid_on=inst[0].due_date + dt.timedelta(days=5)
    )
    Installment.objects.filter(pk=inst[1].pk).update(status="paid", paid_on=inst[1].due_date)
    Installment.objects.filter(pk=inst[2].pk).update(status="overdue")
    parent = make_customer(owner, n=2, name="太原控股集团有限公司")
    Relation.objects.create(
        from_customer=parent, to_customer=customer, kind="shareholder", share_pct=Decimal("60")
    )
    NetAssets.objects.create(
        effective_date=dt.date(2026, 1, 1), amount=Money("5000000"), entered_by=owner
    )
    clear_cached()
    app = make_app()
    for name in ("licence.png", "licence2.png"):
        services.document_upload(
            application=app, item="营业执照", name=name, data=png_bytes(), actor=owner
        )
    services.document_upload(application=app, item="财务报表", name="fs.pdf", data=PDF, actor=owner)
    app = services.application_submit(application=app, actor=owner)
    task = open_task()
    grant(
        task.assignee,
        "origination.view_application",
        "lending.view_loan",
        "customers.view_customer",
    )
    return app, task, loan


def test_application_task_page_queries(client, decision_ready):
    app, task, loan = decision_ready
    client.force_login(task.assignee)
    url = reverse("approvals:task_detail", args=[task.pk])
    client.get(url)  # the session, the first time
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(url).content.decode()
    # everything is there (the decision-ready page, see test_approval_task_decision)
    assert 'id="approval-actions-card"' in page and f'data-loan="{loan.pk}"' in page
    assert "太原控股集团有限公司" in page and "历史版本" in page
    assert AuditEntry.objects.filter(action="approval.subject_view").count() == 2
    assert len(ctx.captured_queries) <= APPLICATION_PAGE_QUERIES, "\n".join(
        q["sql"][:150] for q in ctx.captured_queries
    )
    tables = _tables(ctx.captured_queries)
    # the task (with the instance and the access check), whether the approver (outside the
    # application's data scope) is one of its approvers, then all tasks once
    assert tables.get("approvals_approvaltask") == 3
    assert tables.get("approvals_approvalaction") == 1  # the trail, also the skipped steps
    assert "approvals_approvalinstance" not in tables  # came with the task
    assert tables.get("origination_application") == 2  # the application, the commitments
    assert tables.get("origination_document") == 1
    assert tables.get("rules_evaluation") is None  # the admission model came with it


def test_plain_task_page_queries(client, start, approvers):
    instance = start()
    task = instance.tasks.get(assignee=approvers["lead"])
    client.force_login(approvers["lead"])
    url = f"/approvals/tasks/{task.pk}/"
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(url).content.decode()
    assert 'id="approve-form"' in page
    assert len(ctx.captured_queries) <= PLAIN_PAGE_QUERIES, "\n".join(
        q["sql"][:150] for q in ctx.captured_queries
    )
    tables = _tables(ctx.captured_queries)
    assert tables.get("approvals_approvaltask") == 2
    assert tables.get("approvals_approvalaction") == 1


# --- the per-request reads of an instance ------------------------------------------------------
def test_instance_reads_agree_with_the_rule(approvers, owner, context, subject):
    """``InstanceReads.conflicts`` (from the tasks already read) is ``approval_conflicts``."""
    a = approvers
    a["lead"].roles.add(a["risk"].roles.get(code="risk_manager"))
    a["risk"].roles.add(a["fin"].roles.get(code="finance"))
    standard = approvals.approval_start(
        subject=subject,
        flow_key=FLOW,
        context=context(20_000_000),
        actor=owner,
        title="标准",
    )
    approvals.approval_act(
        task=standard.tasks.get(assignee=a["lead"]), actor=a["lead"], action="approve"
    )
    large = approvals.approval_start(
        subject=a["cc"],
        flow_key=FLOW,
        context=context(60_000_000),
        actor=owner,
        title="大额",
    )
    approvals.approval_act(
        task=large.tasks.get(slot=0, assignee=a["risk"]), actor=a["risk"], action="approve"
    )
    legacy = approvals.approval_start(
        subject=a["gm"], flow_key=FLOW, context=context(20_000_000), actor=owner, title="旧"
    )
    ApprovalInstance.objects.filter(pk=legacy.pk).update(subject_creator=None)
    for instance in (standard, large, legacy):
        instance = ApprovalInstance.objects.select_related("flow_version").get(pk=instance.pk)
        reads = selectors.InstanceReads(instance)
        for step in range(3):
            for slot in (None, 0, 1, 2):
                assert reads.conflicts(step=step, slot=slot) == selectors.approval_conflicts(
                    instance, step=step, slot=slot
                ), (instance.title, step, slot)
    assert "earlier_step" in selectors.InstanceReads(standard).conflicts(step=1).values()
    assert "same_step" in selectors.InstanceReads(large).conflicts(step=0, slot=1).values()


def test_instance_reads_once_per_request_and_afresh_after_a_write(start, approvers):
    instance = start()
    task = instance.tasks.get(assignee=approvers["lead"])
    # outside a request: always afresh
    assert selectors.instance_reads(instance) is not selectors.instance_reads(instance)
    set_request_memo({})
    try:
        reads = selectors.instance_reads(instance)
        assert selectors.instance_reads(instance) is reads
        with CaptureQueriesContext(connection) as ctx:
            assert selectors.open_task_of(instance, approvers["lead"]) == task
            assert selectors.conflict_notice(instance, approvers["lead"]) == ""
            selectors.step_rows(instance)
            selectors.trail(instance)
            selectors.step_rows(instance)
        approval_reads = [q for q in ctx.captured_queries if "approvals_" in q["sql"]]
        assert len(approval_reads) == 2  # the tasks, the actions
        # a write in the same request: read afresh
        approvals.approval_act(task=task, actor=approvers["lead"], action="approve")
        assert selectors.instance_reads(instance) is not reads
        instance.refresh_from_db()
        assert selectors.open_task_of(instance, approvers["lead"]) is None
        assert [r["state"] for r in selectors.step_rows(instance)][:2] == ["done", "current"]
    finally:
        set_request_memo(None)


# --- access: the task and its instance ----------------------------------------------------------
def test_task_get_checks_access_from_the_row(start, approvers, owner, outsider, colleague):
    instance = start()
    task = instance.tasks.get(assignee=approvers["lead"])
    # the assignee and the starter: answered from the row, one query
    for user in (approvers["lead"], owner):
        with CaptureQueriesContext(connection) as ctx:
            assert selectors.task_get(user, task.pk) == task
        assert len([q for q in ctx.captured_queries if "approvals_" in q["sql"]]) == 1
    # another holder of the open task's role (an open role task may be taken by them)
    assert selectors.task_get(approvers["lead2"], task.pk) == task
    # scope "all"
    assert selectors.task_get(approvers["cc"], task.pk) == task
    # neither a participant nor in scope: 404, audited
    with pytest.raises(Http404):
        selectors.task_get(outsider, task.pk)
    assert AuditEntry.objects.filter(
        action="approval.access_denied", actor_id=outsider.pk, object_id=str(instance.pk)
    ).exists()
    # a colleague of the owner (own scope) sees nothing either
    with pytest.raises(Http404):
        selectors.task_get(colleague, task.pk)
    # the same answers as the instance list
    for user in (approvers["lead"], approvers["lead2"], approvers["risk"], owner, outsider):
        visible = selectors.instances_for(user).filter(pk=instance.pk).exists()
        for get, pk in ((selectors.task_get, task.pk), (selectors.instance_get, instance.pk)):
            try:
                get(user, pk)
            except Http404:
                assert not visible, (user.username, get.__name__)
            else:
                assert visible, (user.username, get.__name__)


def test_task_get_of_a_decided_task_asks_the_database(start, approvers):
    """A decided task of someone else: the user is a participant through another task."""
    instance = start()
    first = instance.tasks.get(assignee=approvers["lead"])
    approvals.approval_act(task=first, actor=approvers["lead"], action="approve")
    second = instance.tasks.filter(step=1).order_by("id").first()
    risk = second.assignee
    assert selectors.task_get(risk, first.pk) == first
    assert selectors.instance_get(risk, instance.pk) == instance
