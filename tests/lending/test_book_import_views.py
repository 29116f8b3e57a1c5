"""Book migration pages and API: upload → preview → confirm (sha256 re-checked) → reconciliation."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from credo.api.services import token_create
from credo.lending.models import BookImport, Loan
from tests.lending.test_book_import import AS_OF, importer, workbook  # noqa: F401

pytestmark = pytest.mark.django_db
API = "/api/v1/lending"


def _upload(data: bytes, name: str = "book.xlsx"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_upload_preview_confirm_and_reconciliation(client: Client, importer):  # noqa: F811
    client.force_login(importer)
    page = client.get("/lending/book/")
    assert page.status_code == 200
    resp = client.post("/lending/book/", {"file": _upload(workbook()), "as_of": AS_OF.isoformat()})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'data-status="preview"' in html and "book-confirm" in html
    assert not Loan.objects.exists()
    sha = resp.context["out"].sha256
    resp = client.post(
        "/lending/book/confirm/",
        {"sha256": sha, "file_name": "book.xlsx", "as_of": AS_OF.isoformat()},
    )
    record = BookImport.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/lending/book/{record.pk}/"
    assert Loan.objects.count() == 3
    detail = client.get(resp["Location"]).content.decode()
    assert "recon-loan-MIG-1" in detail and record.reconciliation["outstanding_principal"] in detail
    xlsx = client.get(f"/lending/book/{record.pk}/reconciliation.xlsx")
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames == ["汇总", "逐笔"] and wb["逐笔"].max_row == 4


def test_confirm_with_unknown_file_changes_nothing(client: Client, importer):  # noqa: F811
    client.force_login(importer)
    resp = client.post("/lending/book/confirm/", {"sha256": "a" * 64, "as_of": AS_OF.isoformat()})
    assert resp.status_code == 302
    assert not Loan.objects.exists()


def test_preview_lists_row_errors(client: Client, importer):  # noqa: F811
    from tests.lending.test_book_import import loans_rows, repayment_rows

    rows = loans_rows()
    rows[0][7] = "abc"
    client.force_login(importer)
    resp = client.post(
        "/lending/book/", {"file": _upload(workbook(rows, repayment_rows())), "as_of": AS_OF}
    )
    html = resp.content.decode()
    assert 'data-status="invalid"' in html and "book-errors" in html and "年利率(%)" in html
    assert "book-confirm-form" not in html


def test_template_download(client: Client, importer):  # noqa: F811
    client.force_login(importer)
    resp = client.get("/lending/book/template.xlsx")
    wb = load_workbook(io.BytesIO(resp.content))
    assert wb.sheetnames[:2] == ["loans", "repayments"]
    assert wb["loans"]["A1"].value == "贷款编号" and wb["repayments"]["B1"].value == "到账日期"


def test_pages_refuse_without_permission(client: Client, owner):
    client.force_login(owner)
    assert client.get("/lending/book/").status_code == 403


def _auth(user):
    _token, plain = token_create(
        user=user, name="t", scopes=["read", "write"], expires_in_days=30, actor=user
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def test_api_dry_run_then_import(client: Client, importer):  # noqa: F811
    headers = _auth(importer)
    data = workbook()
    resp = client.post(
        f"{API}/book/imports",
        {"file": _upload(data), "dry_run": "true", "as_of": AS_OF.isoformat()},
        **headers,
    )
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["status"] == "preview" and body["reconciliation"]["loans"] == 3
    assert not Loan.objects.exists()
    resp = client.post(
        f"{API}/book/imports",
        {"file": _upload(data), "as_of": AS_OF.isoformat(), "expected_sha256": body["sha256"]},
        **headers,
    )
    assert resp.status_code == 201, resp.content
    created = resp.json()
    recon = client.get(f"{API}/book/imports/{created['book_import_id']}/reconciliation", **headers)
    assert (
        recon.json()["reconciliation"]["outstanding_principal"]
        == (created["reconciliation"]["outstanding_principal"])
    )
    again = client.post(
        f"{API}/book/imports", {"file": _upload(data), "as_of": AS_OF.isoformat()}, **headers
    )
    assert again.status_code == 200 and again.json()["status"] == "unchanged"


def test_api_rejects_a_bad_file(client: Client, importer):  # noqa: F811
    from tests.lending.test_book_import import loans_rows, repayment_rows

    rows = loans_rows()
    rows[1][1] = "123"
    resp = client.post(
        f"{API}/book/imports",
        {"file": _upload(workbook(rows, repayment_rows())), "as_of": AS_OF.isoformat()},
        **_auth(importer),
    )
    assert resp.status_code == 422
    assert resp.json()["details"]["errors"][0]["column"] == "证件号码"
    assert not Loan.objects.exists()
