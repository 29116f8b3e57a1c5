"""Issue 16 item 10 (reports): filters of the wrong type are a 422 / form error, not a 500; a
report name with characters Excel forbids in sheet names still exports."""

from __future__ import annotations

import io
import json
from urllib.parse import unquote

import openpyxl
import pytest
from django.test import Client

from credo.accounts.models import DataScope
from credo.api.services import token_create
from credo.reports import services
from credo.reports.models import SavedReport
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db
API = "/api/v1/reports"


@pytest.fixture
def boss(org):
    role = RoleFactory(code="issue16_rep", name="全部数据", data_scope=DataScope.ALL)
    return UserFactory(username="boss16rep", org_unit=org["head"], roles=[role], is_superuser=True)


@pytest.fixture
def h(boss) -> dict[str, str]:
    _t, plain = token_create(
        user=boss, name="t", scopes=["read", "write"], expires_in_days=1, actor=boss
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def query(client, h, filters, **extra):
    body = {"dataset": "loans", "measures": ["count"], "filters": filters, **extra}
    return client.post(f"{API}/query", json.dumps(body), content_type="application/json", **h)


BAD_FILTERS = [
    {"dimension": "owner", "op": "eq", "value": "abc"},
    {"dimension": "owner", "op": "in", "value": ["1", "abc"]},
    {"dimension": "owner", "op": "eq", "value": {"a": 1}},
    {"dimension": "owner", "op": "gte", "value": [1]},
    {"dimension": "disbursed_month", "op": "eq", "value": 20240101},
    {"dimension": "disbursed_month", "op": "gte", "value": True},
    {"dimension": "status", "op": "eq", "value": {"x": "y"}},
    {"dimension": "product", "op": "contains", "value": {"x": "y"}},
    {"dimension": "team", "op": "ne", "value": "1.5"},
]


@pytest.mark.parametrize("bad", BAD_FILTERS)
def test_api_query_with_wrong_filter_type_is_422(client, h, bad):
    resp = query(client, h, [bad])
    assert resp.status_code == 422, resp.content
    body = resp.json()
    assert body["code"] == "invalid_query" and "筛选条件" in body["message"]


@pytest.mark.parametrize(
    "spec_change",
    [
        {"filters": ["owner"]},
        {"filters": [{"dimension": ["owner"], "value": 1}]},
        {"dimensions": [["owner"]]},
        {"limit": "abc"},
        {"limit": -3},
    ],
)
def test_saved_report_with_malformed_spec_is_422(client, h, boss, spec_change):
    """A stored spec is not re-validated by the API schema: run_query itself refuses it."""
    spec = {"dataset": "loans", "measures": ["count"], "filters": [], **spec_change}
    report = SavedReport.objects.create(owner=boss, name="坏报表", dataset="loans", spec=spec)
    resp = client.get(f"{API}/saved/{report.pk}/run", **h)
    assert resp.status_code == 422, resp.content
    assert resp.json()["code"] == "invalid_query"


def test_good_filters_still_work(client, h, boss):
    ok = [
        {"dimension": "owner", "op": "eq", "value": str(boss.pk)},
        {"dimension": "owner", "op": "in", "value": [boss.pk, "2"]},
        {"dimension": "disbursed_month", "op": "gte", "value": "2024-01-01"},
        {"dimension": "product", "op": "contains", "value": 12},
        {"dimension": "status", "op": "isnull", "value": False},
    ]
    resp = query(client, h, ok)
    assert resp.status_code == 200, resp.content
    assert resp.json()["rows"] == [{"count": 0}]


def test_web_builder_wrong_filter_type_is_a_form_error(client: Client, boss):
    client.force_login(boss)
    resp = client.get(
        "/reports/builder/",
        {"dataset": "loans", "m": "count", "f1_dim": "owner", "f1_op": "eq", "f1_val": "abc"},
    )
    assert resp.status_code == 200
    assert "筛选条件" in resp.content.decode()
    resp = client.post(
        "/reports/builder/",
        {
            "name": "坏",
            "dataset": "loans",
            "m": "count",
            "f1_dim": "disbursed_month",
            "f1_op": "in",
            "f1_val": "x,y",
            "chart": "table",
        },
    )
    assert resp.status_code == 422
    assert SavedReport.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("月报[2024]: 逾期*?/\\", "月报-2024-- 逾期----"),
        ("'quoted'", "quoted"),
        ("[]:*?\\/", "-------"),
        ("", "报表"),
        ("x" * 40, "x" * 31),
        ("a\x07b", "a-b"),
    ],
)
def test_sheet_title(name, expected):
    from credo.reports.exporting import sheet_title

    assert sheet_title(name) == expected


def test_export_of_report_with_forbidden_sheet_characters(client: Client, boss):
    name = "月报[2024]: 逾期*?/\\"
    report = services.report_save(
        actor=boss, name=name, spec={"dataset": "loans", "measures": ["count"]}
    )
    client.force_login(boss)
    resp = client.get(f"/reports/r/{report.pk}/export.xlsx")
    assert resp.status_code == 200, resp.content[:300]
    book = openpyxl.load_workbook(io.BytesIO(resp.content))
    assert book.sheetnames == ["月报-2024-- 逾期----"]
    disposition = resp["Content-Disposition"]
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert "/" not in encoded and "\\" not in encoded  # RFC 5987: every special char encoded
    assert unquote(encoded).startswith(name)
