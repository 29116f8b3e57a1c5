"""Recognise → log → audit → confirm; permissions, rate limit, image rules, nothing saved."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from credo.api.services import token_create
from credo.core.audit.models import AuditEntry
from credo.core.checks import ERROR, OK, WARNING
from credo.customers.models import Customer
from credo.customers.services import customer_create
from credo.ocr.checks import check_ocr_provider
from credo.ocr.models import OcrRequest
from credo.ocr.providers.simulated import SimulatedOcr
from tests.factories import png_bytes
from tests.ocr.fakes import TENCENT_ID, TENCENT_KEY, FakeTencent

pytestmark = pytest.mark.django_db

IMAGE = png_bytes((60, 40), (200, 30, 30))
URL = "/ocr/recognize/"


def _post(client, image=IMAGE, name="id.png", **data):
    payload = {"kind": "id_card", "side": "front", "purpose": "customer", **data}
    payload["image"] = SimpleUploadedFile(name, image, content_type="image/png")
    return client.post(URL, payload)


def test_recognize_returns_fields_with_confidence_and_saves_nothing(client, am):
    client.force_login(am)
    customers_before = Customer.objects.count()
    response = _post(client)
    assert response.status_code == 200, response.content
    data = response.json()
    expected = SimulatedOcr().recognize("id_card", IMAGE, "front").fields
    fields = {f["key"]: f for f in data["fields"]}
    assert fields["id_number"]["value"] == expected["id_number"][0]
    assert fields["id_number"]["confidence"] == 0.97 and not fields["id_number"]["low"]
    assert fields["address"]["low"] is True
    assert fields["name"]["target"] == "name"
    assert data["simulated"] is True
    assert Customer.objects.count() == customers_before
    log = OcrRequest.objects.get(pk=data["request_id"])
    assert (log.actor, log.kind, log.status, log.provider) == (am, "id_card", "ok", "simulated")
    logged = {f["key"]: f for f in log.fields}
    clear = expected["id_number"][0]
    assert logged["id_number"]["value"] == clear[:6] + "********" + clear[-4:]
    assert clear not in str(log.fields)
    assert logged["address"]["confidence"] == 0.74
    actions = list(
        AuditEntry.objects.filter(object_type="ocr.ocrrequest", object_id=str(log.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["ocr.recognize", "sensitive.read"]
    read = AuditEntry.objects.get(action="sensitive.read", object_id=str(log.pk))
    assert read.metadata == {"fields": ["id_number"], "purpose": "ocr"}


def test_confirm_records_accepted_fields(client, am, ocr_admin):
    client.force_login(am)
    request_id = _post(client).json()["request_id"]
    response = client.post(f"/ocr/requests/{request_id}/confirm/", {"keys": ["name", "bogus"]})
    assert response.status_code == 200
    assert response.json()["confirmed_fields"] == ["name"]
    log = OcrRequest.objects.get(pk=request_id)
    assert log.confirmed_at is not None and log.confirmed_fields == ["name"]
    assert AuditEntry.objects.filter(action="ocr.confirm", object_id=str(request_id)).count() == 1
    # someone else's request cannot be confirmed
    client.force_login(ocr_admin)
    response = client.post(f"/ocr/requests/{request_id}/confirm/", {"keys": ["address"]})
    assert response.status_code == 422
    assert OcrRequest.objects.get(pk=request_id).confirmed_fields == ["name"]


def test_forbidden_without_create_permission(client, viewer):
    client.force_login(viewer)
    response = _post(client)
    assert response.status_code == 403
    assert response.json()["error"] == "没有使用证照识别的权限。"
    assert not OcrRequest.objects.exists()
    # the application purpose needs origination.add_application
    response = _post(client, purpose="application")
    assert response.status_code == 403


def test_panel_shown_only_to_those_allowed(client, am, viewer):
    client.force_login(am)
    page = client.get("/customers/new/?kind=individual").content.decode()
    assert 'id="ocr-panel"' in page and "ocr/ocr.js" in page
    assert 'value="id_card:back"' in page and 'value="business_license:front"' not in page
    assert 'id="ocr-simulated"' in page
    client.force_login(viewer)
    assert client.get("/customers/new/?kind=individual").status_code == 403


def test_rate_limited_per_user(client, am, settings):
    settings.CREDO_OCR_RATE_PER_MINUTE = 2
    client.force_login(am)
    assert _post(client).status_code == 200
    assert _post(client).status_code == 200
    response = _post(client)
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert OcrRequest.objects.count() == 2


@pytest.mark.parametrize(
    ("image", "name", "message"),
    [
        (
            b"%PDF-1.4 not an image",
            "id.png",
            "文件内容与扩展名 .png 不符（可能是改名的其他类型文件），已拒绝。",
        ),
        (IMAGE, "id.gif", "“身份证”只接受以下格式：.jpg、.jpeg、.png、.pdf。"),
        (b"%PDF-1.4\n%%EOF", "id.pdf", "证照识别只接受 JPG 或 PNG 图片。"),
    ],
)
def test_image_rules_refuse_and_log(client, am, image, name, message):
    client.force_login(am)
    response = _post(client, image=image, name=name)
    assert response.status_code == 422
    assert response.json()["error"] == message
    log = OcrRequest.objects.get()
    assert (log.status, log.error_code, log.fields) == ("rejected", "invalid_image", [])
    assert AuditEntry.objects.filter(action="ocr.recognize", object_id=str(log.pk)).exists()


def test_oversize_image_refused(client, am, settings):
    settings.CREDO_OCR_MAX_MB = 1
    client.force_login(am)
    big = IMAGE + b"\0" * (1024 * 1024)
    response = _post(client, image=big)
    assert response.status_code == 422
    assert response.json()["error"] == "图片过大：最大允许 1 MB。"


def test_simulated_refused_in_production(client, am, settings):
    settings.ENVIRONMENT = "production"
    client.force_login(am)
    response = _post(client)
    assert response.status_code == 503
    assert response.json()["error"] == "证照识别未启用，请联系管理员。"
    assert not OcrRequest.objects.exists()


def test_provider_off(client, am, settings):
    settings.CREDO_OCR_PROVIDER = "off"
    client.force_login(am)
    assert _post(client).status_code == 503
    assert 'id="ocr-panel"' not in client.get("/customers/new/?kind=individual").content.decode()


def test_vendor_failure_logged(client, am, settings):
    with FakeTencent() as fake:
        settings.CREDO_OCR_PROVIDER = "tencent"
        settings.CREDO_OCR_ENDPOINT = fake.url
        settings.CREDO_OCR_SECRET_ID = TENCENT_ID
        settings.CREDO_OCR_SECRET_KEY = "not-the-key"
        client.force_login(am)
        response = _post(client)
    assert response.status_code == 422
    assert response.json()["error"] == "识别服务拒绝了凭证或签名，请联系管理员检查配置。"
    log = OcrRequest.objects.get()
    assert (log.status, log.provider) == ("failed", "tencent")
    assert log.error_code == "auth:AuthFailure.SignatureFailure"


def test_vendor_success_through_the_view(client, am, settings):
    with FakeTencent() as fake:
        fake.answer = {"BankCardOCR": {"CardNo": "6217000000000000004", "QualityValue": 70}}
        settings.CREDO_OCR_PROVIDER = "tencent"
        settings.CREDO_OCR_ENDPOINT = fake.url
        settings.CREDO_OCR_SECRET_ID = TENCENT_ID
        settings.CREDO_OCR_SECRET_KEY = TENCENT_KEY
        client.force_login(am)
        response = _post(client, kind="bank_card")
    assert response.status_code == 200
    (field,) = response.json()["fields"]
    assert (field["key"], field["target"], field["confidence"], field["low"]) == (
        "card_number",
        "bank_account",
        0.7,
        True,
    )
    assert OcrRequest.objects.get().fields[0]["value"] == "***************0004"


def test_application_purpose_matches_customer_in_scope(client, am, loan_officer):
    ocr = SimulatedOcr().recognize("id_card", IMAGE, "front")
    customer = customer_create(
        actor=am,
        data={
            "kind": "individual",
            "name": ocr.fields["name"][0],
            "id_number": ocr.fields["id_number"][0],
            "phone": "13800138000",
        },
    )
    client.force_login(loan_officer)
    data = _post(client, purpose="application").json()
    assert data["match"] == {"id": customer.pk, "name": customer.name}
    clear = ocr.fields["id_number"][0]
    shown = {f["key"]: f["value"] for f in data["fields"]}
    assert shown["id_number"] == clear[:6] + "********" + clear[-4:]
    assert not AuditEntry.objects.filter(
        action="sensitive.read", object_id=str(data["request_id"])
    ).exists()
    page = client.get("/origination/applications/new/").content.decode()
    assert 'data-purpose="application"' in page


def test_application_match_without_clear_view_needs_a_unique_name(client, am, loan_officer):
    from credo.accounts.models import FieldPermission

    ocr = SimulatedOcr().recognize("id_card", IMAGE, "front")
    name, clear = ocr.fields["name"][0], ocr.fields["id_number"][0]
    mine = customer_create(
        actor=am,
        data={"kind": "individual", "name": name, "id_number": clear, "phone": "13800138000"},
    )
    customer_create(
        actor=am,
        data={
            "kind": "individual",
            "name": name,
            "id_number": "11010519491231002X",
            "phone": "13900139000",
        },
    )
    client.force_login(loan_officer)
    assert _post(client, purpose="application").json()["match"] is None  # two of that name
    FieldPermission.objects.create(
        role=loan_officer.roles.get(), field_key="customers.customer.id_number", can_view=True
    )
    client.force_login(loan_officer)
    assert _post(client, purpose="application").json()["match"] == {"id": mine.pk, "name": name}


def test_request_log_page(client, am, ocr_admin):
    client.force_login(ocr_admin)
    page = client.get("/ocr/")
    assert page.status_code == 200
    assert "还没有识别记录。" in page.content.decode()
    client.force_login(am)
    assert client.get("/ocr/").status_code == 403
    _post(client)
    client.force_login(ocr_admin)
    body = client.get("/ocr/?kind=id_card").content.decode()
    assert 'id="ocr-requests"' in body and "模拟" in body
    assert "还没有识别记录。" not in client.get("/ocr/?status=ok").content.decode()
    assert "还没有识别记录。" in client.get("/ocr/?status=failed").content.decode()


def test_api_recognize_and_confirm(client, am):
    token = token_create(user=am, name="t", scopes=["read", "write"], expires_in_days=1, actor=am)
    plain = token[1] if isinstance(token, tuple) else token
    headers = {"HTTP_AUTHORIZATION": f"Bearer {plain}"}
    response = client.post(
        "/api/v1/ocr/recognize",
        {
            "kind": "business_license",
            "image": SimpleUploadedFile("lic.png", IMAGE, content_type="image/png"),
        },
        **headers,
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert {f["key"] for f in data["fields"]} >= {"name", "uscc"}
    response = client.post(
        f"/api/v1/ocr/requests/{data['request_id']}/confirm",
        {"keys": ["uscc"]},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 200
    assert response.json()["confirmed_fields"] == ["uscc"]
    bad = client.post(
        "/api/v1/ocr/recognize",
        {
            "kind": "id_card",
            "image": SimpleUploadedFile("x.png", b"nope", content_type="image/png"),
        },
        **headers,
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_image"


def test_deploy_check(settings):
    settings.CREDO_OCR_PROVIDER = "simulated"
    (finding,) = check_ocr_provider()
    assert (finding.level, finding.code) == (WARNING, "credo.W131")
    settings.ENVIRONMENT = "production"
    (finding,) = check_ocr_provider()
    assert (finding.level, finding.code) == (ERROR, "credo.E131")
    settings.CREDO_OCR_PROVIDER = "tencent"
    settings.CREDO_OCR_SECRET_ID = ""
    assert check_ocr_provider()[0].code == "credo.E132"
    settings.CREDO_OCR_SECRET_ID, settings.CREDO_OCR_SECRET_KEY = "id", "key"
    assert check_ocr_provider()[0].level == OK


def test_deploy_check_registered():
    from credo.core.checks import config_report

    codes = {f.code for f in config_report(deploy=True)}
    assert codes & {"credo.W131", "credo.E131", "credo.E132", "credo.I131"}
