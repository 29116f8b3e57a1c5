from __future__ import annotations

import pytest

from credo.records import schema, services
from credo.reports.datasets import run_query
from tests.records.conftest import FIELDS, GOOD

pytestmark = pytest.mark.django_db


def test_records_dataset(am, outsider_am, customer, check_type):
    services.record_create(record_type=check_type, values=GOOD, actor=am, customer=customer)
    for _ in range(2):
        services.record_create(
            record_type=check_type,
            values={**GOOD, "result": "fail", "problem": "x"},
            actor=am,
            customer=customer,
        )
    result = run_query(
        am,
        {
            "dataset": "records",
            "dimensions": ["record_type", "f_result"],
            "measures": ["count", "customers"],
            "order": "f_result",
        },
    )
    rows = [
        (r["record_type__label"], r["f_result"], r["count"], r["customers"]) for r in result.rows
    ]
    assert rows == [("贷后检查表", "fail", 2, 1), ("贷后检查表", "ok", 1, 1)]
    labels = {c["key"]: str(c["label"]) for c in result.columns}
    assert labels["f_result"] == "贷后检查表 · 检查结论"
    empty = run_query(outsider_am, {"dataset": "records", "measures": ["count"]})
    assert empty.rows[0]["count"] == 0


def test_formula_and_condition_evaluation():
    fields = schema.normalize(FIELDS)
    viewer = schema.Viewer(None)
    out = schema.validate(fields, {**GOOD, "items": []}, viewer=viewer)
    assert out.errors == {}
    assert "stock_total" not in out.values  # ZEN gives no sum over no rows
    out = schema.validate(fields, {**GOOD, "result": "fail"}, viewer=viewer)
    assert out.errors == {"problem": "此字段为必填项。"}
    assert schema.check_expression("a +") is not None
    assert schema.check_expression('result == "fail" and staff > 3') is None
    assert schema.evaluate("a * 2", {"a": 1.5}) == 3
    assert schema.evaluate("a * 2", {}) is None  # missing inputs: no value, no crash


def test_display_and_export_values():
    fields = {d["key"]: d for d in schema.normalize(FIELDS)}
    assert schema.display(fields["revenue"], 12000050) == "¥120,000.50"
    assert schema.display(fields["result"], "fail") == "异常"
    assert schema.display(fields["risks"], ["stock", "cash"]) == "存货、现金流"
    assert schema.display(fields["items"], [{}, {}]) == "2 行"
    assert str(schema.export_value(fields["revenue"], 12000050)) == "120000.50"
    assert schema.export_value(fields["items"], [{"name": "钢材", "amount": 100}]) == (
        "品名:钢材，金额:¥1.00"
    )


def test_designer_text_round_trip():
    cols = schema.parse_columns("item:检查项目:text:必填\nresult：结果：choice::正常/异常")
    assert cols[0]["required"] is True and cols[1]["options"] == ["正常", "异常"]
    text = schema.columns_text([{**c, "options": schema._options(c["options"])} for c in cols])
    assert schema.parse_columns(text)[1]["options"] == ["正常", "异常"]
    opts = schema.parse_options("ok=正常\n异常\n")
    assert opts == [{"value": "ok", "label": "正常"}, {"value": "异常", "label": "异常"}]
    assert schema.options_text(opts) == "ok=正常\n异常"
