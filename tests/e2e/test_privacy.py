"""Browser: the privacy officer registers a deletion request (the customer has no loan: it is
anonymized at once) and an access request whose copy downloads as a zip of JSON + PDF."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from credo.accounts.models import Role
from credo.accounts.roles import ensure_default_roles
from credo.customers import services as customer_services
from credo.customers.models import Customer
from credo.notify.models import MarketingConsent
from credo.privacy.models import DataSubjectRequest
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dpo(org):
    ensure_default_roles()
    return UserFactory(
        username="e2e_dpo",
        display_name="隐私官",
        org_unit=org["head"],
        roles=[Role.objects.get(code="privacy_officer")],
    )


def _new_request(page, kind: str, customer_id: int) -> None:
    page.goto(f"{page.base_url}/privacy/requests/")
    page.click("#new-request")
    page.select_option("#id_kind", kind)
    page.fill("#id_customer", str(customer_id))
    page.fill("#id_detail", "客户来电申请")
    page.click("#request-form button[type=submit]")
    page.wait_for_selector("#request-info")


def test_deletion_and_access_export(page, login, dpo, owner, individual_data_factory, tmp_path):
    page.set_default_timeout(30_000)
    erased = customer_services.customer_create(
        actor=owner, data={**individual_data_factory(3), "name": "赵删除"}
    )
    kept = customer_services.customer_create(
        actor=owner, data={**individual_data_factory(4), "name": "钱查阅"}
    )
    login(dpo)

    _new_request(page, "deletion", erased.pk)
    assert "赵删除" not in page.inner_text("#request-info")  # the register shows a masked label
    page.once("dialog", lambda d: d.accept())
    page.click("#execute-btn")
    page.wait_for_selector("#request-outcome")
    assert "已办结" in page.inner_text("#request-status")
    assert Customer.objects.get(pk=erased.pk).name == f"已删除客户#{erased.pk}"

    _new_request(page, "access", kept.pk)
    with page.expect_download() as info:
        page.click("#export-link")
    path = tmp_path / "copy.zip"
    info.value.save_as(path)
    zf = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    assert json.loads(zf.read("personal_data.json"))["customer"]["name"] == "钱查阅"
    assert zf.read("personal_data.pdf").startswith(b"%PDF")
    # marketing consent recorded on the request page, then withdrawn
    assert page.locator("#no-consent").count() == 1
    page.select_option("#consent-form select[name=channel]", "sms")
    page.select_option("#consent-form select[name=source]", "paper")
    page.click("#consent-form button[type=submit]")
    page.wait_for_selector("#consents [data-consent]")
    assert "有效" in page.inner_text("#consents")
    page.click("#consents [data-consent] button[type=submit]")
    page.wait_for_selector("#consents .badge:has-text('已撤回')")
    consent = MarketingConsent.objects.get(customer=kept)
    assert consent.channel == "sms" and consent.withdrawn_at is not None

    page.fill("#id_outcome", "副本已交付客户")
    page.click("#complete-form button[type=submit]")
    page.wait_for_selector("#request-outcome")

    page.goto(f"{page.base_url}/privacy/requests/")
    assert page.locator("#request-table tbody tr").count() == 2
    assert set(DataSubjectRequest.objects.values_list("status", flat=True)) == {"completed"}
    assert page.console_errors == []
