"""Issue 15 (10, 12): the approval task page shows what the approver decides on — requested
terms, admission result, scorecard and the credit report's rules grade (and which one routed),
documents through the permission-checked document views, previous steps' opinions — and shows
routes and models by name, never by key."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from credo.approvals import services as approvals
from credo.core.audit.models import AuditEntry
from credo.origination import services
from tests.approvals.conftest import open_task
from tests.origination.conftest import (  # noqa: F401 (fixtures)
    complete,
    customer,
    document_root,
    make_app,
    product_version,
    staff_perms,
)

pytestmark = pytest.mark.django_db


def _can_view_applications(user):
    for role in user.roles.all():
        role.permissions.add(
            Permission.objects.get(
                content_type__app_label="origination", codename="view_application"
            )
        )
    return user


def test_task_page_shows_the_application(client, make_app, complete, owner, approvers):  # noqa: F811
    app = services.application_submit(application=complete(make_app()), actor=owner)
    task = open_task()
    lead = _can_view_applications(task.assignee)
    client.force_login(lead)
    page = client.get(reverse("approvals:task_detail", args=[task.pk])).content.decode()

    assert 'id="approval-application"' in page
    # requested terms
    assert 'id="approval-terms-amount">300,000.00 元' in page
    assert "12 个月" in page and "采购原材料" in page
    # admission, the routing grade and the rules grade, named apart
    assert "准入通过" in page and "贷款准入 第1版" in page
    assert f"审批路由依据：信用报告规则评级 {app.risk_grade}" in page
    assert "信用报告规则评分" in page and f'id="rules-grade-value">{app.rules_grade}' in page
    assert 'id="application-score"' in page  # the scorecard block (not scored here)
    # documents through the permission-checked views; the image previews inline
    for doc in app.documents.all():
        link = reverse("origination:download", args=[doc.pk])
        assert f'href="{link}"' in page and f'href="{link}?inline=1"' in page
    png = app.documents.get(item="营业执照")
    assert f'src="{reverse("origination:download", args=[png.pk])}?inline=1"' in page
    resp = client.get(reverse("origination:download", args=[png.pk]) + "?inline=1")
    assert resp.status_code == 200 and resp["Content-Type"] == "image/png"
    assert AuditEntry.objects.filter(action="document.download", actor_id=lead.pk).exists()
    # names, never keys
    assert "标准审批" in page and "(standard)" not in page
    assert "approvals.route" not in page and "origination.application v" not in page
    assert "审批路径选择 第1版" in page and "origination.admission" not in page


def test_next_step_sees_previous_opinions(client, make_app, complete, owner, approvers):  # noqa: F811
    services.application_submit(application=complete(make_app()), actor=owner)
    first = open_task()
    approvals.approval_act(task=first, actor=first.assignee, action="approve", comment="经营稳定")
    second = open_task()
    client.force_login(_can_view_applications(second.assignee))
    page = client.get(reverse("approvals:task_detail", args=[second.pk])).content.decode()
    assert "经营稳定" in page and 'id="approval-application"' in page


def test_no_application_panel_without_permission(client, make_app, complete, owner, approvers):  # noqa: F811
    services.application_submit(application=complete(make_app()), actor=owner)
    task = open_task()
    view = Permission.objects.get(
        content_type__app_label="origination", codename="view_application"
    )
    for role in task.assignee.roles.all():
        role.permissions.remove(view)
    client.force_login(task.assignee)  # may act on the task, may not read applications
    resp = client.get(reverse("approvals:task_detail", args=[task.pk]))
    assert resp.status_code == 200
    assert 'id="approval-application"' not in resp.content.decode()


def test_large_route_shown_by_name(client, make_app, complete, owner, approvers):  # noqa: F811
    services.application_submit(application=complete(make_app(amount="800000")), actor=owner)
    task = open_task()
    client.force_login(task.assignee)
    page = client.get(reverse("approvals:task_detail", args=[task.pk])).content.decode()
    assert "大额会签" in page and "(large)" not in page
