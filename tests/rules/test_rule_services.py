import pytest

from credo.core.audit.models import AuditEntry
from credo.rules import services
from credo.rules.errors import InvalidModel, InvalidState, TestsFailed
from credo.rules.models import DecisionModel, DecisionVersion, Evaluation
from tests.rules.conftest import DEFAULT_RULES, table_jdm

pytestmark = pytest.mark.django_db


def test_default_installed_on_first_use_and_evaluated_with_reasons(spec, owner):
    decision = services.evaluate(
        "test.assign", {"region": "140100", "amount": 200000}, subject=owner
    )
    assert decision.result == {"team": "ty-big", "reason": "太原大额"}
    assert decision.version.number == 1 and decision.version.status == "published"
    assert decision.reasons == [
        {"node": "分配表", "rule": "r1", "row": 1, "description": "太原 10 万以上"}
    ]
    ev = Evaluation.objects.get()
    assert ev.subject_type == "accounts.user" and ev.subject_id == str(owner.pk)
    assert ev.version == decision.version and ev.output["team"] == "ty-big"
    assert DecisionModel.objects.get(key="test.assign").test_cases.count() == 1
    other = services.evaluate("test.assign", {"region": "140200", "amount": 1}, record=False)
    assert other.result["team"] == "pool" and other.reasons[0]["row"] == 2
    assert Evaluation.objects.count() == 1


def test_evaluate_many_equals_one_by_one(spec):
    items = [(None, {"region": r, "amount": a}) for r in ("140100", "140200") for a in (1, 10**6)]
    many = services.evaluate_many("test.assign", items)
    single = [services.evaluate("test.assign", d, record=False) for _s, d in items]
    assert [d.result for d in many] == [d.result for d in single]
    assert Evaluation.objects.count() == len(items)


def test_draft_edit_publish_cycle(spec, owner):
    model = services.ensure_model("test.assign")
    draft = services.version_create(model=model, actor=owner, note="调整")
    assert draft.number == 2 and draft.status == "draft"
    with pytest.raises(InvalidState):
        services.version_create(model=model, actor=owner)
    changed = table_jdm([('"140100"', "> 100000", '"ty-vip"', '"太原大额"', "")] + DEFAULT_RULES)
    services.version_update(version=draft, content=changed, actor=owner)
    # the shipped test case now fails → cannot publish, nothing changes
    with pytest.raises(TestsFailed) as err:
        services.version_publish(version=draft, actor=owner)
    assert "太原大额" in err.value.message
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert services.published_version("test.assign").number == 1
    # simulation shows exactly which decisions would change
    sim = services.simulate(draft)
    assert (sim.total, sim.changed) == (3, 1)
    assert sim.rows[0]["label"] == "线索1" and sim.rows[0]["after"] == {"team": "ty-vip"}
    # fix the test case expectation, publish; v1 retired
    case = model.test_cases.get()
    case.expected = {"team": "ty-vip"}
    case.save()
    services.version_publish(version=draft, actor=owner)
    assert services.published_version("test.assign").number == 2
    assert DecisionVersion.objects.get(model=model, number=1).status == "retired"
    assert (
        services.evaluate("test.assign", {"region": "140100", "amount": 200000}).result["team"]
        == "ty-vip"
    )
    assert AuditEntry.objects.filter(action="rules.version_publish").count() == 1
    with pytest.raises(InvalidState):
        services.version_update(version=draft, content=changed, actor=owner)


@pytest.mark.parametrize(
    "content",
    [
        [],
        {"nodes": []},
        {"nodes": [{"id": "x", "type": "inputNode"}], "edges": []},
        table_jdm([('"140100"', "> > 5", '"a"', '"b"', "")]),
    ],
)
def test_invalid_content_refused(spec, owner, content):
    model = services.ensure_model("test.assign")
    with pytest.raises(InvalidModel):
        services.version_create(model=model, actor=owner, content=content)
    assert model.versions.count() == 1


def test_publish_needs_a_test_case(spec, owner):
    model = services.ensure_model("test.assign")
    model.test_cases.all().delete()
    draft = services.version_create(model=model, actor=owner)
    with pytest.raises(TestsFailed):
        services.version_publish(version=draft, actor=owner)


def test_collect_hit_policy_lists_every_matched_row(spec):
    content = table_jdm(
        [('"140100"', "", '"a"', '"本地"', "本地"), ("", "> 100", '"b"', '"大额"', "大额")],
        hit_policy="collect",
    )
    model = DecisionModel.objects.create(key="test.collect", name="c")
    version = DecisionVersion.objects.create(model=model, number=1, content=content)
    result, reasons = services.run_version(version, {"region": "140100", "amount": 500})
    assert [r["rule"] for r in reasons] == ["r1", "r2"]


def test_published_version_is_loaded_once_then_only_its_id_is_asked(
    spec, django_assert_num_queries
):
    """Issue 24: each evaluation asks which version is published (one small query); the
    version with its content is loaded once per process."""
    services.evaluate("test.assign", {"region": "140100", "amount": 1}, record=False)
    with django_assert_num_queries(1):
        decision = services.evaluate("test.assign", {"region": "140100", "amount": 1}, record=False)
    assert decision.version.number == 1
