import json

import pytest

from credo.api.services import token_create
from credo.rules import services
from credo.rules.models import DecisionTestCase, DecisionVersion, Evaluation
from tests.rules.conftest import DEFAULT_RULES, table_jdm

pytestmark = pytest.mark.django_db
API = "/api/v1/rules"
KEY = "test.assign"


def auth(user, scopes=("read", "write")):
    _token, plain = token_create(
        user=user, name="t", scopes=list(scopes), expires_in_days=30, actor=user
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def send(client, method, path, body, headers, key=None):
    extra = dict(headers)
    if key:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return getattr(client, method)(
        f"{API}{path}", json.dumps(body), content_type="application/json", **extra
    )


@pytest.fixture
def model(spec):
    return services.ensure_model(KEY)


def test_reads(client, viewer, model):
    h = auth(viewer, scopes=("read",))
    resp = client.get(f"{API}/models", **h)
    assert resp.status_code == 200, resp.content
    row = next(m for m in resp.json() if m["key"] == KEY)
    assert row["published_version"] == 1 and row["draft_version"] is None and row["tests"] == 1
    resp = client.get(f"{API}/models/{KEY}", **h)
    data = resp.json()
    assert data["versions"][0]["status"] == "published"
    assert data["test_cases"][0]["expected"] == {"team": "ty-big"}
    assert data["inputs"][0] == ["region", "地区"]
    resp = client.get(f"{API}/models/{KEY}/versions/1", **h)
    assert resp.json()["content"] == model.versions.get().content
    assert client.get(f"{API}/models/nope.none", **h).status_code == 404
    assert client.get(f"{API}/models/{KEY}/versions/9", **h).status_code == 404


def test_outsider_and_viewer_forbidden(client, outsider, viewer, model):
    assert client.get(f"{API}/models", **auth(outsider)).status_code == 403
    resp = send(client, "post", f"/models/{KEY}/versions", {}, auth(viewer))
    assert resp.status_code == 403
    resp = send(client, "post", f"/models/{KEY}/versions", {}, auth(viewer, scopes=("read",)))
    assert resp.status_code == 403
    assert model.versions.count() == 1


def test_draft_update_publish_flow(client, editor, risk_manager, model):
    h = auth(editor)
    resp = send(client, "post", f"/models/{KEY}/versions", {"note": "复制"}, h, key="k1")
    assert resp.status_code == 201, resp.content
    assert resp.json()["number"] == 2 and resp.json()["status"] == "draft"
    # replay → same answer, no second draft
    again = send(client, "post", f"/models/{KEY}/versions", {"note": "复制"}, h, key="k1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert model.versions.count() == 2
    # a second draft is refused
    resp = send(client, "post", f"/models/{KEY}/versions", {}, h)
    assert resp.status_code == 409 and resp.json()["code"] == "invalid_state"
    changed = table_jdm([('"140100"', "> 100000", '"ty-vip"', '"太原大额"', "")] + DEFAULT_RULES)
    resp = send(client, "put", f"/models/{KEY}/versions/2", {"content": changed}, h)
    assert resp.status_code == 200 and resp.json()["content"] == changed
    bad = table_jdm([('"140100"', "> > 5", '"a"', '"b"', "")])
    resp = send(client, "put", f"/models/{KEY}/versions/2", {"content": bad}, h)
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_model"
    assert model.versions.get(number=2).content == changed
    # editor may not publish
    resp = send(client, "post", f"/models/{KEY}/versions/2/publish", {}, h)
    assert resp.status_code == 403
    hm = auth(risk_manager)
    resp = send(client, "post", f"/models/{KEY}/versions/2/publish", {}, hm)
    assert resp.status_code == 409
    body = resp.json()
    assert body["code"] == "tests_failed"
    failure = body["details"]["failures"][0]
    assert failure["case"] == "太原大额"
    assert failure["mismatches"]["team"] == {"expected": "ty-big", "actual": "ty-vip"}
    assert model.versions.get(number=2).status == "draft"
    # add a passing case, delete the old one, publish
    resp = send(
        client,
        "post",
        f"/models/{KEY}/tests",
        {
            "name": "vip",
            "input": {"region": "140100", "amount": 200000},
            "expected": {"team": "ty-vip"},
        },
        h,
    )
    assert resp.status_code == 201
    old = DecisionTestCase.objects.get(name="太原大额")
    assert client.delete(f"{API}/models/{KEY}/tests/{old.pk}", **h).status_code == 204
    assert client.delete(f"{API}/models/{KEY}/tests/{old.pk}", **h).status_code == 404
    resp = send(client, "post", f"/models/{KEY}/versions/2/publish", {}, hm, key="p1")
    assert resp.status_code == 200 and resp.json()["status"] == "published"
    assert services.published_version(KEY).number == 2
    assert DecisionVersion.objects.get(model=model, number=1).status == "retired"


def test_testcase_validation(client, editor, model):
    resp = send(
        client, "post", f"/models/{KEY}/tests", {"name": " ", "expected": {"a": 1}}, auth(editor)
    )
    assert resp.status_code == 422
    resp = send(client, "post", f"/models/{KEY}/tests", {"name": "x", "expected": {}}, auth(editor))
    assert resp.status_code == 422
    assert model.test_cases.count() == 1


def test_simulate_and_dry_run(client, editor, viewer, model):
    draft = services.version_create(
        model=model,
        actor=editor,
        content=table_jdm([('"140100"', "", '"ty"', '"太原"', "")] + DEFAULT_RULES),
    )
    resp = send(
        client,
        "post",
        f"/models/{KEY}/versions/{draft.number}/simulate",
        {"limit": 10},
        auth(editor),
    )
    assert resp.status_code == 200, resp.content
    data = resp.json()
    assert (data["total"], data["changed"], data["errors"]) == (3, 2, 0)
    assert data["summary"] == {"team=ty-big → team=ty": 1, "team=pool → team=ty": 1}
    resp = send(
        client,
        "post",
        f"/models/{KEY}/versions/{draft.number}/simulate",
        {"limit": 0},
        auth(editor),
    )
    assert resp.status_code == 422
    h = auth(viewer, scopes=("read",))
    resp = send(
        client, "post", f"/models/{KEY}/evaluate", {"input": {"region": "140100", "amount": 1}}, h
    )
    assert resp.status_code == 200
    assert resp.json()["version"] == 1 and resp.json()["result"]["team"] == "pool"
    resp = send(
        client,
        "post",
        f"/models/{KEY}/evaluate",
        {"input": {"region": "140100", "amount": 1}, "version": draft.number},
        h,
    )
    assert resp.json()["result"]["team"] == "ty" and resp.json()["reasons"][0]["row"] == 1
    assert Evaluation.objects.count() == 0
