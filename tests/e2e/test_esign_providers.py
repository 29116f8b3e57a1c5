# ruff: noqa: F811 — pytest fixtures imported from tests.lending.conftest
"""Browser: with e签宝 configured (a local fake vendor), a manager sends a contract, sees the
signer's link, the vendor calls back "signed" over HTTP, and the manager downloads the signed PDF."""

from __future__ import annotations

import urllib.request

import pytest
from django.contrib.auth.models import Permission

from credo.contracts import services
from credo.contracts.models import Contract
from tests.contracts.conftest import sample_terms
from tests.contracts.esign_fakes import SIGNED_MARK, FakeEsign
from tests.lending.conftest import borrower  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def vendor(settings, tmp_path):
    settings.CREDO_DOCUMENT_ROOT = str(tmp_path / "documents")
    with FakeEsign() as fake:
        settings.CREDO_ESIGN_PROVIDER = "esign"
        settings.CREDO_EQB_APP_ID = fake.app_id
        settings.CREDO_EQB_APP_SECRET = fake.secret
        settings.CREDO_EQB_BASE_URL = fake.url
        yield fake


@pytest.fixture
def perms(manager_role):
    manager_role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="contracts", codename__in=["view_contract", "send_contract"]
        ),
        *Permission.objects.filter(content_type__app_label="customers", codename="view_customer"),
    )


def test_send_to_esign_then_download_the_signed_pdf(page, login, owner, borrower, perms, vendor):
    borrower.phone = "13800138000"
    borrower.save()
    contract = services.contract_generate(
        subject=borrower, customer=borrower, terms=sample_terms(), actor=owner
    )
    login(owner)
    page.goto(f"{page.base_url}/contracts/{contract.pk}/")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#contract-send")
    page.wait_for_selector("#contract-status:has-text('待签署')")
    ref = Contract.objects.get(pk=contract.pk).provider_ref
    assert page.inner_text("#contract-signer-url") == f"{vendor.url}/s/{ref}"
    assert page.query_selector("#contract-simulate-sign") is None
    assert page.query_selector("#contract-signed-pdf") is None

    body, headers = vendor.callback(ref, "2")  # e签宝 posts SIGN_FLOW_COMPLETE to Credo
    request = urllib.request.Request(
        f"{page.base_url}/api/v1/contracts/esign/callback", data=body, headers=headers
    )
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
        assert resp.status == 200

    page.reload()
    page.wait_for_selector("#contract-status:has-text('已签署')")
    with page.expect_download() as info:
        page.click("#contract-signed-pdf")
    with open(info.value.path(), "rb") as fh:
        data = fh.read()
    assert data.startswith(b"%PDF-") and data.endswith(SIGNED_MARK)
    assert page.console_errors == []
