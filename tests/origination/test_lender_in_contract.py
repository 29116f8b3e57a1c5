"""The contract built from an application names the configured lender — legal name, USCC and
address — and never a made-up "Credo" (issue 15, item 11)."""

from __future__ import annotations

import pytest

from credo.contracts import rendering
from credo.contracts.services import template_current
from credo.origination import services

pytestmark = pytest.mark.django_db


def _body(app) -> str:
    terms = services.contract_terms(app)
    context = rendering.context_for(number="HT-TEST-1", terms=terms, customer=app.customer)
    return rendering.render_body(template_current("loan").body, context)


def test_contract_names_configured_lender(settings, make_app):
    settings.CREDO_ORG_NAME = "晋信小额贷款有限公司"
    settings.CREDO_ORG_USCC = "91140100MA0L00000N"
    settings.CREDO_ORG_ADDRESS = "山西省太原市小店区示例路1号"
    body = _body(make_app())
    assert "晋信小额贷款有限公司" in body
    assert "91140100MA0L00000N" in body
    assert "山西省太原市小店区示例路1号" in body


def test_unconfigured_lender_is_a_visible_gap(settings, make_app):
    settings.CREDO_ORG_NAME = ""
    body = _body(make_app())
    assert "Credo" not in body
    assert "【未配置】" in body
