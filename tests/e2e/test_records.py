"""Browser: an administrator designs a custom record type (表单设计) in the designer — adding,
reordering and deleting field rows, a sub-table, a formula and a photo field — publishes it, and
an account manager fills it in on a phone (390×844) from the customer 360 page: stacked fields,
44 px tap targets, a camera photo, a sub-table row added on the phone, the formula computed by
the server. Screenshots go to $CREDO_SHOTS when it is set."""

from __future__ import annotations

import io
import os

import pytest

from credo.accounts.models import Role
from credo.accounts.roles import ensure_default_roles
from credo.customers.models import Customer
from credo.records.models import CustomRecord, RecordFile, RecordType
from tests.e2e.axe import AXE, BLOCKING, violations
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("CREDO_SHOTS", "")
PHONE = {"width": 390, "height": 844}


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (640, 480), (40, 110, 170)).save(buf, format="PNG")
    return buf.getvalue()


def _shot(page, name: str) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"records-{name}.png"), full_page=True)


def _login(page, user) -> None:
    page.goto(f"{page.base_url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


@pytest.fixture
def phone(_browser, live_server, settings, tmp_path):
    settings.CREDO_DOCUMENT_ROOT = str(tmp_path / "documents")
    context = _browser.new_context(
        locale="zh-CN", viewport=PHONE, has_touch=True, is_mobile=True, service_workers="block"
    )
    context.set_default_timeout(20_000)
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda msg: msg.type == "error" and pg.console_errors.append(msg.text))
    pg.base_url = live_server.url
    yield pg
    context.close()


@pytest.fixture
def world(org):
    ensure_default_roles()
    admin = UserFactory(
        username="e2e_admin",
        display_name="系统管理员",
        org_unit=org["head"],
        roles=[Role.objects.get(code="admin")],
    )
    am = UserFactory(
        username="e2e_am",
        display_name="张经理",
        org_unit=org["team_a"],
        roles=[Role.objects.get(code="account_manager")],
    )
    customer = Customer.objects.create(
        kind="enterprise",
        name="太原市小店区长风街道综合商贸有限责任公司",
        owner=am,
        team=org["team_a"],
        branch=org["b1"],
        address="太原市小店区长风街1号",
        region_code="140105",
    )
    return {"admin": admin, "am": am, "customer": customer}


def _row(page, i: int, label: str, key: str, ftype: str) -> None:
    page.fill(f"#fld-{i}-label", label)
    page.fill(f"#fld-{i}-key", key)
    page.select_option(f"#fld-{i}-type", ftype)


def test_design_record_type_and_fill_it_on_the_phone(page, phone, world):
    # --- the administrator designs the form on the desktop ------------------------------------
    _login(page, world["admin"])
    page.goto(f"{page.base_url}/records/types/")
    assert "还没有自定义表单" in page.inner_text("body")
    page.click("#new-record-type")
    page.fill("#name", "现场走访记录")
    page.fill("#code", "site_visit")
    page.select_option("#attached_to", "customer")
    _row(page, 1, "走访结论", "conclusion", "choice")
    page.fill("#fld-1-options", "ok=正常\nwatch=关注")
    page.check("input[name=fld-1-required]")
    page.check("input[name=fld-1-show_in_list]")
    # type-specific inputs follow the type: a choice has options, no formula
    assert page.is_visible("#fld-1-options") and not page.is_visible("#fld-1-expression")
    _row(page, 2, "存货明细", "stock", "subtable")
    assert page.is_visible("#fld-2-columns") and not page.is_visible("#fld-2-options")
    page.fill("#fld-2-columns", "name:品名:text:必填\namount:金额:money")
    _row(page, 3, "存货合计", "stock_total", "computed")
    page.fill("#fld-3-expression", "sum(map(stock, #.amount))")
    page.select_option("#fld-3-result_type", "money")
    # a fourth row added with the button, then moved to the top
    page.click("#add-field")
    rows = page.locator("#designer-rows .credo-designer-row")
    last = rows.last
    new_index = last.get_attribute("data-row")
    _row(page, int(new_index), "走访日期", "visit_date", "date")
    page.check(f"input[name=fld-{new_index}-required]")
    for _ in range(rows.count() - 1):
        page.locator(f".credo-designer-row[data-row='{new_index}'] [data-designer-up]").click()
    assert rows.first.get_attribute("data-row") == new_index
    # a photo row, and a row that is deleted again
    blank = []
    for _ in range(2):
        page.click("#add-field")
        blank.append(rows.last.get_attribute("data-row"))
    _row(page, int(blank[0]), "门头照片", "door", "photo")
    page.check(f"input[name=fld-{blank[0]}-required]")
    _row(page, int(blank[1]), "不要的字段", "unwanted", "text")
    page.locator(f".credo-designer-row[data-row='{blank[1]}'] label.btn-outline-danger").click()
    _shot(page, "01-designer")
    page.click("#save-type")
    page.wait_for_url("**/records/types/*/")
    assert "已保存草稿" in page.inner_text("body")
    page.click("#publish-type")
    page.wait_for_url("**/records/types/*/")
    rt = RecordType.objects.get(code="site_visit")
    version = rt.published_version()
    assert version is not None and version.number == 1
    assert [d["key"] for d in version.fields] == [
        "visit_date",
        "conclusion",
        "stock",
        "stock_total",
        "door",
    ]
    assert "已发布" in page.inner_text("#type-versions")

    # --- the account manager fills it in on the phone ------------------------------------------
    p = phone
    _login(p, world["am"])
    customer = world["customer"]
    p.goto(f"{p.base_url}/customers/{customer.pk}/")
    p.click("a[href='#business']")
    p.locator("#records-panel [data-record-type='site_visit']").click()
    p.wait_for_selector("#record-form")
    assert customer.name in p.inner_text("#record-parent")
    # phone layout: fields stacked full width, tap targets at least 44 px, camera input
    width = p.evaluate("document.querySelector('#f_visit_date').getBoundingClientRect().width")
    assert width > 300
    for sel in (
        "#f_visit_date",
        "#f_conclusion",
        "#save-record",
        "#add-row-stock",
        "label.credo-camera",
    ):
        h = p.evaluate(f"document.querySelector({sel!r}).getBoundingClientRect().height")
        assert h >= 44, (sel, h)
    assert p.get_attribute("#f_door", "capture") == "environment"
    assert p.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # submitting empty shows the required rules
    p.click("#save-record")
    p.wait_for_selector("#record-errors")
    assert p.locator("[data-error='visit_date']").inner_text() == "此字段为必填项。"
    assert p.locator("[data-error='door']").inner_text() == "此字段为必填项。"
    assert not CustomRecord.objects.exists()
    # fill in: a date, the choice, two sub-table rows (one added on the phone), a photo
    p.fill("#f_visit_date", "2026-12-03")
    p.select_option("#f_conclusion", "watch")
    p.fill("#f_stock-0-name", "钢材")
    p.fill("#f_stock-0-amount", "1200.50")
    p.click("#add-row-stock")
    p.fill("#f_stock-1-name", "配件")
    p.fill("#f_stock-1-amount", "99.50")
    p.set_input_files(
        "#f_door", files=[{"name": "door.png", "mimeType": "image/png", "buffer": _png()}]
    )
    p.wait_for_selector("[data-preview-for='f_door'] img")
    if AXE.exists():  # axe-core comes from `make assets` (npm)
        bad = [v for v in violations(p, include="#record-form") if v["impact"] in BLOCKING]
        assert not bad, bad
    _shot(p, "02-phone-form")
    p.click("#save-record")
    p.wait_for_url("**/records/*/")
    record = CustomRecord.objects.get()
    assert record.customer_id == customer.pk and record.created_by == world["am"]
    assert record.values["conclusion"] == "watch"
    assert record.values["stock"] == [
        {"name": "钢材", "amount": 120050},
        {"name": "配件", "amount": 9950},
    ]
    assert record.values["stock_total"] == 130000
    assert RecordFile.objects.get(record=record).content_type == "image/png"
    values = p.inner_text("#record-values")
    assert "¥1,300.00" in values and "关注" in values
    assert p.locator("#record-values img").count() == 1
    _shot(p, "03-phone-detail")
    # the list shows it as a card on the phone, with the list field
    p.goto(f"{p.base_url}/records/t/site_visit/")
    assert p.locator("#record-table").evaluate("t => t.classList.contains('credo-cards')")
    assert record.number in p.inner_text("#record-table")
    assert "关注" in p.inner_text("#record-table")
    # the refused empty submit answered 400 (the browser logs it); nothing else, no CSP error
    assert [e for e in p.console_errors if "status of 400" not in e] == []
    assert not page.console_errors
