"""``credo loan show NUMBER [--format json|table]`` and the same figures over the API."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from credo.lending.models import Loan
from tests.lending.test_book_import import AS_OF, importer, run, workbook  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(importer):  # noqa: F811
    assert run(importer, workbook()).status == "imported"


def test_json(book, capsys):
    call_command("loan", "show", "MIG-2", "--format", "json")
    data = json.loads(capsys.readouterr().out)
    loan = Loan.objects.get(number="MIG-2")
    assert data["number"] == "MIG-2" and data["status"] == "overdue"
    assert data["dpd"] == loan.dpd > 0
    assert data["classification"] == loan.classification
    assert data["outstanding_principal"] == f"{loan.outstanding_principal.fen / 100:.2f}"
    assert len(data["installments"]) == 12
    first = data["installments"][0]
    assert set(first) >= {
        "period",
        "due_date",
        "status",
        "principal_due",
        "principal_paid",
        "interest_due",
        "interest_paid",
        "penalty_due",
        "penalty_paid",
    }
    assert first["status"] == "paid" and first["principal_paid"] == first["principal_due"]
    # money as yuan strings with two decimals
    for key in ("overdue_principal", "interest_due", "penalty_due", "credit_balance"):
        assert isinstance(data[key], str) and data[key].count(".") == 1
        assert len(data[key].split(".")[1]) == 2
    overdue = [i for i in data["installments"] if i["status"] == "overdue"]
    owed = sum(float(i["principal_due"]) - float(i["principal_paid"]) for i in overdue)
    assert overdue and data["overdue_principal"] == f"{owed:.2f}"
    assert float(data["penalty_due"]) > 0


def test_table_has_chinese_labels(book, capsys):
    call_command("loan", "show", "MIG-1")
    out = capsys.readouterr().out
    for label in ("剩余本金", "逾期天数", "五级分类", "应还本金", "已还利息"):
        assert label in out
    assert "MIG-1" in out


def test_unknown_number(db):
    with pytest.raises(CommandError, match="不存在"):
        call_command("loan", "show", "NOPE-1")


def test_api_show(book, client, importer):  # noqa: F811
    from credo.api.services import token_create

    _t, plain = token_create(
        user=importer, name="t", scopes=["read"], expires_in_days=30, actor=importer
    )
    loan = Loan.objects.get(number="MIG-1")
    resp = client.get(f"/api/v1/lending/loans/{loan.pk}/show", HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert resp.status_code == 200, resp.content
    assert resp.json()["number"] == "MIG-1"
