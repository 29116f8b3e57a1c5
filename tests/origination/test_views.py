import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from credo.core.audit.models import AuditEntry
from credo.origination import services
from credo.origination.models import Application, Document, PortalLink
from tests.origination.conftest import PDF, png_bytes

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def test_list_scoped(client, make_app, owner, colleague, outsider):
    app = make_app()
    resp = login(client, owner).get(reverse("origination:list"))
    assert resp.status_code == 200 and app.number in resp.content.decode()
    for user in (colleague, outsider):
        client.logout()
        resp = login(client, user).get(reverse("origination:list"))
        assert resp.status_code == 200 and app.number not in resp.content.decode()
        assert (
            login(client, user).get(reverse("origination:detail", args=[app.pk])).status_code == 404
        )


def test_create_with_prefill_and_post(client, owner, customer, product_version):
    from credo.collateral.models import Guarantee
    from tests.origination.conftest import make_customer

    guarantor = make_customer(owner, n=5, name="王五有限公司")
    login(client, owner)
    resp = client.get(reverse("origination:create") + f"?customer={customer.pk}&lead=7")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert f'value="{customer.pk}" selected' in html and 'name="lead" value="7"' in html
    resp = client.post(
        reverse("origination:create"),
        {
            "customer": customer.pk,
            "product_version": product_version.pk,
            "amount": "300000",
            "months": "12",
            "annual_rate": "12",
            "purpose": "采购",
            "guarantor": guarantor.pk,
            "guarantee_kind": "joint",
            "lead": "7",
        },
    )
    app = Application.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse(
        "origination:detail", args=[app.pk]
    )
    assert app.lead_id == 7 and app.guarantees == []
    g = Guarantee.objects.get(application_id=app.pk)
    assert g.guarantor == guarantor and g.kind == "joint" and g.amount == app.amount
    resp = client.get(reverse("origination:detail", args=[app.pk]))
    html = resp.content.decode()
    assert resp.status_code == 200 and "营业执照" in html and "0%" in html


def test_upload_view_refuses_executable(client, make_app, owner):
    app = make_app()
    login(client, owner)
    exe = SimpleUploadedFile("licence.pdf", b"MZ" + b"\x00" * 100)
    resp = client.post(
        reverse("origination:upload", args=[app.pk]), {"item": "营业执照", "file": exe}, follow=True
    )
    assert "可执行" in resp.content.decode()
    assert Document.objects.count() == 0


def test_download_permission_checked_and_audited(client, make_app, owner, outsider):
    app = make_app()
    doc = services.document_upload(
        application=app, item="营业执照", name="执照.png", data=png_bytes(), actor=owner
    )
    login(client, outsider)
    assert client.get(reverse("origination:download", args=[doc.pk])).status_code == 404
    client.logout()
    login(client, owner)
    resp = client.get(reverse("origination:download", args=[doc.pk]))
    assert resp.status_code == 200 and b"".join(resp.streaming_content) == png_bytes()
    assert resp["Content-Type"] == "image/png"
    assert AuditEntry.objects.filter(action="document.download", object_id=str(doc.pk)).exists()


def test_portal_link_shown_once_and_page_flow(client, make_app, owner, reviewer):
    app = make_app()
    login(client, owner)
    resp = client.post(reverse("origination:link_create", args=[app.pk]), {"days": "7"})
    html = resp.content.decode()
    assert resp.status_code == 200 and "/portal/" in html
    token = html.split("/portal/")[1].split("/")[0]
    client.logout()
    page = client.get(f"/portal/{token}/")
    assert page.status_code == 200 and app.number in page.content.decode()
    resp = client.post(
        f"/portal/{token}/upload/",
        {"item": "营业执照", "file": SimpleUploadedFile("a.pdf", PDF)},
        follow=True,
    )
    assert "已上传" in resp.content.decode()
    doc = Document.objects.get()
    services.document_review(document=doc, accept=False, reason="需要盖章版", actor=reviewer)
    page = client.get(f"/portal/{token}/").content.decode()
    assert "补正通知" in page and "需要盖章版" in page and "财务报表" in page


def test_portal_gone_pages_change_nothing(client, make_app, owner):
    app = make_app()
    link, token = services.portal_link_create(application=app, actor=owner)
    assert client.get("/portal/unknown-token/").status_code == 404
    PortalLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    resp = client.get(f"/portal/{token}/")
    assert resp.status_code == 410 and "过期" in resp.content.decode()
    resp = client.post(
        f"/portal/{token}/upload/", {"item": "营业执照", "file": SimpleUploadedFile("a.pdf", PDF)}
    )
    assert resp.status_code == 410
    assert client.post(f"/portal/{token}/submit/").status_code == 410
    assert Document.objects.count() == 0
    app.refresh_from_db()
    assert app.status == "draft"


def test_submit_view_admission_reject(client, make_app, owner, complete, customer):
    customer.industry = "J"
    customer.save()
    app = complete(make_app())
    login(client, owner)
    resp = client.post(
        reverse("origination:submit", args=[app.pk]), {"version": app.version}, follow=True
    )
    html = resp.content.decode()
    assert "准入未通过" in html and "限制准入行业" in html
