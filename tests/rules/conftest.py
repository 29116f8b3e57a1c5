import pytest

from credo.rules import registry


def table_jdm(rules, *, hit_policy="first"):
    """A one-table JDM: inputs region/amount → outputs team/reason."""
    return {
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "输入", "position": {"x": 0, "y": 0}},
            {
                "id": "t1",
                "type": "decisionTableNode",
                "name": "分配表",
                "position": {"x": 200, "y": 0},
                "content": {
                    "hitPolicy": hit_policy,
                    "inputs": [
                        {"id": "c1", "name": "地区", "field": "region"},
                        {"id": "c2", "name": "金额", "field": "amount"},
                    ],
                    "outputs": [
                        {"id": "o1", "name": "团队", "field": "team"},
                        {"id": "o2", "name": "原因", "field": "reason"},
                    ],
                    "rules": [
                        {"_id": f"r{i}", "_description": d, "c1": c1, "c2": c2, "o1": o1, "o2": o2}
                        for i, (c1, c2, o1, o2, d) in enumerate(rules, 1)
                    ],
                },
            },
            {"id": "out", "type": "outputNode", "name": "输出", "position": {"x": 400, "y": 0}},
        ],
        "edges": [
            {"id": "e1", "sourceId": "in", "targetId": "t1", "type": "edge"},
            {"id": "e2", "sourceId": "t1", "targetId": "out", "type": "edge"},
        ],
    }


DEFAULT_RULES = [
    ('"140100"', "> 100000", '"ty-big"', '"太原大额"', "太原 10 万以上"),
    ("", "", '"pool"', '"默认"', "其余"),
]
HISTORY = [
    ("线索1", {"region": "140100", "amount": 200000}),
    ("线索2", {"region": "140100", "amount": 50000}),
    ("线索3", {"region": "140200", "amount": 500000}),
]


@pytest.fixture
def spec():
    s = registry.DecisionSpec(
        key="test.assign",
        name="测试分配",
        default=table_jdm(DEFAULT_RULES),
        inputs=[("region", "地区"), ("amount", "金额")],
        outputs=[("team", "团队")],
        history=lambda n: HISTORY[:n],
        sample={"region": "140100", "amount": 1},
        tests=[
            {
                "name": "太原大额",
                "input": {"region": "140100", "amount": 200000},
                "expected": {"team": "ty-big"},
            }
        ],
    )
    registry.register_decision(s)
    yield s
    registry.unregister_decision(s.key)


def rules_role(code, *codenames):
    from django.contrib.auth.models import Permission

    from tests.factories import RoleFactory

    role = RoleFactory(code=code, name=code, data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(content_type__app_label="rules", codename__in=codenames)
    )
    return role


@pytest.fixture
def viewer(org):
    from tests.factories import UserFactory

    return UserFactory(
        username="rule_viewer",
        org_unit=org["head"],
        roles=[rules_role("rv", "view_decisionmodel")],
    )


@pytest.fixture
def editor(org):
    from tests.factories import UserFactory

    return UserFactory(
        username="rule_editor",
        org_unit=org["head"],
        roles=[rules_role("re", "view_decisionmodel", "edit_rules")],
    )


@pytest.fixture
def risk_manager(org):
    from tests.factories import UserFactory

    return UserFactory(
        username="rule_manager",
        display_name="赵风控",
        org_unit=org["head"],
        roles=[rules_role("rm", "view_decisionmodel", "edit_rules", "publish_rules")],
    )
