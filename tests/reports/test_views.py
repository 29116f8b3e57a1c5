import datetime as dt
import io

import pytest
from django.contrib.auth.models import Permission
from openpyxl import load_workbook

from credo.core.audit.models import AuditEntry
from credo.reports import services
from credo.reports.models import ReportRun, ReportSchedule, SavedReport

pytestmark = pytest.mark.django_db


@pytest.fixture
def builder_perm(manager_role):
    manager_role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="reports", codename__in=["build_report", "schedule_report"]
        )
    )


def test_dashboard_kpis(client, portfolio, owner):
    client.force_login(owner)
    page = client.get("/reports/?period=year")
    assert page.status_code == 200
    cards = {c["key"]: c for c in page.context["cards"]}
    assert cards["outstanding"]["value"] == 1_000_000 * 100
    assert str(cards["overdue_rate_balance"]["value"]) == "0.9000"
    assert "贷款余额" in page.content.decode()


def test_builder_preview_save_export_schedule(client, portfolio, owner, builder_perm):
    client.force_login(owner)
    q = "dataset=loans&d=industry&m=overdue_balance&m=outstanding&chart=bar&order=-overdue_balance"
    page = client.get(f"/reports/builder/?{q}")
    assert page.status_code == 200 and page.context["result"].rows
    resp = client.post(
        "/reports/builder/",
        {
            "dataset": "loans",
            "d": ["industry"],
            "m": ["overdue_balance", "outstanding"],
            "chart": "bar",
            "name": "行业逾期余额",
            "on_dashboard": "on",
        },
    )
    assert resp.status_code == 302
    report = SavedReport.objects.get(name="行业逾期余额")
    assert report.spec["dimensions"] == ["industry"] and report.on_dashboard
    xlsx = client.get(f"/reports/r/{report.pk}/export.xlsx")
    assert xlsx.status_code == 200
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in ws[1]] == ["行业", "逾期余额", "贷款余额"]
    assert float(ws.cell(row=2, column=2).value) == 900000.0  # a number, in yuan
    assert ws.cell(row=2, column=2).number_format == "#,##0.00"
    assert AuditEntry.objects.filter(action="report.export").exists()
    pdf = client.get(f"/reports/r/{report.pk}/export.pdf")
    assert pdf.content.startswith(b"%PDF")
    resp = client.post(
        f"/reports/r/{report.pk}/schedule/",
        {"frequency": "daily", "time": "08:00", "recipients": [owner.pk], "channels": ["inapp"]},
    )
    schedule = ReportSchedule.objects.get(report=report)
    assert schedule.next_run_at is not None
    assert client.get("/reports/?period=month").context["pinned"][0]["report"] == report


def test_builder_bad_input_saves_nothing(client, portfolio, owner, builder_perm):
    client.force_login(owner)
    resp = client.post(
        "/reports/builder/", {"dataset": "loans", "d": ["nope"], "m": ["count"], "name": "x"}
    )
    assert resp.status_code == 422 and "维度不存在" in resp.content.decode()
    resp = client.post("/reports/builder/", {"dataset": "loans", "m": ["count"], "name": ""})
    assert resp.status_code == 422
    assert not SavedReport.objects.exists()


def test_permissions(client, portfolio, outsider, owner, builder_perm, org):
    from tests.factories import UserFactory

    nobody = UserFactory(username="nobody", org_unit=org["head"])
    client.force_login(nobody)
    assert client.get("/reports/builder/").status_code == 403
    assert client.get("/reports/vintage/").status_code == 403
    assert client.get("/reports/").context["cards"] == []
    client.force_login(owner)
    report = services.report_save(
        actor=owner, name="mine", spec={"dataset": "loans", "measures": ["count"]}
    )
    client.force_login(outsider)
    assert client.get(f"/reports/r/{report.pk}/").status_code == 404


def test_standard_pages_render(client, portfolio, owner):
    client.force_login(owner)
    for url in (
        "/reports/list/",
        "/reports/standard/product_sales/",
        "/reports/standard/classification/",
        "/reports/standard/overdue_by_industry/?export=xlsx",
        "/reports/vintage/",
        "/reports/roll-rates/",
        "/reports/forecast/",
        "/reports/staff/",
    ):
        assert client.get(url).status_code == 200, url


def test_scheduled_delivery_once_per_slot(portfolio, owner):
    report = services.report_save(
        actor=owner, name="r", spec={"dataset": "loans", "measures": ["count"]}
    )
    now = dt.datetime(2026, 3, 1, 7, 0, tzinfo=dt.UTC)
    schedule = services.schedule_create(
        report=report,
        actor=owner,
        frequency="daily",
        time=dt.time(8, 0),
        recipients=[owner],
        channels=["inapp"],
        now=now,
    )
    later = schedule.next_run_at + dt.timedelta(minutes=1)
    assert services.run_due_schedules(later) == 1
    assert services.run_due_schedules(later) == 0  # same slot: not again
    run = ReportRun.objects.get()
    assert run.status == "done" and run.rows == 1
    schedule.refresh_from_db()
    assert schedule.next_run_at > later


def test_snapshot_and_trend(portfolio, owner):
    from credo.lending.models import EodRun

    day = dt.date(2026, 3, 1)
    # the book stands at the 2026-03-01 close (a past date's snapshot is never built from it)
    EodRun.objects.create(business_date=day, status="done")
    assert services.snapshot_refresh(day) == 1  # one owner × one product
    [point] = services.trend(owner, 30, day)
    assert point["outstanding"] == 1_000_000 * 100 and point["overdue_rate"] == 0.9


def test_api_query_and_field_permission(client, portfolio, owner):
    from tests.lending.test_api import auth

    headers = auth(owner)
    ds = client.get("/api/v1/reports/datasets", **headers).json()
    loans = next(d for d in ds if d["key"] == "loans")
    assert any(d["key"] == "industry" for d in loans["dimensions"])
    resp = client.post(
        "/api/v1/reports/query",
        {"dataset": "loans", "dimensions": ["dpd_bucket"], "measures": ["outstanding"]},
        content_type="application/json",
        **headers,
    )
    assert resp.status_code == 200, resp.content
    assert {r["dpd_bucket"]: r["outstanding"] for r in resp.json()["rows"]}["M4+"] == 40_000_000
    bad = client.post(
        "/api/v1/reports/query",
        {
            "dataset": "loans",
            "measures": ["count"],
            "filters": [{"dimension": "phone", "op": "eq", "value": "1"}],
        },
        content_type="application/json",
        **headers,
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_query"


def test_lead_reports_and_application_kpis(client, owner, manager_role, org):
    from django.contrib.auth.models import Permission

    from credo.leads.models import Lead

    manager_role.permissions.add(
        *Permission.objects.filter(codename__in=["view_lead", "view_application"])
    )
    Lead.objects.create(name="甲", source="online", owner=owner, stage="converted")
    Lead.objects.create(name="乙", source="online", owner=owner, stage="new")
    Lead.objects.filter(name="甲").update(
        contacted_at="2026-01-01T00:00:00Z",
        qualified_at="2026-01-02T00:00:00Z",
        converted_at="2026-01-03T00:00:00Z",
    )
    client.force_login(owner)
    page = client.get("/reports/standard/lead_sources/")
    assert page.status_code == 200
    [row] = page.context["result"].rows
    assert (row["count"], row["converted"], str(row["conversion_rate"])) == (2, 1, "0.5000")
    funnel = client.get("/reports/standard/lead_funnel/")
    assert funnel.context["chart_data"]["series"][0]["data"] == [2.0, 1.0, 1.0, 1.0]
    cards = {c["key"] for c in client.get("/reports/").context["cards"]}
    assert {"applications", "approval_rate"} <= cards


def test_scheduled_email_carries_the_recipients_own_workbook(portfolio, owner, outsider, settings):
    import io as _io
    from pathlib import Path

    from openpyxl import load_workbook

    from credo.notify.models import Message

    owner.email, outsider.email = "owner@example.cn", "out@example.cn"
    owner.save(update_fields=["email"])
    outsider.save(update_fields=["email"])
    report = services.report_save(
        actor=owner, name="余额", spec={"dataset": "loans", "measures": ["count", "outstanding"]}
    )
    now = dt.datetime(2026, 3, 1, 7, 0, tzinfo=dt.UTC)
    schedule = services.schedule_create(
        report=report,
        actor=owner,
        frequency="daily",
        time=dt.time(8, 0),
        recipients=[owner, outsider],
        channels=["email", "inapp"],
        now=now,
    )
    services.run_due_schedules(schedule.next_run_at + dt.timedelta(minutes=1))
    mine = Message.objects.get(user=owner, kind="email")
    [att] = mine.attachments
    assert att["name"].startswith("余额-") and att["name"].endswith(".xlsx")
    root = Path(settings.CREDO_DOCUMENT_ROOT)
    ws = load_workbook(_io.BytesIO((root / att["path"]).read_bytes())).active
    assert [c.value for c in ws[2]] == [4, 1_000_000]  # count, balance in yuan
    theirs = Message.objects.get(user=outsider, kind="email")
    ws2 = load_workbook(_io.BytesIO((root / theirs.attachments[0]["path"]).read_bytes())).active
    assert [c.value for c in ws2[2]] == [0, 0]  # their own scope: none of these loans
    assert Message.objects.filter(user=owner, kind="inapp", attachments=[]).exists()


def test_email_gateway_attaches_the_file(settings, tmp_path):
    from django.core import mail

    from credo.notify.gateways import send_email
    from credo.notify.models import Channel, Message

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.CREDO_DOCUMENT_ROOT = tmp_path
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "a.xlsx").write_bytes(b"PK\x03\x04demo")
    channel = Channel(engine="email", name="邮件", from_email="credo@example.cn")
    message = Message(
        subject="报表",
        body="正文",
        address="to@example.cn",
        attachments=[{"name": "报表.xlsx", "path": "reports/a.xlsx"}],
    )
    send_email(channel, message)
    [sent] = mail.outbox
    assert sent.attachments[0][0] == "报表.xlsx" and sent.attachments[0][1] == b"PK\x03\x04demo"
    message.attachments = [{"name": "x", "path": "../../etc/passwd"}]
    import pytest as _pytest

    from credo.notify.errors import GatewayError

    with _pytest.raises(GatewayError):
        send_email(channel, message)
