import pytest

from credo.rules import registry, services
from credo.rules.models import Evaluation
from tests.rules.conftest import DEFAULT_RULES, table_jdm

pytestmark = pytest.mark.django_db


@pytest.fixture
def spec_no_history():
    s = registry.DecisionSpec(
        key="test.recorded",
        name="记录回放",
        default=table_jdm(DEFAULT_RULES),
        outputs=[("team", "团队")],
    )
    registry.register_decision(s)
    yield s
    registry.unregister_decision(s.key)


def test_simulate_replays_recorded_inputs_newest_first(spec_no_history, owner):
    key = "test.recorded"
    services.evaluate(key, {"region": "140100", "amount": 200000}, subject=owner)
    services.evaluate_many(
        key,
        [(None, {"region": "140200", "amount": 5}), (owner, {"region": "140100", "amount": 5})],
    )
    model = services.ensure_model(key)
    draft = services.version_create(
        model=model,
        actor=owner,
        content=table_jdm([('"140100"', "", '"ty"', '"太原"', "")] + DEFAULT_RULES),
    )
    sim = services.simulate(draft, limit=2)
    # only the last two stored evaluations are replayed
    assert sim.total == 2 and sim.changed == 1 and sim.errors == 0
    assert sim.rows == [
        {
            "label": f"accounts.user#{owner.pk}",
            "input": {"region": "140100", "amount": 5},
            "before": {"team": "pool"},
            "after": {"team": "ty"},
        }
    ]
    sim = services.simulate(draft, limit=100)
    assert (sim.total, sim.changed) == (3, 2)
    assert sim.summary == {"team=ty-big → team=ty": 1, "team=pool → team=ty": 1}
    # simulation never stores evaluations
    assert Evaluation.objects.filter(model_key=key).count() == 3


def test_simulate_counts_errors(spec_no_history, owner):
    key = "test.recorded"
    services.evaluate(key, {"region": "140100", "amount": 1})
    model = services.ensure_model(key)
    # an output expression that fails at run time for this input
    content = table_jdm([("", "", "amount.x.y", '"a"', "")])
    draft = services.version_create(model=model, actor=owner, content=content)
    sim = services.simulate(draft, limit=10)
    assert sim.total == 1
    assert sim.errors + sim.changed == 1
