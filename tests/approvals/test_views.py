from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission

from credo.approvals import services
from credo.approvals.models import FlowVersion
from tests.approvals.conftest import FLOW
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def admin(approvers):
    user = UserFactory(username="flowadmin")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="approvals", codename="manage_flows")
    )
    return user


def test_inbox_and_task_page(client, start, approvers):
    instance = start()
    lead = approvers["lead"]
    task = instance.tasks.get(assignee=lead)
    login(client, lead)
    resp = client.get("/approvals/inbox/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'id="count-open">1<' in html and "测试申请" in html
    resp = client.get(f"/approvals/tasks/{task.pk}/")
    html = resp.content.decode()
    assert resp.status_code == 200
    assert 'id="approve-form"' in html and 'id="approval-trail"' in html
    assert "钱主管" in html  # transfer candidate: the other team lead


def test_act_redirects_to_safe_next(client, start, approvers):
    instance = start()
    lead = approvers["lead"]
    task = instance.tasks.get(assignee=lead)
    login(client, lead)
    resp = client.post(
        f"/approvals/tasks/{task.pk}/act/",
        {"action": "approve", "comment": "同意", "next": "https://evil.example/x"},
    )
    assert resp.status_code == 302 and resp["Location"] == "/approvals/inbox/"  # instance.url
    instance.refresh_from_db()
    assert instance.current_step == 1
    risk_task = instance.tasks.get(assignee=approvers["risk"])
    login(client, approvers["risk"])
    resp = client.post(
        f"/approvals/tasks/{risk_task.pk}/act/",
        {"action": "approve", "amount": "999999", "next": f"/approvals/tasks/{risk_task.pk}/"},
        follow=True,
    )
    assert "不能高于" in resp.content.decode()
    risk_task.refresh_from_db()
    assert risk_task.status == "open"


def test_outsider_cannot_open_task(client, start, approvers, outsider):
    instance = start()
    task = instance.tasks.get(assignee=approvers["lead"])
    outsider.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="approvals", codename="view_approvalinstance"
        )
    )
    login(client, outsider)
    assert client.get(f"/approvals/tasks/{task.pk}/").status_code == 404
    assert client.post(f"/approvals/tasks/{task.pk}/act/", {"action": "approve"}).status_code == 404


def test_return_then_resume_via_views(client, start, approvers, owner):
    instance = start()
    task = instance.tasks.get(assignee=approvers["lead"])
    login(client, approvers["lead"])
    client.post(f"/approvals/tasks/{task.pk}/act/", {"action": "return", "comment": "补充流水"})
    instance.refresh_from_db()
    assert instance.status == "returned"
    login(client, owner)
    html = client.get(f"/approvals/instances/{instance.pk}/").content.decode()
    assert 'id="resume-form"' in html and "补充流水" in html
    client.post(f"/approvals/instances/{instance.pk}/resume/", {"answer": "已补充"})
    instance.refresh_from_db()
    assert instance.status == "running" and instance.round == 2


def test_flow_admin_requires_permission(client, approvers):
    login(client, approvers["lead"])
    assert client.get("/approvals/flows/").status_code == 403


def test_flow_admin_edit_and_publish(client, admin, approvers):
    login(client, admin)
    resp = client.get("/approvals/flows/")
    assert resp.status_code == 200 and FLOW in resp.content.decode()
    flow = services.ensure_flow(FLOW)
    resp = client.post(f"/approvals/flows/{flow.pk}/versions/new/")
    draft = flow.versions.get(status=FlowVersion.Status.DRAFT)
    assert resp["Location"] == f"/approvals/versions/{draft.pk}/"
    saved = draft.definition

    bad = json.loads(json.dumps(saved))
    bad["routes"]["standard"]["steps"][0]["approvers"] = [{"role": "branch_boss"}]
    resp = client.post(f"/approvals/versions/{draft.pk}/", {"definition": json.dumps(bad)})
    assert resp.status_code == 200 and "角色“branch_boss”不存在" in resp.content.decode()
    resp = client.post(f"/approvals/versions/{draft.pk}/", {"definition": "{not json"})
    assert "JSON 格式错误" in resp.content.decode()
    draft.refresh_from_db()
    assert draft.definition == saved

    good = json.loads(json.dumps(saved))
    good["routes"]["standard"]["steps"][0]["deadline_hours"] = 8
    resp = client.post(
        f"/approvals/versions/{draft.pk}/", {"definition": json.dumps(good), "note": "缩短时限"}
    )
    assert resp.status_code == 302
    client.post(f"/approvals/versions/{draft.pk}/publish/")
    draft.refresh_from_db()
    assert draft.status == "published" and draft.note == "缩短时限"
    assert draft.definition["routes"]["standard"]["steps"][0]["deadline_hours"] == 8


def test_role_holder_sees_role_task(client, start, approvers):
    instance = start()
    task = instance.tasks.get(assignee=approvers["lead"])
    login(client, approvers["lead2"])
    html = client.get(f"/approvals/tasks/{task.pk}/").content.decode()
    assert 'id="approve-form"' in html
    client.post(f"/approvals/tasks/{task.pk}/act/", {"action": "approve"})
    instance.refresh_from_db()
    assert instance.current_step == 1
