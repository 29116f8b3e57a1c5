"""Pages, permissions and the CLI."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse

from credo.core.audit.models import AuditEntry
from credo.creditreport.models import Submission
from credo.creditreport.writers import read_text

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def test_outsider_is_refused(client, outsider):
    login(client, outsider)
    assert client.get(reverse("creditreport:index")).status_code == 403
    assert client.post(reverse("creditreport:generate"), {"month": "2026-02"}).status_code == 403


def test_generate_errors_export_download(client, book, reporter, checker):
    from credo.customers.models import Customer

    Customer.objects.filter(pk=book.customer_id).update(uscc="91140100MA00000010")
    c = login(client, reporter)
    page = c.get(reverse("creditreport:index"))
    assert page.status_code == 200 and 'data-generate="2026-02"' in page.content.decode()
    resp = c.post(reverse("creditreport:generate"), {"month": "2026-02"})
    sub = Submission.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse(
        "creditreport:detail", args=[sub.pk]
    )
    assert sub.error_count == 1
    html = c.get(reverse("creditreport:errors", args=[sub.pk])).content.decode()
    assert "统一社会信用代码" in html and book.number in html
    detail = c.get(reverse("creditreport:detail", args=[sub.pk])).content.decode()
    assert "91140100MA00000010" not in detail  # identity numbers are masked on screen
    c.post(
        reverse("creditreport:export", args=[sub.pk]),
        {"writer": "reference-text", "encoding": "gb18030"},
    )
    f = sub.files.get()
    resp = c.get(reverse("creditreport:download", args=[f.pk]))
    assert resp.status_code == 200 and "attachment" in resp["Content-Disposition"]
    [row] = read_text(resp.content, "gb18030")
    assert row["id_number"] == "91140100MA00000010"
    assert AuditEntry.objects.filter(action="creditreport.download").count() == 1
    # approval is refused while errors remain, with the reason shown
    c2 = login(client, checker)
    c2.post(reverse("creditreport:approve", args=[sub.pk]))
    sub.refresh_from_db()
    assert sub.status == "draft"


def test_cli_generate_with_writer(book, tmp_path, capsys):
    out = tmp_path / "feb.txt"
    call_command(
        "creditreport",
        "generate",
        "--month",
        "2026-02",
        "--writer",
        "reference-text",
        "--encoding",
        "gb18030",
        "--output",
        str(out),
    )
    printed = capsys.readouterr().out
    assert '"records": 1' in printed and "sha256=" in printed
    [row] = read_text(out.read_bytes(), "gb18030")
    assert row["account_number"] == book.number and row["data_month"] == "2026-02"
    sub = Submission.objects.get(month=dt.date(2026, 2, 1))
    assert sub.generated_by is None and sub.files.count() == 1
    call_command("creditreport", "corrections")
    assert '"checked": 1' in capsys.readouterr().out


def test_cancel_and_corrections_pages(client, book, reporter):
    from credo.creditreport import services

    sub = services.submission_generate(month=dt.date(2026, 2, 1), actor=reporter)
    c = login(client, reporter)
    c.post(reverse("creditreport:cancel", args=[sub.pk]), {"reason": ""})
    sub.refresh_from_db()
    assert sub.status == "draft"  # a reason is required
    c.post(reverse("creditreport:cancel", args=[sub.pk]), {"reason": "客户证件更正后重新生成"})
    sub.refresh_from_db()
    assert sub.status == "cancelled" and not sub.records.exists()
    resp = c.post(reverse("creditreport:corrections"), {"loan": "NOPE"}, follow=True)
    assert "找不到贷款 NOPE" in resp.content.decode()
    resp = c.post(reverse("creditreport:corrections"), {"loan": book.number}, follow=True)
    assert "已核对 0 条已报送记录" in resp.content.decode()
