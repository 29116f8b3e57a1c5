"""The phone pages and the JSON sync endpoint; the PWA files."""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from credo.fieldwork import services
from credo.fieldwork.models import FieldPhoto, Inspection, Visit
from tests.factories import png_bytes
from tests.fieldwork.conftest import ALL_OK, DAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def planned(customer_factory, loan_factory):
    loan_factory(customer_factory(name="晋阳机械有限公司"))
    services.plan_inspections(DAY)
    return Inspection.objects.get()


def _post(client, url, data, **headers):
    return client.post(url, data, headers={"X-Credo-Sync": "1", **headers})


def _form(key, **extra):
    data = {f"item_{k}": v for k, v in ALL_OK.items()}
    data.update(
        result="pass",
        client_uuid=key,
        latitude="37.87",
        longitude="112.55",
        accuracy="8",
        located_at="2026-06-15T02:00:00Z",
    )
    data["photos"] = [SimpleUploadedFile("photo-1.jpg", png_bytes((20, 20)), "image/jpeg")]
    data.update(extra)
    return data


def test_list_form_and_sync(client, am, planned):
    client.force_login(am)
    page = client.get("/fieldwork/inspections/")
    assert page.status_code == 200
    assert "晋阳机械有限公司" in page.content.decode()
    form = client.get(f"/fieldwork/inspections/{planned.pk}/form/")
    html = form.content.decode()
    assert 'capture="environment"' in html and 'accept="image/*"' in html
    assert "客户登记地址未设置坐标" in html
    key = str(uuid.uuid4())
    url = f"/fieldwork/inspections/{planned.pk}/form/"
    # the photo is named .jpg but is a PNG: refused by the document rules (content ≠ extension)
    bad = _post(client, url, _form(key))
    assert bad.status_code == 400
    assert "不符" in bad.json()["errors"]["photos"]
    data = _form(key, photos=[SimpleUploadedFile("photo-1.png", png_bytes((20, 20)), "image/png")])
    r = _post(client, url, data)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body == {
        "ok": True,
        "id": planned.pk,
        "created": True,
        "url": f"/fieldwork/inspections/{planned.pk}/",
    }
    # the same draft synced again (the phone lost the answer): same result, nothing twice
    data = _form(key, photos=[SimpleUploadedFile("photo-1.png", png_bytes((20, 20)), "image/png")])
    again = _post(client, url, data)
    assert again.json()["created"] is False
    assert FieldPhoto.objects.count() == 1
    detail = client.get(body["url"]).content.decode()
    assert "37.870000, 112.550000" in detail
    p = FieldPhoto.objects.get()
    img = client.get(f"/fieldwork/photos/{p.pk}/")
    assert img.status_code == 200 and img["Content-Type"] == "image/png"


def test_validation_errors_as_json(client, am, planned):
    client.force_login(am)
    data = _form(str(uuid.uuid4()), item_purpose="", result="")
    data.pop("photos")
    r = _post(client, f"/fieldwork/inspections/{planned.pk}/form/", data)
    assert r.status_code == 400
    body = r.json()
    assert body["ok"] is False
    assert set(body["errors"]) == {"purpose", "result", "photos"}
    planned.refresh_from_db()
    assert planned.status == "planned"


def test_outsider_cannot_open_or_see_photos(client, outsider_am, am, planned):
    client.force_login(outsider_am)
    assert client.get(f"/fieldwork/inspections/{planned.pk}/form/").status_code == 403
    r = _post(client, f"/fieldwork/inspections/{planned.pk}/form/", _form(str(uuid.uuid4())))
    assert r.status_code == 403
    services.inspection_submit(
        inspection=planned,
        actor=am,
        answers=ALL_OK,
        result="pass",
        photos=[services.Upload("a.png", png_bytes())],
    )
    assert client.get(f"/fieldwork/photos/{FieldPhoto.objects.get().pk}/").status_code == 403


def test_visit_form_and_list(client, am, customer_factory):
    c = customer_factory(name="清徐醋业")
    client.force_login(am)
    assert "清徐醋业" in client.get("/fieldwork/visits/new/?q=清徐").content.decode()
    key = str(uuid.uuid4())
    r = _post(
        client,
        "/fieldwork/visits/new/",
        {"customer": c.pk, "purpose": "marketing", "client_uuid": key, "notes": "拜访"},
    )
    assert r.status_code == 200 and r.json()["created"] is True
    page = client.get("/fieldwork/visits/").content.decode()
    assert 'id="visit-per-member"' in page and "张经理" in page
    assert Visit.objects.count() == 1


def test_pwa_files(client):
    m = client.get("/fieldwork/manifest.webmanifest")
    assert m.status_code == 200
    assert m["Content-Type"] == "application/manifest+json"
    data = json.loads(m.content)
    assert data["name"] == "信贷管理"
    assert data["display"] == "standalone"
    assert {i["sizes"] for i in data["icons"]} == {"192x192", "512x512"}
    icon = client.get("/fieldwork/icons/192.png")
    assert icon["Content-Type"] == "image/png" and icon.content[:8] == b"\x89PNG\r\n\x1a\n"
    import io

    from PIL import Image

    assert Image.open(io.BytesIO(client.get("/fieldwork/icons/512.png").content)).size == (512, 512)
    sw = client.get("/fieldwork/sw.js")
    assert sw["Service-Worker-Allowed"] == "/"
    assert "/fieldwork/offline/" in sw.content.decode()
    off = client.get("/fieldwork/offline/")
    assert off.status_code == 200 and "网络未连接" in off.content.decode()


def test_base_template_links_manifest_and_phone_css(client, am):
    client.force_login(am)
    html = client.get("/fieldwork/inspections/").content.decode()
    assert '<link rel="manifest" href="/fieldwork/manifest.webmanifest">' in html
    assert "fieldwork/mobile.css" in html and "fieldwork/pwa.js" in html


def test_customer_360_lists_the_inspections(client, am, planned):
    from credo.fieldwork.hooks import customer_inspections

    rows = customer_inspections(planned.customer, am)
    assert [(r["kind"], r["title"], r["status"]) for r in rows] == [
        ("贷后检查", f"首次检查 · {planned.loan.number}", "待检查")
    ]
    client.force_login(am)
    html = client.get(f"/customers/{planned.customer_id}/").content.decode()
    assert f"/fieldwork/inspections/{planned.pk}/" in html
