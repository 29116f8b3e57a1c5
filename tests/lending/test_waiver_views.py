# ruff: noqa: F811  (pytest fixtures imported by name)
"""Pages of the servicing approvals: request form, approver list, detail decisions, loan panel."""

from __future__ import annotations

import pytest

from credo.core import clock
from credo.lending.models import ClassificationRequest, Loan, WaiverRequest
from credo.lending.servicing import services
from tests.lending.conftest import (  # noqa: F401  (fixtures)
    borrower,
    finance,
    make_loan,
    product_version,
)
from tests.lending.test_waiver_fixtures import (  # noqa: F401  (fixtures)
    collector,
    overdue_loan,
    penalty_owed,
    risk,
    risk2,
    risk_role,
)

pytestmark = pytest.mark.django_db


def test_request_page_shows_owed_and_creates_request(client, overdue_loan, collector):
    client.force_login(collector)
    url = f"/lending/servicing/loans/{overdue_loan.pk}/waiver/new/"
    page = client.get(url).content.decode()
    owed = penalty_owed(overdue_loan)
    assert 'data-owed="penalty"' in page and f"{owed / 100:,.2f}" in page
    assert 'name="interest"' not in page  # product policy: penalty/fee only
    resp = client.post(
        url,
        {
            "value_date": clock.today().isoformat(),
            "penalty": f"{owed / 100 + 1:.2f}",
            "reason": "测试",
        },
    )
    assert resp.status_code == 200 and "超过减免生效日" in resp.content.decode()
    assert not WaiverRequest.objects.exists()
    resp = client.post(
        url,
        {"value_date": clock.today().isoformat(), "penalty": f"{owed / 100:.2f}", "reason": "住院"},
    )
    req = WaiverRequest.objects.get()
    assert resp.status_code == 302 and resp.url.endswith(f"/waivers/{req.pk}/")
    htmx = client.get(
        f"/lending/servicing/loans/{overdue_loan.pk}/waiver/owed/",
        {"value_date": clock.today().isoformat()},
    )
    assert "waiver-owed-table" in htmx.content.decode()


def test_list_detail_and_approve(client, overdue_loan, collector, risk):
    req = services.waiver_request_create(
        loan=overdue_loan,
        actor=collector,
        amounts={"penalty": 100},
        value_date=clock.today(),
        reason="住院",
    )
    client.force_login(risk)
    page = client.get("/lending/servicing/waivers/").content.decode()
    assert overdue_loan.number in page and "waiver-table" in page
    empty = client.get("/lending/servicing/waivers/", {"status": "approved"}).content.decode()
    assert "waiver-empty" in empty
    detail = client.get(f"/lending/servicing/waivers/{req.pk}/").content.decode()
    assert "waiver-approve" in detail
    client.post(f"/lending/servicing/waivers/{req.pk}/approve/", {"note": "同意"})
    assert WaiverRequest.objects.get(pk=req.pk).status == "approved"
    # the requester sees the request but no decision buttons
    client.force_login(collector)
    detail = client.get(f"/lending/servicing/waivers/{req.pk}/").content.decode()
    assert "waiver-approve" not in detail


def test_requester_cannot_post_an_approval(client, overdue_loan, collector):
    req = services.waiver_request_create(
        loan=overdue_loan,
        actor=collector,
        amounts={"penalty": 100},
        value_date=clock.today(),
        reason="住院",
    )
    client.force_login(collector)
    assert client.post(f"/lending/servicing/waivers/{req.pk}/approve/").status_code == 403
    assert client.get("/lending/servicing/classifications/").status_code == 200


def test_outsider_sees_nothing(client, overdue_loan, collector, outsider):
    req = services.waiver_request_create(
        loan=overdue_loan,
        actor=collector,
        amounts={"penalty": 100},
        value_date=clock.today(),
        reason="住院",
    )
    client.force_login(outsider)
    assert client.get(f"/lending/servicing/waivers/{req.pk}/").status_code in (403, 404)


def test_loan_panel_shows_class_history_with_pages(client, overdue_loan, collector, risk):
    from credo.lending.models import LoanClassHistory

    req = services.classification_request_create(
        loan=overdue_loan, actor=collector, to_class="substandard", reason="停产"
    )
    services.classification_request_approve(request=req, actor=risk)
    loan = Loan.objects.get(pk=overdue_loan.pk)
    for k in range(12):
        LoanClassHistory.objects.create(
            loan=loan,
            date=clock.today(),
            from_class="normal",
            to_class="special_mention",
            dpd=k,
            reason="auto",
        )
    client.force_login(risk)
    detail = client.get(f"/lending/loans/{loan.pk}/").content.decode()
    assert "servicing-panel" in detail
    panel = client.get(f"/lending/servicing/loans/{loan.pk}/panel/").content.decode()
    assert "class-history-table" in panel and "class-history-next" in panel
    assert "自动" in panel and "classification-floor" in panel
    last = client.get(f"/lending/servicing/loans/{loan.pk}/panel/", {"page": 2}).content.decode()
    assert "人工" in last and "次级" in last
    assert ClassificationRequest.objects.get().status == "approved"


def test_attachment_upload_and_audited_download(
    client, overdue_loan, collector, risk, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from credo.core.audit.models import AuditEntry

    settings.MEDIA_ROOT = str(tmp_path)
    client.force_login(collector)
    url = f"/lending/servicing/loans/{overdue_loan.pk}/waiver/new/"
    bad = SimpleUploadedFile("x.pdf", b"MZ not a pdf", content_type="application/pdf")
    resp = client.post(
        url,
        {
            "value_date": clock.today().isoformat(),
            "penalty": "1.00",
            "reason": "住院",
            "attachment": bad,
        },
    )
    assert "文件内容与类型不符" in resp.content.decode()
    good = SimpleUploadedFile("诊断证明.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    resp = client.post(
        url,
        {
            "value_date": clock.today().isoformat(),
            "penalty": "1.00",
            "reason": "住院",
            "attachment": good,
        },
    )
    req = WaiverRequest.objects.get()
    assert resp.status_code == 302 and req.attachment
    client.force_login(risk)
    got = client.get(f"/lending/servicing/waivers/{req.pk}/attachment/")
    assert got.status_code == 200 and b"".join(got.streaming_content).startswith(b"%PDF")
    assert AuditEntry.objects.filter(action="waiver.attachment_read", actor_id=risk.pk).exists()


def test_approver_todos_follow_data_scope(overdue_loan, collector, risk, org):
    from django.contrib.auth.models import Permission

    from credo.core.todo.models import Todo
    from tests.factories import RoleFactory, UserFactory

    narrow = RoleFactory(code="risk_own_t", name="risk own", data_scope="own")
    narrow.permissions.add(Permission.objects.get(codename="approve_waiver"))
    blind = UserFactory(username="blind", org_unit=org["team_c"], roles=[narrow])
    req = services.waiver_request_create(
        loan=overdue_loan,
        actor=collector,
        amounts={"penalty": 100},
        value_date=clock.today(),
        reason="住院",
    )
    assert Todo.objects.filter(dedupe_key=f"lending:waiver:{req.pk}", user=risk).exists()
    assert not Todo.objects.filter(user=blind).exists()
