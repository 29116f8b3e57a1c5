"""Issue 16 #7: a customer name with markup is shown as text in the relation-graph tooltip
(ECharts inserts a formatter's string as HTML)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from credo.customers import services
from tests.customers.conftest import make_id
from tests.factories import OrgUnitFactory, RoleFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

EVIL = '<img src="x" id="pwned" onerror="window.__pwned=1">王<b id="bold">五</b>'


@pytest.fixture
def manager():
    team = OrgUnitFactory(code="e2e-graph", name="太原二组")
    role = RoleFactory(code="e2e_graph", name="客户经理图谱")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="customers",
            codename__in=["view_customer", "add_customer", "change_customer"],
        )
    )
    return UserFactory(username="e2e_graph", display_name="李伟", org_unit=team, roles=[role])


def _show_tip(page, data_index: int) -> None:
    page.evaluate(
        """(i) => {
            const chart = window.echarts.getInstanceByDom(document.getElementById("relation-graph"));
            chart.dispatchAction({ type: "showTip", seriesIndex: 0, dataIndex: i });
        }""",
        data_index,
    )


def test_relation_graph_tooltip_escapes_customer_name(page, login, manager):
    evil = services.customer_create(
        actor=manager,
        data={
            "kind": "individual",
            "name": EVIL,
            "id_number": make_id(61),
            "phone": "13900000061",
            "region_code": "140105",
        },
    )
    other = services.customer_create(
        actor=manager,
        data={
            "kind": "individual",
            "name": "赵担保",
            "id_number": make_id(62),
            "phone": "13900000062",
            "region_code": "140105",
        },
    )
    services.relation_add(from_customer=other, to_customer=evil, kind="guarantor", actor=manager)
    login(manager)
    page.goto(f"{page.base_url}/customers/{other.pk}/#relations")
    page.wait_until(
        "() => window.echarts && window.echarts.getInstanceByDom("
        "document.getElementById('relation-graph'))"
    )
    graph = page.locator("#relation-graph")
    _show_tip(page, 1)  # node 0 is this customer, node 1 the related party with the markup
    # "五" is in the tooltip whether the name is shown as text or (the bug) rendered as HTML.
    page.wait_until(
        "(t) => document.getElementById('relation-graph').innerText.includes(t)", arg="五"
    )
    assert EVIL in graph.inner_text()  # shown literally
    assert graph.locator("img").count() == 0 and graph.locator("#bold").count() == 0
    assert page.evaluate("() => window.__pwned") is None
