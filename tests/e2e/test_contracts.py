# ruff: noqa: F811 — pytest fixtures imported from tests.lending.conftest
"""Browser: a manager opens a contract, downloads the PDF, sends it and signs it through the
simulated provider; and reads the credit report of a customer with a loan."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from credo.contracts import services
from credo.contracts.models import Contract
from credo.lending import services as lending_services
from tests.contracts.conftest import sample_terms
from tests.lending.conftest import (  # noqa: F401
    VALUE_DATE,
    borrower,
    finance,
    make_loan,
    product_version,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _documents(settings, tmp_path):
    settings.CREDO_DOCUMENT_ROOT = str(tmp_path / "documents")


@pytest.fixture
def perms(manager_role):
    manager_role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="contracts", codename__in=["view_contract", "send_contract"]
        ),
        *Permission.objects.filter(content_type__app_label="customers", codename="view_customer"),
        *Permission.objects.filter(content_type__app_label="lending", codename="view_loan"),
    )


def test_manager_downloads_sends_and_signs(page, login, owner, borrower, perms):  # noqa: F811
    contract = services.contract_generate(
        subject=borrower, customer=borrower, terms=sample_terms(), actor=owner
    )
    login(owner)
    page.goto(f"{page.base_url}/contracts/{contract.pk}/")
    assert page.inner_text("#contract-number") == contract.number
    assert page.inner_text("#contract-status") == "待发送"
    assert "人民币壹拾贰万元整" in page.inner_text(".contract-body")
    with page.expect_download() as info:
        page.click("#contract-pdf")
    with open(info.value.path(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#contract-send")
    page.wait_for_selector("#contract-status:has-text('待签署')")
    page.click("#contract-simulate-sign")
    page.wait_for_selector("#contract-status:has-text('已签署')")
    assert Contract.objects.get(pk=contract.pk).status == "signed"
    assert page.inner_text("#contract-signed-at") != "—"
    assert page.console_errors == []


def test_credit_report_shows_liabilities_and_grade(
    page,
    login,
    owner,
    borrower,
    make_loan,
    finance,
    perms,  # noqa: F811
):
    loan = lending_services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    login(owner)
    page.goto(f"{page.base_url}/origination/credit-report/{borrower.pk}/")
    assert loan.number in page.inner_text("#cr-loans")
    assert page.inner_text("#cr-outstanding") == "120,000.00"
    assert page.inner_text("#cr-grade") in {"A", "B", "C", "D", "E"}
    assert "未取得客户有效的征信查询授权" in page.inner_text("#cr-bureau")
    assert page.console_errors == []
