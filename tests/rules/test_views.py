import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from credo.rules import services
from credo.rules.models import DecisionModel, DecisionTestCase, DecisionVersion, Evaluation
from tests.rules.conftest import DEFAULT_RULES, table_jdm

pytestmark = pytest.mark.django_db
KEY = "test.assign"


def url(name, **kw):
    return reverse(f"rules:{name}", kwargs=kw)


@pytest.fixture
def model(spec):
    return services.ensure_model(KEY)


def test_outsider_gets_403_everywhere(client, outsider, model):
    client.force_login(outsider)
    for path in (url("model_list"), url("model_detail", key=KEY)):
        assert client.get(path).status_code == 403
    for name, kw in (
        ("version_new", {"key": KEY}),
        ("version_upload", {"key": KEY}),
        ("testcase_create", {"key": KEY}),
        ("version_publish", {"key": KEY, "number": 1}),
    ):
        assert client.post(url(name, **kw)).status_code == 403
    assert model.versions.count() == 1


def test_viewer_sees_but_cannot_edit(client, viewer, model):
    client.force_login(viewer)
    services.evaluate(KEY, {"region": "140100", "amount": 200000})
    resp = client.get(url("model_list"))
    assert resp.status_code == 200 and KEY in resp.content.decode()
    resp = client.get(url("model_detail", key=KEY))
    body = resp.content.decode()
    assert resp.status_code == 200 and "太原 10 万以上" in body and 'id="draft-new"' not in body
    assert client.post(url("version_new", key=KEY)).status_code == 403
    resp = client.post(
        url("version_edit", key=KEY, number=1),
        {"content": json.dumps(model.versions.get().content)},
    )
    assert resp.status_code == 403
    resp = client.get(url("version_download", key=KEY, number=1))
    assert json.loads(resp.content) == model.versions.get().content
    assert "attachment" in resp["Content-Disposition"]


def test_editor_draft_edit_and_publish_refused_then_done(client, editor, risk_manager, model):
    client.force_login(editor)
    resp = client.post(url("version_new", key=KEY))
    assert resp.status_code == 302
    draft = model.versions.get(status="draft")
    changed = table_jdm([('"140100"', "> 100000", '"ty-vip"', '"太原大额"', "")] + DEFAULT_RULES)
    resp = client.post(
        url("version_edit", key=KEY, number=draft.number),
        {"content": json.dumps(changed), "note": "vip"},
    )
    assert resp.status_code == 302
    draft.refresh_from_db()
    assert draft.content == changed and draft.note == "vip"
    # editor lacks publish permission
    assert client.post(url("version_publish", key=KEY, number=2)).status_code == 403
    # the test page shows the mismatch
    resp = client.get(url("version_tests", key=KEY, number=2))
    assert resp.status_code == 200 and 'data-passed="0"' in resp.content.decode()
    client.force_login(risk_manager)
    resp = client.post(url("version_publish", key=KEY, number=2), follow=True)
    assert "未通过" in resp.content.decode()
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert services.published_version(KEY).number == 1
    case = model.test_cases.get()
    case.expected = {"team": "ty-vip"}
    case.save()
    resp = client.post(url("version_publish", key=KEY, number=2))
    assert resp.status_code == 302
    assert services.published_version(KEY).number == 2


def test_invalid_edit_changes_nothing(client, editor, model):
    client.force_login(editor)
    draft = services.version_create(model=model, actor=editor)
    before = draft.content
    bad = table_jdm([('"140100"', "> > 5", '"a"', '"b"', "")])
    resp = client.post(url("version_edit", key=KEY, number=2), {"content": json.dumps(bad)})
    assert resp.status_code == 400 and "无效" in resp.content.decode()
    resp = client.post(url("version_edit", key=KEY, number=2), {"content": "{nope"})
    assert resp.status_code == 400
    draft.refresh_from_db()
    assert draft.content == before


@pytest.mark.parametrize(
    "payload",
    [
        {"text": "{not json"},
        {"text": "[1, 2]"},
        {"text": json.dumps({"nodes": [], "edges": []})},
        {"text": ""},
        {"file": SimpleUploadedFile("x.json", b"\xff\xfe garbage")},
    ],
)
def test_invalid_upload_saves_nothing(client, editor, model, payload):
    client.force_login(editor)
    resp = client.post(url("version_upload", key=KEY), payload)
    assert resp.status_code == 400
    assert 'class="alert alert-danger"' in resp.content.decode()
    assert model.versions.count() == 1


def test_upload_file_becomes_draft_and_rollback_from_old_version(client, risk_manager, model):
    client.force_login(risk_manager)
    content = table_jdm([("", "", '"x"', '"全部"', "全部")])
    upload = SimpleUploadedFile("m.json", json.dumps(content).encode())
    resp = client.post(url("version_upload", key=KEY), {"file": upload, "note": "上传"})
    assert resp.status_code == 302
    v2 = model.versions.get(number=2)
    assert v2.content == content and v2.status == "draft"
    # one open draft per model
    resp = client.post(url("version_new", key=KEY), {"from": "1"}, follow=True)
    assert "已有草稿" in resp.content.decode()
    model.test_cases.update(expected={"team": "x"})
    services.version_publish(version=v2, actor=risk_manager)
    # rollback path: a new draft from retired v1
    resp = client.post(url("version_new", key=KEY), {"from": "1"})
    v3 = model.versions.get(number=3)
    assert v3.content == model.versions.get(number=1).content and "v1" in v3.note
    client.post(url("version_discard", key=KEY, number=3))
    assert not model.versions.filter(number=3).exists()


def test_testcase_form_validation_and_delete(client, editor, model):
    client.force_login(editor)
    resp = client.post(
        url("testcase_create", key=KEY), {"name": "x", "input": "{bad", "expected": "{}"}
    )
    assert resp.status_code == 400
    body = resp.content.decode()
    assert "JSON 格式错误" in body and "期望输出" in body
    assert model.test_cases.count() == 1
    resp = client.post(
        url("testcase_create", key=KEY),
        {
            "name": "小额",
            "input": '{"region": "140100", "amount": 5}',
            "expected": '{"team": "pool"}',
        },
    )
    assert resp.status_code == 302
    case = DecisionTestCase.objects.get(name="小额")
    assert case.input == {"region": "140100", "amount": 5}
    client.post(url("testcase_delete", key=KEY, pk=case.pk))
    assert not DecisionTestCase.objects.filter(pk=case.pk).exists()


def test_try_runs_without_storing(client, viewer, model):
    client.force_login(viewer)
    resp = client.post(
        url("version_try", key=KEY, number=1), {"input": '{"region": "140100", "amount": 200000}'}
    )
    body = resp.content.decode()
    assert resp.status_code == 200 and "ty-big" in body and "太原 10 万以上" in body
    resp = client.post(url("version_try", key=KEY, number=1), {"input": "[1]"})
    assert "try-error" in resp.content.decode()
    assert Evaluation.objects.count() == 0


def test_editor_page_and_simulation_page(client, editor, model):
    client.force_login(editor)
    draft = services.version_create(
        model=model,
        actor=editor,
        content=table_jdm([('"140100"', "", '"ty"', '"太原"', "")] + DEFAULT_RULES),
    )
    resp = client.get(url("version_edit", key=KEY, number=draft.number))
    body = resp.content.decode()
    assert resp.status_code == 200 and 'id="jdm-data"' in body and "rules/editor.js" in body
    assert 'data-editable="1"' in body
    resp = client.get(url("version_simulate", key=KEY, number=draft.number), {"limit": "10"})
    body = resp.content.decode()
    assert resp.status_code == 200 and 'id="sim-changed">2<' in body and "对比已发布 v1" in body
    resp = client.get(url("version_simulate", key=KEY, number=draft.number), {"limit": "50001"})
    assert resp.status_code == 200 and "sim-total" not in resp.content.decode()


def test_nav_entry(client, viewer, model):
    client.force_login(viewer)
    body = client.get(url("model_list")).content.decode()
    assert url("model_list") in body and "ti-git-branch" in body


def test_model_list_counts(client, viewer, model):
    DecisionModel.objects.create(key="other.none", name="空模型")
    client.force_login(viewer)
    resp = client.get(url("model_list"))
    assert resp.status_code == 200
    assert DecisionVersion.objects.filter(model=model).count() == 1


def test_viewer_cannot_simulate_or_discard(client, viewer, editor, model):
    draft = services.version_create(model=model, actor=editor)
    client.force_login(viewer)
    assert client.get(url("version_simulate", key=KEY, number=2), {"limit": 5}).status_code == 403
    assert client.post(url("version_discard", key=KEY, number=2)).status_code == 403
    assert (
        client.post(url("testcase_delete", key=KEY, pk=model.test_cases.get().pk)).status_code
        == 403
    )
    draft.refresh_from_db()
    assert draft.status == "draft" and model.test_cases.count() == 1
