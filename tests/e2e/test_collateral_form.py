"""Browser, issue 18 item 7: the new-application form records a 抵押物 and a 保证人 as real
records; the 抵押率 stored at submission shows on the approval task, the one stored at the
approval decision on the application page."""

from __future__ import annotations

import pytest

from credo.approvals import services as approvals
from credo.approvals.selectors import instance_for, open_task_of
from credo.collateral.models import Collateral, Guarantee, LtvSnapshot
from credo.customers import services as customer_services
from credo.origination import services
from credo.origination.models import Application
from tests.e2e.test_collateral import world  # noqa: F401  (the shared fixture)
from tests.factories import png_bytes as _png
from tests.factories import xlsx_bytes as _xlsx

pytestmark = pytest.mark.django_db(transaction=True)


def _guarantor(owner):
    from credo.core.validators import uscc_check_char

    body = "91140100MA0000719"
    return customer_services.customer_create(
        actor=owner,
        data={
            "kind": "enterprise",
            "name": "太原保证担保有限公司",
            "uscc": body + uscc_check_char(body),
            "region_code": "140105",
            "registered_capital": "5000000",
            "industry": "J",
            "founded_on": "2015-01-01",
        },
    )


def test_application_form_creates_collateral_and_ltv_reaches_approval(
    page,
    login,
    world,  # noqa: F811
):
    page.set_default_timeout(30_000)  # the shared machine is busy
    owner, lead, risk = world["owner"], world["lead"], world["risk"]
    customer, pv = world["customer"], world["pv"]
    guarantor = _guarantor(owner)

    login(owner)
    page.goto(f"{page.base_url}/origination/applications/new/?customer={customer.pk}")
    page.wait_for_selector("#application-form")
    assert "担保信息" in page.inner_text("#security-section")
    page.select_option("#id_product_version", str(pv.pk))
    page.fill("#id_amount", "300000")
    page.fill("#id_months", "12")
    page.fill("#id_annual_rate", "10")
    page.fill("#id_purpose", "购买施工设备")
    # a value without a description is refused with a message, nothing is created
    page.fill("#id_collateral_value", "500000")
    page.click("#application-save")
    page.wait_for_selector(".invalid-feedback")
    assert "填写了押品价值，请同时填写押品描述。" in page.inner_text("#application-form")
    assert not Application.objects.exists()

    page.select_option("#id_guarantor", str(guarantor.pk))
    page.select_option("#id_guarantee_kind", "joint")
    page.select_option("#id_collateral_kind", "mortgage")
    page.select_option("#id_collateral_category", "real_estate")
    page.fill("#id_collateral", "太原市小店区长风街 8 号商铺")
    page.fill("#id_collateral_value", "500000")
    page.fill("#id_collateral_registration_number", "晋(2026)太原市不动产证明第0009876号")
    page.click("#application-save")
    page.wait_for_url("**/origination/applications/*/")
    app = Application.objects.get()
    c = Collateral.objects.get(links__application_id=app.pk)
    assert c.owner == customer and c.current_value.fen == 50_000_000
    assert c.registration_number == "晋(2026)太原市不动产证明第0009876号"
    assert Guarantee.objects.get(application_id=app.pk).guarantor == guarantor
    panel = page.locator("#application-security")
    text = panel.inner_text()
    assert c.number in text and "太原保证担保有限公司" in text and "连带责任保证" in text
    assert panel.locator("[data-role=ltv]").inner_text() == "60.00%"
    assert "未记录" in panel.locator("[data-role=ltv-at-application]").inner_text()
    assert page.console_errors == []

    services.document_upload(
        application=app, item="营业执照", name="执照.png", data=_png((40, 30)), actor=owner
    )
    services.document_upload(
        application=app, item="财务报表", name="报表.xlsx", data=_xlsx(), actor=owner
    )
    services.application_submit(application=app, actor=owner)
    assert LtvSnapshot.objects.filter(application_id=app.pk, moment="application").exists()

    page.context.clear_cookies()
    login(lead)
    page.goto(f"{page.base_url}/approvals/inbox/")
    page.get_by_role("link", name="处理").first.click()
    page.wait_for_url("**/approvals/tasks/*/")
    panel = page.locator("#approval-application #application-security")
    assert panel.locator("[data-role=ltv-at-application]").inner_text().startswith("60.00%")
    assert "未记录" in panel.locator("[data-role=ltv-at-approval]").inner_text()
    assert "太原市小店区长风街 8 号商铺" in panel.inner_text()
    assert page.console_errors == []

    # the decision (lead, then risk approving 240,000): the approval-time 抵押率 is stored
    for user, extra in ((lead, {}), (risk, {"amount": 24_000_000, "months": 12})):
        task = open_task_of(instance_for(app), user)
        approvals.approval_act(task=task, actor=user, action="approve", comment="同意", **extra)
    page.context.clear_cookies()
    login(owner)
    page.goto(f"{page.base_url}/origination/applications/{app.pk}/")
    panel = page.locator("#application-security")
    assert panel.locator("[data-role=ltv-at-application]").inner_text().startswith("60.00%")
    assert panel.locator("[data-role=ltv-at-approval]").inner_text().startswith("48.00%")
    assert page.console_errors == []
