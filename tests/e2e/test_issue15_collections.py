"""Browser, issue 15: a promise on an escalated case makes it 已承诺 and the 已承诺 filter finds it
(item 5); the compliance log speaks Chinese and names the case (item 10); the case page's
reassignment select, do-not-contact label and contact-log column (item 12)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission

from credo.collections import services
from credo.collections.errors import GuardrailViolation
from credo.collections.models import CollectionCase
from credo.core import clock
from credo.lending import eod
from credo.lending import services as lending_services
from tests.factories import RoleFactory, UserFactory
from tests.lending.conftest import (  # noqa: F401  (fixtures)
    VALUE_DATE,
    borrower,
    finance,
    make_loan,
    product_version,
)

pytestmark = pytest.mark.django_db(transaction=True)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _role(code, name, scope, *perms):
    role = RoleFactory(code=code, name=name, data_scope=scope)
    role.permissions.add(
        *Permission.objects.filter(content_type__app_label="collections", codename__in=perms)
    )
    return role


@pytest.fixture
def senior(org):
    role = _role(
        "collector_senior",
        "高级催收",
        "team",
        "view_collectioncase",
        "contact_case",
        "manage_cases",
    )
    return UserFactory(
        username="senior_e2e", display_name="孙催收", org_unit=org["team_b"], roles=[role]
    )


@pytest.fixture
def escalated_case(make_loan, finance, senior):  # noqa: F811
    loan = lending_services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    eod.run_eod(dt.date(2026, 2, 26))  # first installment due 2026-02-15 → 11 days → escalated
    case = CollectionCase.objects.get(loan=loan)
    assert (case.tier, case.status, case.assignee) == ("senior_letter", "escalated", senior)
    return case


def test_promise_on_escalated_case_is_found_by_promised_filter(page, login, escalated_case, senior):
    case = escalated_case
    login(senior)
    page.goto(f"{page.base_url}/collections/cases/{case.pk}/")
    assert page.inner_text("#case-status") == "已升级"
    promised = (clock.today() + dt.timedelta(days=3)).isoformat()
    page.fill("#promise-form input[name=promised_date]", promised)
    page.fill("#promise-form input[name=amount]", "5000")
    page.click("#promise-form button[type=submit]")
    page.wait_for_selector("#promise-table")
    assert page.inner_text("#case-status") == "已承诺"

    page.goto(f"{page.base_url}/collections/")
    page.select_option("select[name=status]", "promised")
    page.click("button:has-text('筛选')")
    page.wait_for_selector("#case-table")
    assert case.loan.number in page.inner_text("#case-table")
    assert "已承诺" in page.inner_text("#case-table .case-status")
    assert page.console_errors == []


def test_case_page_reassign_dnc_label_and_channel_column(page, login, escalated_case, senior):
    case = escalated_case
    services.contact_log(
        case=case,
        target="borrower",
        channel="call",
        outcome="no_answer",
        notes="客户电话无人接听，" * 20,  # a long note squeezes the other columns
        actor=senior,
        now=dt.datetime(2026, 2, 26, 10, 0, tzinfo=SHANGHAI),
    )
    login(senior)
    page.goto(f"{page.base_url}/collections/cases/{case.pk}/")
    options = page.locator(
        "form[action$='/reassign/'] select[name=assignee] option"
    ).all_inner_texts()
    assert options[0] == "请选择催收员" and "---------" not in options
    assert page.inner_text("label[for=id_assignee]") == "改派给"
    reason = page.get_by_label("拒绝联系原因")
    assert reason.get_attribute("name") == "reason"
    assert page.get_by_label("拒绝联系范围").get_attribute("name") == "target"
    lines = page.eval_on_selector(
        "#attempt-table tbody tr:first-child td:nth-child(2)",
        "td => { const r = document.createRange(); r.selectNodeContents(td);"
        " return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; }",
    )
    assert page.inner_text("#attempt-table tbody tr:first-child td:nth-child(2)") == "电话"
    assert lines == 1  # "电话" on one line
    assert page.console_errors == []


def test_compliance_log_names_the_case_in_chinese(page, login, org, escalated_case, senior):
    case = escalated_case
    with pytest.raises(GuardrailViolation):
        services.contact_log(
            case=case,
            target="borrower",
            channel="call",
            outcome="no_answer",
            actor=senior,
            now=dt.datetime(2026, 2, 26, 23, 0, tzinfo=SHANGHAI),  # quiet hours
        )
    role = _role(
        "risk_e2e", "风控经理E2E", "all", "view_collectioncase", "manage_cases", "view_compliance"
    )
    manager = UserFactory(
        username="risk_e2e", display_name="周风控", org_unit=org["head"], roles=[role]
    )
    login(manager)
    page.goto(f"{page.base_url}/collections/compliance/")
    page.wait_for_selector(".page-body table, table")
    text = page.inner_text("table")
    for expected in (case.customer.name, case.loan.number, "孙催收", "静默时段", "电话"):
        assert expected in text
    for raw in ("quiet_hours", "daily_cap", "call", f"#{case.pk}"):
        assert raw not in text
    page.click("table a:has-text('查看案件')")
    page.wait_for_url(f"**/collections/cases/{case.pk}/")
    assert page.console_errors == []
