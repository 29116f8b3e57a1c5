"""Pages and API of automations: access, editor round trip, try, publish, run log."""

from __future__ import annotations

import json

import pytest

from credo.api.services import token_create
from credo.automations.models import Automation, AutomationRun, AutomationVersion
from credo.automations.states import AUTOMATION_VERSION_MACHINE
from credo.core import fsm
from credo.core.events.catalogue import catalogue
from credo.core.events.stream import events_pump
from credo.customers.services.records import customer_update
from tests.fsm_tables import assert_table

pytestmark = pytest.mark.django_db
API = "/api/v1"


def test_version_table():
    allowed = {("draft", "published"), ("published", "retired")}
    assert set(AUTOMATION_VERSION_MACHINE.pairs()) == allowed
    assert fsm.machine_for(AutomationVersion) is AUTOMATION_VERSION_MACHINE
    assert_table(AUTOMATION_VERSION_MACHINE, AutomationVersion.Status.values, allowed)


def test_builtin_catalogue_names_real_models_and_business_events():
    from django.apps import apps

    rows = catalogue()
    keys = {r["key"] for r in rows}
    assert {
        "customer.create",
        "customer.update",
        "lead.stage",
        "application.submitted",
        "loan.repayment",
        "collections.promise_broken",
        "monitoring.alert_created",
    } <= keys
    assert not any(
        k.startswith(("auth.", "otp.")) or "access_denied" in k or k.endswith("_view") for k in keys
    )
    for r in rows:
        assert apps.get_model(r["object_type"]) is not None, r


def test_pages_need_permission(client, owner):
    client.force_login(owner)
    assert client.get("/automations/").status_code == 403


def test_editor_round_trip_try_and_publish(client, admin, customer):
    client.force_login(admin)
    assert "还没有自动化" in client.get("/automations/").content.decode()
    resp = client.post("/automations/new/", {"name": "地址变更提醒", "description": ""})
    automation = Automation.objects.get(name="地址变更提醒")
    edit = f"/automations/{automation.pk}/v1/"
    assert resp.status_code == 302 and resp["Location"] == edit
    assert client.get(edit).status_code == 200
    form = {
        "trigger_type": "event",
        "event": "customer.update",
        "changed_fields": "address",
        "equals": "",
        "condition_kind": "expression",
        "expression": "record.kind == 'enterprise'",
        "a1_type": "todo",
        "a1_title": "核实 {{ record.name }} 的新地址",
        "a1_due_days": "3",
        "a1_assignee": "owner",
        "note": "首版",
    }
    resp = client.post(edit, form)
    assert resp.status_code == 302
    v = automation.versions.get(number=1)
    assert v.trigger == {"type": "event", "event": "customer.update", "fields": ["address"]}
    assert v.actions == [
        {
            "type": "todo",
            "title": "核实 {{ record.name }} 的新地址",
            "due_days": 3,
            "assignee": "owner",
        }
    ]
    # an invalid expression is refused with the reason, the draft unchanged
    resp = client.post(edit, {**form, "expression": "record.kind =="}, follow=True)
    assert "表达式无法解析" in resp.content.decode()
    page = client.get(f"/automations/{automation.pk}/v1/try/").content.decode()
    assert "将为 张经理 创建待办" in page and "太原钢铁贸易" in page
    assert (
        "回放最近 7 天"
        in client.get(f"/automations/{automation.pk}/v1/try/?mode=replay&days=7").content.decode()
    )
    resp = client.post(f"/automations/{automation.pk}/v1/publish/", follow=True)
    assert "至少需要一个测试用例" in resp.content.decode()
    client.post(
        f"/automations/{automation.pk}/tests/",
        {"name": "企业", "input": '{"record": {"kind": "enterprise"}}', "expected_fire": "1"},
    )
    assert (
        "全部测试用例通过" in client.get(f"/automations/{automation.pk}/v1/tests/").content.decode()
    )
    events_pump()
    resp = client.post(f"/automations/{automation.pk}/v1/publish/")
    v.refresh_from_db()
    assert v.status == "published"
    customer_update(customer=customer, actor=admin, data={"address": "太原市"})
    events_pump()
    run = AutomationRun.objects.get(version=v)
    detail = client.get(f"/automations/{automation.pk}/").content.decode()
    assert "核实 太原钢铁贸易 的新地址" in detail or "已为" in detail
    assert client.get(f"/automations/{automation.pk}/runs/{run.pk}/").status_code == 200


def _auth(user, scopes=("read", "write")):
    _t, plain = token_create(
        user=user, name="t", scopes=list(scopes), expires_in_days=30, actor=user
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def _post(client, path, body, h, key):
    return client.post(
        f"{API}{path}",
        json.dumps(body),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
        **h,
    )


def test_api_create_try_publish_runs(client, admin, customer, owner):
    h = _auth(admin)
    assert client.get(f"{API}/automations/events", **h).json()[0]["key"]
    body = {
        "name": "API 自动化",
        "trigger": {"type": "event", "event": "customer.update"},
        "actions": [{"type": "todo", "title": "跟进", "due_days": 1}],
    }
    resp = _post(client, "/automations", body, h, "k1")
    assert resp.status_code == 201, resp.content
    pk = resp.json()["id"]
    resp = client.post(f"{API}/automations/{pk}/versions/1/dry-run", **h)
    assert resp.status_code == 200 and resp.json()["firing"] == 1
    resp = client.post(f"{API}/automations/{pk}/versions/1/replay?days=3", **h)
    assert resp.status_code == 200 and resp.json()["mode"] == "replay"
    assert client.post(f"{API}/automations/{pk}/versions/1/replay?days=0", **h).status_code == 422
    resp = _post(client, f"/automations/{pk}/versions/1/publish", {}, h, "k2")
    assert resp.status_code == 422 and "测试用例" in resp.json()["message"]
    assert (
        _post(
            client, f"/automations/{pk}/tests", {"name": "任意", "input": {}}, h, "k3"
        ).status_code
        == 201
    )
    events_pump()
    resp = _post(client, f"/automations/{pk}/versions/1/publish", {}, h, "k4")
    assert resp.status_code == 200 and resp.json()["status"] == "published"
    customer_update(customer=customer, actor=owner, data={"address": "x"})
    events_pump()
    page = client.get(f"{API}/automations/{pk}/runs", **h).json()
    assert page["count"] == 1 and page["results"][0]["status"] == "done"
    # read-only tokens and users without the permission are refused
    assert (
        client.post(
            f"{API}/automations/{pk}/versions/1/dry-run", **_auth(admin, ("read",))
        ).status_code
        == 403
    )
    assert client.get(f"{API}/automations", **_auth(owner)).status_code == 403
