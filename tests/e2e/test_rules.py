"""Browser: a risk manager edits a decision table in a draft, sees a test fail, fixes the test
case and publishes v2."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from credo.rules import registry
from credo.rules.models import DecisionVersion
from tests.factories import RoleFactory, UserFactory
from tests.rules.conftest import DEFAULT_RULES, table_jdm

pytestmark = pytest.mark.django_db(transaction=True)
KEY = "test.e2e-assign"


@pytest.fixture
def spec():
    s = registry.DecisionSpec(
        key=KEY,
        name="浏览器测试分配",
        default=table_jdm(DEFAULT_RULES),
        inputs=[("region", "地区"), ("amount", "金额")],
        outputs=[("team", "团队")],
        sample={"region": "140100", "amount": 200000},
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


@pytest.fixture
def risk_manager(org):
    role = RoleFactory(code="rm_e2e", name="e2e 决策编辑", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="rules",
            codename__in=["view_decisionmodel", "edit_rules", "publish_rules"],
        )
    )
    return UserFactory(username="rm_e2e", display_name="赵风控", org_unit=org["head"], roles=[role])


def test_risk_manager_edits_tests_and_publishes(page, login, spec, risk_manager):
    login(risk_manager)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{page.base_url}/rules/")
    page.click(f"text={KEY}")
    page.click("#draft-new")
    page.wait_for_selector("#version-status:has-text('草稿')")

    # the grid: row 1, column 3 is the output "团队"
    cell = page.locator("#jdm-editor input[data-kind=cell][data-row='0'][data-col='2']")
    assert cell.input_value() == '"ty-big"'
    cell.fill('"ty-vip"')
    page.click("#jdm-editor [data-action=add-row]")
    new_row = page.locator("#jdm-editor tbody tr").nth(2)
    new_row.locator("input[data-col='2']").fill('"never"')
    new_row.locator("input[data-kind=desc]").fill("新行")
    page.click("#jdm-editor [data-action=row-up][data-row='2']")
    page.fill("#id_note", "太原大额改走 VIP")
    page.click("#save-draft")
    page.wait_for_selector("text=草稿已保存")
    draft = DecisionVersion.objects.get(model__key=KEY, number=2)
    rules = draft.content["nodes"][1]["content"]["rules"]
    assert [r["o1"] for r in rules] == ['"ty-vip"', '"never"', '"pool"']
    assert rules[1]["_description"] == "新行" and draft.note == "太原大额改走 VIP"
    assert page.locator("#jdm-editor input[data-kind=cell]").first.input_value() == '"140100"'

    # try it (dry run of the saved draft)
    page.click("#try-run")
    page.wait_for_selector("#try-output")
    assert "ty-vip" in page.inner_text("#try-output")
    assert "太原 10 万以上" in page.inner_text("#try-reasons")

    # run tests: the shipped case now fails; publishing is refused
    page.click("#run-tests")
    page.wait_for_selector("#test-table")
    assert page.locator("#test-table tr[data-passed='0']").count() == 1
    page.click("#publish")
    page.wait_for_selector(".alert:has-text('未通过')")
    assert DecisionVersion.objects.get(model__key=KEY, number=2).status == "draft"

    # fix the expectation: replace the test case
    page.goto(f"{page.base_url}/rules/{KEY}/")
    page.click("#case-table button[type=submit]")
    page.wait_for_selector("text=测试用例已删除")
    page.fill("#id_name", "太原大额 VIP")
    page.fill("#id_input", '{"region": "140100", "amount": 200000}')
    page.fill("#id_expected", '{"team": "ty-vip"}')
    page.click("#case-add")
    page.wait_for_selector("#case-table:has-text('太原大额 VIP')")

    page.click("#publish-2")
    page.wait_for_selector("#version-2[data-status=published]")
    assert page.locator("#version-1[data-status=retired]").count() == 1
    assert DecisionVersion.objects.get(model__key=KEY, number=2).status == "published"
    assert page.console_errors == []
