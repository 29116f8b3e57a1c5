# ruff: noqa: F811 — pytest fixtures imported from tests.lending.conftest
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from tests.lending.conftest import borrower, finance, make_loan, product_version  # noqa: F401

CONTRACT_PERMS = ("view_contract", "send_contract")


@pytest.fixture(autouse=True)
def _private_documents(settings, tmp_path):
    settings.CREDO_DOCUMENT_ROOT = str(tmp_path / "documents")


@pytest.fixture
def contract_perms(manager_role):
    manager_role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="contracts", codename__in=CONTRACT_PERMS
        ),
        *Permission.objects.filter(content_type__app_label="customers", codename="view_customer"),
    )
    return manager_role


def sample_terms(**overrides):
    terms = {
        "borrower": "太原借款企业有限公司",
        "lender": "晋信小额贷款有限公司",
        "amount_fen": 12_000_000,
        "annual_rate": "12.0000",
        "months": 3,
        "method": "equal_installment",
        "method_label": "等额本息",
        "product": "经营贷",
        "purpose": "采购原材料",
        "start_date": None,
        "schedule": [
            {
                "period": 1,
                "due_date": "2026-02-15",
                "payment": 4_080_266,
                "principal": 3_960_266,
                "interest": 120_000,
            },
            {
                "period": 2,
                "due_date": "2026-03-15",
                "payment": 4_080_266,
                "principal": 3_999_869,
                "interest": 80_397,
            },
            {
                "period": 3,
                "due_date": "2026-04-15",
                "payment": 4_080_264,
                "principal": 4_039_865,
                "interest": 40_399,
            },
        ],
    }
    terms.update(overrides)
    return terms


@pytest.fixture
def make_contract(owner, borrower):  # noqa: F811
    from credo.contracts import services

    def make(**overrides):
        return services.contract_generate(
            subject=borrower, customer=borrower, terms=sample_terms(**overrides), actor=owner
        )

    return make


def pdf_fonts(data: bytes) -> set[bytes]:
    """Font names embedded in a PDF (object streams inflated; no PDF library needed)."""
    import re
    import zlib

    text = data
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            text += zlib.decompressobj().decompress(match.group(1))
        except zlib.error:
            continue
    return set(re.findall(rb"/BaseFont\s*/[A-Z]{6}\+([A-Za-z\-]+)", text))
