from __future__ import annotations

import json

import jsonschema_rs
import pytest

from credo.records import services
from credo.records.models import CustomRecord
from tests.records.conftest import GOOD

pytestmark = pytest.mark.django_db
BASE = "/api/v1/records"


def _post(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def test_record_types_with_json_schema(client, am, risk, check_type):
    client.force_login(am)
    r = client.get(f"{BASE}/record-types")
    assert r.status_code == 200
    (item,) = r.json()
    assert item["code"] == "post_loan_check" and item["version"] == 1
    schema = item["values_schema"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema_rs.Draft202012Validator(schema)  # a valid schema
    props = schema["properties"]
    assert props["result"]["enum"] == ["ok", "fail"]
    assert props["items"]["items"]["required"] == ["name"]
    assert props["stock_total"]["readOnly"] is True
    assert props["photos"]["readOnly"] is True
    assert props["problem"]["x-credo-required-when"] == 'result == "fail"'
    assert "risk_note" not in props  # not visible to this role
    assert schema["required"] == ["visit_date", "result"]
    validator = jsonschema_rs.Draft202012Validator(schema)
    assert validator.is_valid(GOOD)
    assert not validator.is_valid({**GOOD, "result": "maybe"})
    client.force_login(risk)
    props = client.get(f"{BASE}/record-types/post_loan_check").json()["values_schema"]["properties"]
    assert "risk_note" in props


def test_create_get_patch(client, am, customer, check_type):
    client.force_login(am)
    r = _post(
        client,
        BASE,
        {"record_type": "post_loan_check", "customer_id": customer.pk, "values": GOOD},
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["values"]["stock_total"] == "1200.10"
    assert body["values"]["revenue"] == "120000.50"
    assert body["values"]["items"][0] == {"name": "钢材", "amount": "1000.10"}
    rid = body["id"]
    assert client.get(f"{BASE}/{rid}").json()["number"] == body["number"]
    r = client.patch(
        f"{BASE}/{rid}", json.dumps({"values": {"staff": "20"}}), content_type="application/json"
    )
    assert r.status_code == 200 and r.json()["values"]["staff"] == "20"
    listing = client.get(BASE, {"record_type": "post_loan_check", "customer_id": customer.pk})
    assert listing.json()["count"] == 1


def test_server_side_validation(client, am, customer, loan, check_type):
    client.force_login(am)
    r = _post(
        client,
        BASE,
        {
            "record_type": "post_loan_check",
            "customer_id": customer.pk,
            "values": {"result": "fail", "risk_note": "x", "photos": []},
        },
    )
    assert r.status_code == 422
    errors = r.json()["details"]["values"]
    assert errors["visit_date"] == "此字段为必填项。"
    assert errors["problem"] == "此字段为必填项。"
    assert errors["risk_note"] == "无权编辑此字段。"
    assert "photos" in errors
    r = _post(client, BASE, {"record_type": "post_loan_check", "loan_id": loan.pk, "values": GOOD})
    assert r.status_code == 422
    assert not CustomRecord.objects.exists()


def test_scope(client, am, outsider_am, customer, check_type):
    record = services.record_create(
        record_type=check_type, values=GOOD, actor=am, customer=customer
    )
    client.force_login(outsider_am)
    assert client.get(f"{BASE}/{record.pk}").status_code == 404
    assert client.get(BASE).json()["count"] == 0
    r = _post(
        client,
        BASE,
        {"record_type": "post_loan_check", "customer_id": customer.pk, "values": GOOD},
    )
    assert r.status_code == 404
    assert CustomRecord.objects.count() == 1


def test_hidden_fields_left_out(client, am, risk, customer, check_type):
    record = services.record_create(
        record_type=check_type, values={**GOOD, "risk_note": "关注"}, actor=risk, customer=customer
    )
    client.force_login(am)
    values = client.get(f"{BASE}/{record.pk}").json()["values"]
    assert "risk_note" not in values and values["result"] == "ok"
    client.force_login(risk)
    assert client.get(f"{BASE}/{record.pk}").json()["values"]["risk_note"] == "关注"
