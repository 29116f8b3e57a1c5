"""Browser: the administrator opens the 节假日 page, imports next year's notice from a small
.xlsx (preview, confirm), sees the days in the month grid and the list, and loads the shipped
2026 notice from the empty state."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.contrib.auth.models import Permission

from credo.core.models import Holiday
from tests.factories import OrgUnitFactory, RoleFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def holiday_admin():
    Holiday.objects.all().delete()
    role = RoleFactory(code="e2e_hol_admin", name="节假日管理员")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="core", codename__in=["manage_holidays", "view_holiday"]
        )
    )
    team = OrgUnitFactory(code="e2e-hol", name="总部")
    return UserFactory(username="e2e_hol", display_name="系统管理员", org_unit=team, roles=[role])


def _xlsx(path, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["日期", "类型", "名称"])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(buf.getvalue())


def test_view_import_and_load_default(page, login, holiday_admin, tmp_path):
    page.set_default_timeout(30_000)  # the shared CI machine is busy
    login(holiday_admin)
    page.goto(f"{page.base_url}/system/holidays/?year=2030")
    assert "2030 年还没有节假日数据" in page.inner_text("#holidays-empty")
    assert page.locator("nav a[href='/system/holidays/'], a[href='/system/holidays/']").count() >= 1

    bad = tmp_path / "bad.xlsx"
    _xlsx(bad, [["2030-01-01", "放假", "元旦"], ["2030-01-07", "调休上班", ""]])
    page.click("#import-link")
    page.set_input_files("#import-file", str(bad))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#import-errors")
    assert "无需标为调休上班" in page.inner_text("#import-errors")
    assert page.is_disabled("#confirm-import")
    assert Holiday.objects.count() == 0

    good = tmp_path / "2030.xlsx"
    _xlsx(
        good,
        [
            ["2030-01-01", "放假", "元旦"],
            ["2030-02-02", "放假", "春节"],
            ["2030-02-09", "调休上班", "春节"],
        ],
    )
    page.goto(f"{page.base_url}/system/holidays/import/")
    page.set_input_files("#import-file", str(good))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#import-rows")
    assert page.inner_text("#new-days") == "3"
    page.click("#confirm-import")
    page.wait_for_url("**/system/holidays/?year=2030")
    assert "新增 3 天" in page.inner_text("body")
    assert page.get_attribute("#month-grid [data-date='2030-01-01']", "data-state") == "holiday"
    assert page.get_attribute("#month-grid [data-date='2030-02-09']", "data-state") == "workday"
    assert page.get_attribute("#month-grid [data-date='2030-02-10']", "data-state") == "weekend"
    assert "春节" in page.inner_text("#holiday-table")
    assert page.inner_text("#n-workdays") == "1"

    # the empty state of a shipped year offers the State Council notice
    page.select_option("#year-select", "2026")
    page.click("#year-form button[type=submit]")
    page.wait_for_url("**/system/holidays/?year=2026")
    page.click("text=载入内置的国务院通知")
    page.wait_for_selector("#holiday-table")
    assert page.get_attribute("#month-grid [data-date='2026-02-14']", "data-state") == "workday"
    assert page.get_attribute("#month-grid [data-date='2026-10-05']", "data-state") == "holiday"
    assert page.inner_text("#n-holidays") == "33"

    # edit one day from the grid
    page.click("#month-grid a[data-date='2026-10-05']")
    page.fill("input[name=name]", "国庆节（本机构）")
    page.click("#holiday-form button[type=submit]")
    page.wait_for_url("**/system/holidays/?year=2026")
    assert "国庆节（本机构）" in page.inner_text("#holiday-table")
    assert page.console_errors == []
