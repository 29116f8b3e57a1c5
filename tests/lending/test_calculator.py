import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse


def test_cli_json_matches_the_spec_shape():
    out = io.StringIO()
    call_command(
        "schedule",
        "--principal",
        "1000000",
        "--annual-rate",
        "4.9",
        "--months",
        "360",
        "--method",
        "equal_installment",
        "--start",
        "2026-01-15",
        "--format",
        "json",
        stdout=out,
    )
    data = json.loads(out.getvalue())
    assert set(data) == {
        "installments",
        "total_interest",
        "total_payment",
        # issue 20: the fees of the quote and its 年化利率
        "upfront_fee",
        "installment_fee",
        "apr_percent",
        "apr_effective_percent",
    }
    assert data["apr_percent"] == "4.90"
    first = data["installments"][0]
    assert first == {
        "period": 1,
        "due_date": "2026-02-15",
        "payment": "5307.27",
        "principal": "1223.94",
        "interest": "4083.33",
        "balance": "998776.06",
    }
    assert len(data["installments"]) == 360 and data["installments"][-1]["balance"] == "0.00"
    assert data["total_interest"] == "910615.12" and data["total_payment"] == "1910615.12"


def test_cli_table_is_chinese():
    out = io.StringIO()
    call_command(
        "schedule",
        "--principal",
        "12000",
        "--annual-rate",
        "6",
        "--months",
        "3",
        "--method",
        "equal_principal",
        "--start",
        "2026-01-31",
        stdout=out,
    )
    text = out.getvalue()
    assert "等额本金" in text and "剩余本金" in text and "2026-02-28" in text and "合计" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--principal", "0"], "本金"),
        (["--principal", "1.001"], "两位小数"),
        (["--principal", "abc"], "有效的数字"),
        (["--start", "2026-13-01"], "YYYY-MM-DD"),
        (["--annual-rate", "-3"], "年利率"),
    ],
)
def test_cli_bad_input(args, message):
    base = {
        "--principal": "1000",
        "--annual-rate": "5",
        "--months": "12",
        "--method": "bullet",
        "--start": "2026-01-01",
    }
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    with pytest.raises(CommandError, match=message):
        call_command("schedule", *[x for kv in base.items() for x in kv], stdout=io.StringIO())


@pytest.mark.django_db
def test_calculator_page(client, owner):
    client.force_login(owner)
    empty = client.get(reverse("lending:calculator")).content.decode()
    assert "试算" in empty
    page = client.get(
        reverse("lending:calculator"),
        {
            "principal": "1000000",
            "annual_rate": "4.9",
            "months": "360",
            "method": "equal_installment",
            "start": "2026-01-15",
        },
    ).content.decode()
    assert "5,307.27" in page and "910,615.12" in page
    bad = client.get(
        reverse("lending:calculator"),
        {
            "principal": "-5",
            "annual_rate": "4.9",
            "months": "0",
            "method": "equal_installment",
            "start": "2026-01-15",
        },
        HTTP_HX_REQUEST="true",
    )
    body = bad.content.decode()
    assert "<html" not in body and "期限" in body and "贷款本金" in body
