"""Browser, 390×844 (a phone): the 贷后检查 flow with a camera photo and a faked location, an
offline draft synced when the network is back, the customer list as cards, the PWA files.
Screenshots go to $CREDO_SHOTS when it is set."""

from __future__ import annotations

import datetime as dt
import io
import os
import time
from decimal import Decimal

import pytest

from credo.accounts.models import Role
from credo.accounts.roles import ensure_default_roles
from credo.core import clock
from credo.core.money import Money
from credo.customers.models import Customer
from credo.fieldwork import services
from credo.fieldwork.models import CustomerSite, FieldPhoto, Inspection
from credo.lending.models import Loan, Product, ProductVersion
from credo.monitoring.models import Alert
from tests.e2e.axe import assert_accessible
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("CREDO_SHOTS", "")  # screenshots only when set
PHONE = {"width": 390, "height": 844}
HERE = {"latitude": 37.871, "longitude": 112.55}


def _png(size: tuple[int, int]) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, (40, 110, 170))
    d = ImageDraw.Draw(img)
    d.rectangle([size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2], fill=(230, 200, 40))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _shot(page, name: str, full: bool = False) -> None:
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=full)


@pytest.fixture
def phone(_browser, live_server, settings, tmp_path):
    settings.CREDO_DOCUMENT_ROOT = str(tmp_path / "documents")
    context = _browser.new_context(
        locale="zh-CN",
        viewport=PHONE,
        geolocation=HERE,
        permissions=["geolocation"],
        has_touch=True,
        is_mobile=True,
    )
    context.set_default_timeout(20_000)
    pg = context.new_page()
    pg.console_errors = []
    pg.on("console", lambda msg: msg.type == "error" and pg.console_errors.append(msg.text))
    pg.base_url = live_server.url
    pg.ctx = context
    yield pg
    context.close()


def _login(page, user) -> None:
    page.goto(f"{page.base_url}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def _wait(page, expression: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({expression})"):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(100)


def _wait_db(check, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the database")
        time.sleep(0.2)


@pytest.fixture
def world(org):
    ensure_default_roles()
    am = UserFactory(
        username="e2e_am",
        display_name="张经理",
        org_unit=org["team_a"],
        roles=[Role.objects.get(code="account_manager")],
    )
    UserFactory(
        username="e2e_risk",
        display_name="赵风控",
        org_unit=org["b1"],
        roles=[Role.objects.get(code="risk_manager")],
    )
    product = Product.objects.create(code="fw-e2e", name="经营贷")
    pv = ProductVersion.objects.create(
        product=product,
        number=1,
        status="published",
        min_amount=Money("1000"),
        max_amount=Money("50000000"),
        min_months=1,
        max_months=60,
        min_rate=Decimal("4"),
        max_rate=Decimal("18"),
        method="equal_principal",
        allocation_order=["penalty", "fee", "interest", "principal"],
    )
    names = [
        "山西晋阳重型机械制造集团有限公司",
        "太原市小店区长风街道综合商贸有限责任公司",
        "清徐县老陈醋酿造有限公司",
    ]
    loans = []
    for i, name in enumerate(names):
        c = Customer.objects.create(
            kind="enterprise",
            name=name,
            owner=am,
            team=org["team_a"],
            branch=org["b1"],
            address="太原市小店区长风街1号",
            region_code="140105",
        )
        start = clock.today() - dt.timedelta(days=25)
        loans.append(
            Loan.objects.create(
                number=f"E{i + 1:05d}",
                customer=c,
                product_version=pv,
                principal=Money("1234567.89"),
                annual_rate=Decimal("12"),
                months=12,
                method="equal_principal",
                penalty_multiplier=Decimal("1.5"),
                status="active",
                start_date=start,
                maturity_date=start + dt.timedelta(days=365),
                outstanding_principal=Money("1234567.89"),
                owner=am,
                team=org["team_a"],
                branch=org["b1"],
                created_by=am,
            )
        )
    # the first customer's registered address has coordinates: the distance is shown
    CustomerSite.objects.create(
        customer=loans[0].customer,
        latitude=Decimal("37.870000"),
        longitude=Decimal("112.550000"),
        source="manual",
        set_by=am,
    )
    services.plan_inspections(clock.today())
    return {"am": am, "loans": loans}


def _fill_checklist(page, result: str = "pass", issue: str = "") -> None:
    for key in ("operating", "purpose", "finance", "staff", "litigation", "other_debt"):
        value = "issue" if key == issue else "ok"
        page.click(f"label[for=i-{key}-{value}]")
    page.click(f"label[for=result-{result}]")


def test_inspection_with_photo_and_location(phone, world):
    page = phone
    _login(page, world["am"])
    insp = Inspection.objects.get(loan=world["loans"][0])
    page.goto(f"{page.base_url}/fieldwork/inspections/")
    assert page.locator("#inspection-table").evaluate("t => t.classList.contains('credo-cards')")
    _shot(page, "01-inspection-list")
    page.locator(f"tr[data-inspection='{insp.pk}'] a.btn").click()
    page.wait_for_selector("#inspection-form")
    # the browser's (faked) location, and the distance to the registered address
    _wait(page, "document.getElementById('location-text').textContent.indexOf('37.871000') === 0")
    assert "112.550000" in page.inner_text("#location-text")
    assert page.inner_text("#distance-text") == "距客户登记地址约 111 米"
    # money in the header never breaks inside the number
    money = page.locator(".datagrid-content .credo-money").first
    assert money.inner_text() == "1,234,567.89"
    assert money.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
    # a 2400×1800 camera photo, compressed in the browser
    page.set_input_files(
        "#photo-input",
        files=[{"name": "camera.png", "mimeType": "image/png", "buffer": _png((2400, 1800))}],
    )
    _wait(page, "document.querySelectorAll('#photo-previews img').length === 1")
    _fill_checklist(page)
    page.fill("#notes", "经营正常，库存充足")
    _shot(page, "02-inspection-form", full=True)
    page.click("#submit-inspection")
    page.wait_for_url(f"**/fieldwork/inspections/{insp.pk}/")
    _shot(page, "03-inspection-done", full=True)
    insp.refresh_from_db()
    assert insp.status == "completed" and insp.result == "pass"
    assert (insp.latitude, insp.longitude) == (Decimal("37.871000"), Decimal("112.550000"))
    assert insp.distance_m == 111
    assert insp.client_uuid is not None
    p = FieldPhoto.objects.get(inspection=insp)
    assert p.content_type == "image/jpeg"
    from PIL import Image

    from credo.origination import documents

    with Image.open(documents.path_of(p.stored_name)) as img:
        assert img.size == (1600, 1200)
    assert p.size < 400_000
    assert "约 111 米" in page.inner_text("#inspection-distance")
    assert page.locator("#photo-gallery img").count() == 1
    # nothing left on the phone
    assert (
        page.evaluate(
            "Object.keys(localStorage).filter(k => k.startsWith('credo.fw.draft.')).length"
        )
        == 0
    )
    assert not page.console_errors


def test_offline_draft_then_sync(phone, world):
    page = phone
    _login(page, world["am"])
    insp = Inspection.objects.get(loan=world["loans"][1])
    page.goto(f"{page.base_url}/fieldwork/inspections/{insp.pk}/form/")
    _wait(page, "document.querySelector('input[name=latitude]').value !== ''")
    assert "客户登记地址未设置坐标" in page.inner_text("#distance-text")
    assert_accessible(page, "inspection form")
    page.set_input_files(
        "#photo-input",
        files=[{"name": "p.png", "mimeType": "image/png", "buffer": _png((800, 600))}],
    )
    _wait(page, "document.querySelectorAll('#photo-previews img').length === 1")
    _fill_checklist(page, result="fail", issue="operating")
    page.fill("#notes", "厂房停工，设备已搬离")
    page.ctx.set_offline(True)
    page.click("#submit-inspection")
    _wait(page, "document.getElementById('draft-status').textContent.indexOf('已保存在本机') >= 0")
    _shot(page, "04-offline-draft")
    draft = page.evaluate(
        f"JSON.parse(localStorage.getItem('credo.fw.draft.inspection-{insp.pk}'))"
    )
    assert draft["queued"] is True and len(draft["photos"]) == 1
    insp.refresh_from_db()
    assert insp.status == "planned"
    # back online: pwa.js syncs the queued draft and the page moves to the result
    page.ctx.set_offline(False)
    page.wait_for_url(f"**/fieldwork/inspections/{insp.pk}/", timeout=30_000)
    _wait_db(lambda: Inspection.objects.get(pk=insp.pk).status == "completed")
    insp.refresh_from_db()
    assert insp.result == "fail"
    assert str(insp.client_uuid) == dict(draft["fields"])["client_uuid"]
    alert = Alert.objects.get(loan=insp.loan)
    assert alert.rule_name == "贷后检查异常"
    assert page.locator("#inspection-alert").count() == 1
    _shot(page, "05-synced-failed-inspection", full=True)
    assert (
        page.evaluate(
            "Object.keys(localStorage).filter(k => k.startsWith('credo.fw.draft.')).length"
        )
        == 0
    )


def _tap_targets(page) -> list[dict]:
    return page.evaluate(
        """() => {
      const out = [];
      for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary, label.btn')) {
        if (el.closest('thead') || el.classList.contains('visually-hidden')) continue;
        // the skip link is a 1 px keyboard-only target until it has focus
        if (el.classList.contains('visually-hidden-focusable') && el !== document.activeElement) continue;
        const r = el.getBoundingClientRect();
        const s = getComputedStyle(el);
        if (r.width === 0 || r.height === 0 || s.visibility === 'hidden' || s.display === 'none') continue;
        out.push({tag: el.tagName, text: (el.textContent || el.name || '').trim().slice(0, 30), w: Math.round(r.width), h: Math.round(r.height)});
      }
      return out;
    }"""
    )


def test_customer_list_on_a_phone(phone, world):
    page = phone
    _login(page, world["am"])
    page.goto(f"{page.base_url}/customers/")
    table = page.locator(".table-responsive > table").first
    assert table.evaluate("t => t.classList.contains('credo-cards')")
    row = table.locator("tbody tr").first
    assert row.evaluate("r => getComputedStyle(r).display") == "block"
    # the long company name is on one card line, not one character per line
    name = row.locator("td").first
    assert name.bounding_box()["width"] > 250
    # labelled cells
    assert row.locator("td").nth(1).get_attribute("data-label") == "类型"
    # no horizontal scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # the filters are folded into a sheet
    sheet = page.locator("details.credo-filter-sheet")
    assert sheet.count() == 1 and sheet.evaluate("d => d.open") is False
    assert not page.locator("#f-kind").is_visible()
    _shot(page, "06-customer-list-cards")
    small = [t for t in _tap_targets(page) if t["w"] < 44 or t["h"] < 44]
    assert small == [], small
    page.click("details.credo-filter-sheet > summary")
    assert page.locator("#f-kind").is_visible()
    _shot(page, "07-customer-filters-open")
    # the main action sits in the bottom bar, within reach of the thumb
    bar = page.locator(".page-header .btn-list")
    box = bar.bounding_box()
    assert box["y"] + box["height"] >= PHONE["height"] - 2
    assert bar.evaluate("b => getComputedStyle(b).position") == "fixed"


def test_manifest_and_offline_page(phone, world):
    page = phone
    _login(page, world["am"])
    page.goto(f"{page.base_url}/fieldwork/inspections/")
    href = page.get_attribute("link[rel=manifest]", "href")
    manifest = page.request.get(page.base_url + href).json()
    assert manifest["name"] == "信贷管理" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        r = page.request.get(page.base_url + icon["src"])
        assert r.ok and r.headers["content-type"] == "image/png"
    # the service worker takes control, then a navigation without network gets the offline page
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    _wait(page, "navigator.serviceWorker.controller !== null")
    page.ctx.set_offline(True)
    page.goto(f"{page.base_url}/customers/")
    assert page.locator("#offline-page").count() == 1
    assert "网络未连接" in page.inner_text("h1")
    _shot(page, "08-offline-page")
    page.ctx.set_offline(False)


def test_visit_check_in(phone, world):
    page = phone
    _login(page, world["am"])
    customer = world["loans"][0].customer
    page.goto(f"{page.base_url}/fieldwork/visits/new/")
    page.fill("#q", "晋阳")
    page.click("#visit-customer-search button")
    page.click(f"#visit-customers a[href='?customer={customer.pk}']")
    page.wait_for_selector("#visit-form")
    _wait(page, "document.getElementById('distance-text').textContent.indexOf('111') >= 0")
    page.select_option("#purpose", "post_loan")
    page.fill("#notes", "回访，经营正常")
    _shot(page, "09-visit-form", full=True)
    page.click("#submit-visit")
    page.wait_for_url("**/fieldwork/visits/*/")
    page.goto(f"{page.base_url}/fieldwork/visits/")
    assert "张经理" in page.inner_text("#visit-per-member")
    _shot(page, "10-visit-list", full=True)
    from credo.customers.models import CustomerEvent

    assert CustomerEvent.objects.filter(
        customer=customer, title__startswith="走访签到（贷后回访）"
    ).exists()
