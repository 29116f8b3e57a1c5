"""The holiday calendar against PostgreSQL: one day, the Excel import (all or nothing,
idempotent), the shipped notices, the cached calendar, the page, the command, and the product's
holiday rule copied to the loan and applied to its due dates."""

# ruff: noqa: F811  (fixtures of tests/lending/conftest.py imported by name)
from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse

from credo.core.audit.models import AuditEntry
from credo.core.holidays import load_calendar, services
from credo.core.holidays.calendar import WorkingCalendar
from credo.core.models import Holiday
from tests.factories import UserFactory, role_with_perms
from tests.lending.conftest import book_on, borrower, finance, make_loan, product_version  # noqa: F401

D = dt.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def empty(db):
    Holiday.objects.all().delete()  # the data migration ships 2025/2026


@pytest.fixture
def admin(org):
    role = role_with_perms("hol_admin", "all", "core.manage_holidays", "core.view_holiday")
    return UserFactory(username="hol_admin", org_unit=org["head"], roles=[role])


@pytest.fixture
def viewer(org):
    role = role_with_perms("hol_viewer", "all", "core.view_holiday")
    return UserFactory(username="hol_viewer", org_unit=org["head"], roles=[role])


def xlsx(rows, header=("日期", "类型", "名称")) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows, header=("date", "kind", "name")) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")


def snapshot():
    return list(Holiday.objects.order_by("date").values_list("date", "kind", "name"))


# --- one day ---------------------------------------------------------------------------------
def test_add_edit_delete_audited_and_seen_by_the_calendar(empty, admin):
    assert load_calendar().is_working(D(2027, 2, 8))  # Monday, nothing listed
    h = services.holiday_save(actor=admin, date=D(2027, 2, 8), kind="holiday", name="春节")
    assert not load_calendar().is_working(D(2027, 2, 8))
    services.holiday_save(actor=admin, holiday=h, date=D(2027, 2, 8), kind="holiday", name="除夕")
    assert Holiday.objects.get().name == "除夕"
    services.holiday_delete(actor=admin, holiday=h)
    assert load_calendar().is_working(D(2027, 2, 8))
    actions = list(
        AuditEntry.objects.filter(action__startswith="holiday.").values_list("action", flat=True)
    )
    assert sorted(actions) == ["holiday.create", "holiday.delete", "holiday.update"]


def test_duplicate_date_and_permission_refused(empty, admin, viewer):
    services.holiday_save(actor=admin, date=D(2027, 1, 1), kind="holiday", name="元旦")
    with pytest.raises(services.HolidayError, match="已在日历中"):
        services.holiday_save(actor=admin, date=D(2027, 1, 1), kind="workday")
    with pytest.raises(services.HolidayPermissionDenied):
        services.holiday_save(actor=viewer, date=D(2027, 1, 2), kind="holiday")
    assert snapshot() == [(D(2027, 1, 1), "holiday", "元旦")]


# --- cache -----------------------------------------------------------------------------------
def test_calendar_cached_until_the_data_changes(empty, admin, django_assert_num_queries):
    services.holiday_save(actor=admin, date=D(2027, 1, 1), kind="holiday", name="元旦")
    first = load_calendar()
    with django_assert_num_queries(1):  # the version token only
        assert load_calendar() is first
    # a change made elsewhere (another process) bumps the token in the database
    Holiday.objects.create(date=D(2027, 1, 2), kind="holiday", year=2027)
    assert load_calendar() is first  # not through a service: token unchanged
    services.holiday_save(actor=admin, date=D(2027, 1, 3), kind="holiday")
    cal = load_calendar()
    assert cal is not first
    assert not cal.is_working(D(2027, 1, 2)) and not cal.is_working(D(2027, 1, 3))


# --- import ----------------------------------------------------------------------------------
def test_import_preview_then_apply_and_reimport_is_idempotent(empty, admin):
    rows = [
        ("2027-02-06", "放假", "春节"),
        (D(2027, 2, 7), "放假", "春节"),
        ("2027/2/13", "调休上班", "春节"),
    ]
    preview = services.parse_file(xlsx(rows), "2027.xlsx")
    assert preview.ok and preview.new == 3 and preview.errors == []
    result = services.holiday_import(actor=admin, preview=preview, filename="2027.xlsx")
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    assert snapshot() == [
        (D(2027, 2, 6), "holiday", "春节"),
        (D(2027, 2, 7), "holiday", "春节"),
        (D(2027, 2, 13), "workday", "春节"),
    ]
    assert load_calendar().is_working(D(2027, 2, 13))
    token = services.calendar_token()
    again = services.parse_file(xlsx(rows), "2027.xlsx")
    assert (again.new, again.changed, again.unchanged) == (0, 0, 3)
    result = services.holiday_import(actor=admin, preview=again, filename="2027.xlsx")
    assert (result.created, result.updated, result.unchanged) == (0, 0, 3)
    assert services.calendar_token() == token  # nothing changed: caches stay valid
    assert AuditEntry.objects.filter(action="holiday.import").count() == 2


def test_import_english_headers_csv_updates_changed_day(empty, admin):
    services.holiday_save(actor=admin, date=D(2027, 5, 3), kind="holiday", name="")
    data = csv_bytes([("2027-05-03", "holiday", "劳动节"), ("2027-05-08", "workday", "劳动节")])
    preview = services.parse_file(data, "days.csv")
    assert (preview.new, preview.changed) == (1, 1)
    result = services.holiday_import(actor=admin, preview=preview, filename="days.csv")
    assert (result.created, result.updated) == (1, 1)
    assert snapshot() == [
        (D(2027, 5, 3), "holiday", "劳动节"),
        (D(2027, 5, 8), "workday", "劳动节"),
    ]


def test_bad_rows_change_nothing_and_say_why(empty, admin):
    services.holiday_save(actor=admin, date=D(2027, 1, 1), kind="holiday", name="元旦")
    before = snapshot()
    rows = [
        ("2027-10-01", "放假", "国庆节"),
        ("2027-13-01", "放假", ""),
        ("2027-10-02", "请假", ""),
        ("2027-10-01", "放假", "重复"),
        ("2027-10-04", "调休上班", ""),  # a Monday cannot be a 调休上班 day
        ("", "放假", ""),
    ]
    preview = services.parse_file(xlsx(rows), "bad.xlsx")
    messages = [(e.row_number, e.column_label, e.message_zh) for e in preview.errors]
    assert messages == [
        (3, "日期", "日期“2027-13-01”无法识别，请写成 2026-10-01。"),
        (4, "类型", "类型“请假”无法识别，请填写“放假”或“调休上班”。"),
        (5, "日期", "日期 2027-10-01 与第 2 行重复。"),
        (6, "类型", "2027-10-04 是工作日（周一至周五），无需标为调休上班。"),
        (7, "日期", "日期不能为空。"),
    ]
    assert not preview.ok
    with pytest.raises(services.HolidayError, match="未导入任何日期"):
        services.holiday_import(actor=admin, preview=preview, filename="bad.xlsx")
    assert snapshot() == before


def test_missing_column_and_unreadable_file(empty):
    with pytest.raises(services.HolidayError, match="缺少必需的列：类型"):
        services.parse_file(xlsx([("2027-01-01", "x")], header=("日期", "说明")), "x.xlsx")
    with pytest.raises(services.HolidayError, match="只支持"):
        services.parse_file(b"abc", "x.pdf")
    with pytest.raises(services.HolidayError, match="没有数据行"):
        services.parse_file(xlsx([]), "x.xlsx")


def test_export_reimports_to_the_same_days(empty, admin):
    services.holidays_load_default(actor=admin, year=2026)
    before = snapshot()
    data = services.export_xlsx(2026)
    preview = services.parse_file(data, "export.xlsx")
    assert preview.ok and preview.unchanged == len(before) == 39
    assert preview.unknown_columns == ["星期", "来源"]


# --- shipped data ----------------------------------------------------------------------------
def test_load_default_ships_2025_and_2026(empty):
    result = services.holidays_load_default()
    assert result.created == 28 + 5 + 33 + 6
    cal = load_calendar()
    assert cal.is_working(D(2026, 2, 14))  # Saturday, 调休上班
    assert not cal.is_working(D(2026, 10, 5))  # Monday, 国庆
    assert cal.next_working_day(D(2026, 10, 1)) == D(2026, 10, 8)
    assert cal.next_working_day(D(2025, 1, 28)) == D(2025, 2, 5)
    again = services.holidays_load_default()
    assert (again.created, again.updated) == (0, 0)


def test_load_default_resets_an_edited_day(empty, admin):
    services.holidays_load_default(year=2026)
    h = Holiday.objects.get(date=D(2026, 10, 5))
    services.holiday_save(actor=admin, holiday=h, date=h.date, kind="holiday", name="改过")
    result = services.holidays_load_default(year=2026)
    assert (result.created, result.updated) == (0, 1)
    assert Holiday.objects.get(date=D(2026, 10, 5)).name == "国庆节"
    with pytest.raises(services.HolidayError):
        services.holidays_load_default(year=2031)


def test_data_migration_function_loads_and_keeps_existing(empty):
    import importlib

    from django.apps import apps

    mig = importlib.import_module("credo.core.migrations.0003_holiday_defaults")
    Holiday.objects.create(date=D(2026, 10, 5), kind="holiday", name="本机构", year=2026)
    mig.load(apps, None)
    assert Holiday.objects.count() == 72
    assert Holiday.objects.get(date=D(2026, 10, 5)).name == "本机构"


def test_command_load_default(empty):
    out = io.StringIO()
    call_command("holidays", "load-default", "--year", "2026", stdout=out)
    assert "created 39" in out.getvalue()
    assert Holiday.objects.filter(year=2026).count() == 39
    out = io.StringIO()
    call_command("holidays", "show", "--year", "2026", stdout=out)
    assert "2026-02-14\tworkday\t春节" in out.getvalue()


def test_missing_next_year_warning(empty):
    assert services.missing_next_year(D(2026, 11, 30)) is None
    assert services.missing_next_year(D(2026, 12, 1)) == 2027
    Holiday.objects.create(date=D(2027, 1, 1), kind="holiday", year=2027)
    assert services.missing_next_year(D(2026, 12, 1)) is None


# --- pages -----------------------------------------------------------------------------------
def test_pages(empty, admin, viewer, client):
    services.holidays_load_default(year=2026)
    client.force_login(viewer)
    r = client.get(reverse("core:holidays") + "?year=2026")
    assert r.status_code == 200
    body = r.content.decode()
    assert 'data-date="2026-02-14" data-state="workday"' in body
    assert 'data-date="2026-10-05" data-state="holiday"' in body
    assert "新增日期" not in body  # view only
    assert client.get(reverse("core:holiday_import")).status_code == 403
    assert client.get(reverse("core:holiday_export") + "?year=2026").status_code == 200
    r = client.get(reverse("core:holidays") + "?year=2030")
    assert "2030 年还没有节假日数据" in r.content.decode()

    client.force_login(admin)
    upload = io.BytesIO(xlsx([("2027-01-01", "放假", "元旦")]))
    upload.name = "2027.xlsx"
    r = client.post(reverse("core:holiday_import"), {"file": upload})
    assert r.status_code == 200 and 'id="new-days">1<' in r.content.decode()
    payload = r.context["payload"]
    r = client.post(reverse("core:holiday_import_confirm"), {"payload": payload})
    assert r.status_code == 302 and r["Location"].endswith("?year=2027")
    assert Holiday.objects.filter(year=2027).count() == 1
    r = client.post(reverse("core:holiday_import_confirm"), {"payload": payload + "x"})
    assert r.status_code == 302 and r["Location"].endswith("/import/")

    r = client.post(
        reverse("core:holiday_create"), {"date": "2027-01-02", "kind": "holiday", "name": "元旦"}
    )
    assert r.status_code == 302
    h = Holiday.objects.get(date=D(2027, 1, 2))
    r = client.post(reverse("core:holiday_delete", args=[h.pk]))
    assert r.status_code == 302 and not Holiday.objects.filter(pk=h.pk).exists()


# --- the product rule ------------------------------------------------------------------------
@pytest.fixture
def shipped_2026(empty):
    services.holidays_load_default(year=2026)


def _disbursed_due_dates(make_loan, finance, product_version, rule):
    from credo.lending import services as lending

    product_version.holiday_rule = rule
    product_version.save()
    loan = make_loan(principal="120000", rate="12", months=12)
    assert loan.holiday_rule == rule
    loan = lending.loan_disburse(loan=loan, actor=finance, value_date=D(2026, 1, 10))
    dates = list(loan.installments.order_by("period").values_list("due_date", flat=True))
    return loan, dates


def test_next_working_day_moves_due_dates(shipped_2026, make_loan, finance, product_version):
    loan, dates = _disbursed_due_dates(make_loan, finance, product_version, "next_working_day")
    assert dates[3] == D(2026, 5, 11)  # 5/10 Sunday → Monday
    assert dates[8] == D(2026, 10, 10)  # Saturday worked (调休上班): unchanged
    assert dates[0] == D(2026, 2, 10)
    assert dates[-1] == D(2027, 1, 11)  # Sunday → Monday
    assert loan.maturity_date == D(2027, 1, 11)
    assert all(load_calendar().is_working(d) for d in dates)


def test_default_rule_keeps_due_dates(shipped_2026, make_loan, finance, product_version):
    from credo.lending.models import Loan, ProductVersion

    for model in (ProductVersion, Loan):
        assert model._meta.get_field("holiday_rule").default == "defer_penalty"
    loan, dates = _disbursed_due_dates(make_loan, finance, product_version, "defer_penalty")
    assert dates[3] == D(2026, 5, 10)
    assert dates[-1] == D(2027, 1, 10)


def test_product_form_and_new_version_carry_the_rule(admin, product_version):
    from credo.lending.forms import ProductVersionForm
    from credo.lending.products import services as product_services

    product_version.refresh_from_db()
    product_version.holiday_rule = "next_working_day"
    product_version.save()
    initial = ProductVersionForm.initial_for(product_version)
    assert initial["holiday_rule"] == "next_working_day"
    draft = product_services.version_new(product=product_version.product, actor=admin)
    assert draft.holiday_rule == "next_working_day"
    assert isinstance(load_calendar(), WorkingCalendar)


def test_product_form_field_defaults_to_defer_penalty():
    from django import forms

    from credo.lending.forms import ProductVersionForm

    field = ProductVersionForm(prefix="v").fields["holiday_rule"]
    assert field.clean("") == "defer_penalty"  # not sent: the default
    assert field.clean("next_working_day") == "next_working_day"
    with pytest.raises(forms.ValidationError):
        field.clean("sometimes")
