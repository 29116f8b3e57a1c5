"""Browser: upload an ID card image on the new-customer form, see the fields prefilled with
their confidence (low ones highlighted), confirm, save — the customer is created only then."""

from __future__ import annotations

import pytest

from credo.customers.models import Customer
from credo.ocr.models import OcrRequest
from credo.ocr.providers.simulated import SimulatedOcr
from tests.factories import UserFactory, png_bytes, role_with_perms

pytestmark = pytest.mark.django_db(transaction=True)


def test_id_card_prefills_customer_form(page, login, org, settings, tmp_path):
    settings.CREDO_OCR_PROVIDER = "simulated"
    settings.CREDO_DOCUMENT_ROOT = str(tmp_path / "documents")
    role = role_with_perms("ocr_e2e", "own", "customers.view_customer", "customers.add_customer")
    user = UserFactory(
        username="ocr_e2e", display_name="张经理", org_unit=org["team_a"], roles=[role]
    )
    image = png_bytes((120, 80), (180, 60, 60))
    expected = SimulatedOcr().recognize("id_card", image, "front").fields

    login(user)
    page.goto(f"{page.base_url}/customers/new/?kind=individual")
    assert page.inner_text("#ocr-simulated") == "模拟"
    page.select_option("#ocr-kind", "id_card:front")
    page.set_input_files(
        "#ocr-image", files=[{"name": "身份证.png", "mimeType": "image/png", "buffer": image}]
    )
    page.click("#ocr-run")
    page.wait_for_selector("#ocr-result:not([hidden])")

    row = page.locator('#ocr-fields tr[data-key="id_number"]')
    assert row.locator(".ocr-value").input_value() == expected["id_number"][0]
    assert row.locator(".ocr-confidence").inner_text().strip() == "97%"
    low = page.locator('#ocr-fields tr[data-key="address"]')
    assert "table-warning" in (low.get_attribute("class") or "")
    assert "低置信度" in low.inner_text()
    assert page.locator('#ocr-fields tr[data-key="sex"] .ocr-accept').count() == 0  # info only
    # nothing is in the form before the person confirms
    assert page.input_value("input[name=id_number]") == ""
    assert OcrRequest.objects.count() == 1

    # the person corrects the low-confidence address before accepting it
    low.locator(".ocr-value").fill("山西省太原市小店区平阳路8号")
    page.click("#ocr-confirm")
    page.wait_for_selector("#ocr-status.alert-success")
    assert page.input_value("input[name=name]") == expected["name"][0]
    assert page.input_value("input[name=id_number]") == expected["id_number"][0]
    assert page.input_value("input[name=address]") == "山西省太原市小店区平阳路8号"
    assert not Customer.objects.exists()  # confirming fills the form, it saves nothing
    assert OcrRequest.objects.get().confirmed_fields == ["address", "id_number", "name"]

    page.fill("input[name=phone]", "13800138000")
    page.click("form.card button[type=submit]")
    page.wait_for_load_state("networkidle")
    customer = Customer.objects.get()
    assert customer.id_number == expected["id_number"][0]
    assert customer.address == "山西省太原市小店区平阳路8号"
    assert page.console_errors == []


def test_id_card_selects_customer_on_application_form(page, login, org, settings, tmp_path):
    from credo.customers.services import customer_create

    settings.CREDO_OCR_PROVIDER = "simulated"
    settings.CREDO_DOCUMENT_ROOT = str(tmp_path / "documents")
    role = role_with_perms(
        "ocr_e2e_lo", "team", "customers.view_customer", "origination.add_application"
    )
    user = UserFactory(
        username="ocr_lo", display_name="贷款员", org_unit=org["team_a"], roles=[role]
    )
    image = png_bytes((90, 60), (30, 160, 60))
    read = SimulatedOcr().recognize("id_card", image, "front").fields
    customer_create(
        actor=user,
        data={
            "kind": "individual",
            "name": "其他客户",
            "id_number": "11010519491231002X",
            "phone": "13900139000",
        },
    )
    customer = customer_create(
        actor=user,
        data={
            "kind": "individual",
            "name": read["name"][0],
            "id_number": read["id_number"][0],
            "phone": "13800138000",
        },
    )

    login(user)
    page.goto(f"{page.base_url}/origination/applications/new/")
    page.set_input_files(
        "#ocr-image", files=[{"name": "id.png", "mimeType": "image/png", "buffer": image}]
    )
    page.click("#ocr-run")
    page.wait_for_selector("#ocr-result:not([hidden])")
    assert page.locator("#ocr-fields .ocr-accept").count() == 0  # nothing typed into this form
    page.click("#ocr-confirm")
    page.wait_for_selector("#ocr-status.alert-success")
    assert customer.name in page.inner_text("#ocr-status")
    assert page.input_value("select[name=customer]") == str(customer.pk)
    assert page.console_errors == []
