from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from credo.core.audit.models import AuditEntry
from credo.records import services
from credo.records.models import CustomRecord, RecordType
from tests.factories import png_bytes
from tests.records.conftest import GOOD

pytestmark = pytest.mark.django_db


def _designer_post(**extra):
    data = {
        "code": "due_diligence",
        "name": "尽调报告",
        "attached_to": "customer",
        "description": "贷前尽职调查",
        "fld-1-label": "经营情况",
        "fld-1-key": "business",
        "fld-1-type": "textarea",
        "fld-1-required": "1",
        "fld-1-order": "2",
        "fld-2-label": "调查结论",
        "fld-2-key": "conclusion",
        "fld-2-type": "choice",
        "fld-2-options": "pass=通过\nreject=不通过",
        "fld-2-show_in_list": "1",
        "fld-2-order": "1",
        "fld-3-label": "存货",
        "fld-3-key": "stock",
        "fld-3-type": "subtable",
        "fld-3-columns": "name:品名:text:必填\nqty:数量:number",
        "fld-3-order": "3",
        "fld-4-label": "数量合计",
        "fld-4-key": "qty_total",
        "fld-4-type": "computed",
        "fld-4-expression": "sum(map(stock, #.qty))",
        "fld-4-result_type": "number",
        "fld-4-order": "4",
        "fld-5-label": "删掉的字段",
        "fld-5-key": "gone",
        "fld-5-type": "text",
        "fld-5-delete": "1",
        "fld-6-label": "",
        "fld-6-key": "",
        "fld-6-type": "text",
    }
    data.update(extra)
    return data


def test_designer_creates_publishes_and_reorders(client, designer):
    client.force_login(designer)
    assert client.get(reverse("records:type_create")).status_code == 200
    r = client.post(reverse("records:type_create"), _designer_post())
    assert r.status_code == 302, r.content.decode()[:2000]
    rt = RecordType.objects.get(code="due_diligence")
    version = rt.versions.get()
    assert [d["key"] for d in version.fields] == ["conclusion", "business", "stock", "qty_total"]
    assert version.fields[0]["options"] == [
        {"value": "pass", "label": "通过"},
        {"value": "reject", "label": "不通过"},
    ]
    assert version.fields[2]["columns"][0] == {
        "key": "name",
        "label": "品名",
        "type": "text",
        "required": True,
        "required_when": "",
        "help_text": "",
        "regex": "",
    }
    # the edit page round-trips the definition
    page = client.get(reverse("records:type_edit", args=[rt.pk])).content.decode()
    assert "name:品名:text:必填" in page and "pass=通过" in page
    r = client.post(reverse("records:type_publish", args=[rt.pk]))
    assert r.status_code == 302
    version.refresh_from_db()
    assert version.status == "published"


def test_designer_shows_errors(client, designer):
    client.force_login(designer)
    r = client.post(
        reverse("records:type_create"),
        _designer_post(**{"fld-4-expression": "sum(", "fld-1-key": "Bad"}),
    )
    assert r.status_code == 400
    body = r.content.decode()
    assert "公式无法解析" in body and "字段标识“Bad”无效" in body
    assert not RecordType.objects.exists()


def test_designer_requires_permission(client, am):
    client.force_login(am)
    assert client.get(reverse("records:type_list")).status_code == 403
    assert client.post(reverse("records:type_create"), _designer_post()).status_code == 403


def _form_post(**extra):
    data = {
        "parent": "",
        "f_visit_date": "2026-06-15",
        "f_result": "fail",
        "f_problem": "存货积压",
        "f_revenue": "8000.00",
        "f_staff": "5",
        "f_risks": ["stock", "cash"],
        "f_operating": "1",
        "f_items-0-name": "钢材",
        "f_items-0-amount": "300.50",
        "f_items-3-name": "配件",
        "f_items-3-amount": "99.50",
    }
    data.update(extra)
    return data


def test_fill_form_from_customer_page(client, am, customer, check_type):
    client.force_login(am)
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert 'id="records-panel"' in page and "贷后检查表" in page
    url = reverse("records:create", args=["post_loan_check"]) + f"?customer={customer.pk}"
    form = client.get(url).content.decode()
    assert 'capture="environment"' in form and 'name="f_items-0-name"' in form
    assert "风控意见" not in form  # not visible to this role
    data = _form_post(parent=str(customer.pk))
    data["f_photos"] = io.BytesIO(png_bytes())
    data["f_photos"].name = "door.png"
    r = client.post(url, data)
    assert r.status_code == 302, r.content.decode()[:3000]
    record = CustomRecord.objects.get()
    assert record.customer == customer and record.created_by == am
    assert record.values["risks"] == ["stock", "cash"]
    assert record.values["items"] == [
        {"name": "钢材", "amount": 30050},
        {"name": "配件", "amount": 9950},
    ]
    assert record.values["stock_total"] == 40000
    assert len(record.values["photos"]) == 1
    detail = client.get(reverse("records:detail", args=[record.pk])).content.decode()
    assert "¥400.00" in detail
    assert "钢材" in detail and reverse("records:file", args=[record.values["photos"][0]]) in detail
    assert "风控意见" not in detail
    img = client.get(reverse("records:file", args=[record.values["photos"][0]]))
    assert img.status_code == 200 and img["Content-Type"] == "image/png"
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert record.number in page


def test_form_errors_keep_input(client, am, customer, check_type):
    client.force_login(am)
    url = reverse("records:create", args=["post_loan_check"]) + f"?customer={customer.pk}"
    r = client.post(url, _form_post(parent=str(customer.pk), f_problem="", f_staff="abc"))
    assert r.status_code == 400
    body = r.content.decode()
    assert "此字段为必填项。" in body
    assert 'value="8000.00"' in body and 'value="钢材"' in body
    assert not CustomRecord.objects.exists()


def test_edit_record(client, am, customer, check_type):
    record = services.record_create(
        record_type=check_type, values=GOOD, actor=am, customer=customer
    )
    client.force_login(am)
    form = client.get(reverse("records:edit", args=[record.pk])).content.decode()
    assert 'value="120000.50"' in form and 'value="1000.10"' in form
    r = client.post(
        reverse("records:edit", args=[record.pk]),
        _form_post(f_result="ok", f_problem=""),
    )
    assert r.status_code == 302
    record.refresh_from_db()
    assert record.values["result"] == "ok" and record.values["stock_total"] == 40000
    assert AuditEntry.objects.filter(action="records.update", object_id=str(record.pk)).exists()


def test_scope_and_list(client, am, am2, outsider_am, risk, customer, check_type):
    record = services.record_create(
        record_type=check_type, values=GOOD, actor=am, customer=customer
    )
    for i in range(31):
        services.record_create(
            record_type=check_type,
            values={**GOOD, "result": "fail", "problem": f"问题{i}"},
            actor=am,
            customer=customer,
        )
    client.force_login(am)
    url = reverse("records:list", args=["post_loan_check"])
    body = client.get(url).content.decode()
    assert "共 32 条" in body and "1 / 2" in body
    body = client.get(url, {"f_result": "ok"}).content.decode()
    assert "共 1 条" in body and record.number in body
    assert "共 0" not in client.get(url, {"q": "晋阳"}).content.decode()
    assert "没有记录" in client.get(url, {"q": "不存在的客户"}).content.decode()
    # home page counts
    assert "32" in client.get(reverse("records:home")).content.decode()
    # outsiders and own-scope colleagues see nothing of it
    for other in (outsider_am, am2):
        client.force_login(other)
        assert "没有记录" in client.get(url).content.decode()
        assert client.get(reverse("records:detail", args=[record.pk])).status_code == 404
    # branch-wide risk sees it, including the risk-only field
    client.force_login(risk)
    assert client.get(reverse("records:detail", args=[record.pk])).status_code == 200


def test_export_xlsx(client, am, customer, check_type):
    services.record_create(
        record_type=check_type,
        values={**GOOD, "problem": '=HYPERLINK("http://x")', "result": "fail"},
        actor=am,
        customer=customer,
    )
    client.force_login(am)
    r = client.get(reverse("records:list", args=["post_loan_check"]), {"format": "xlsx"})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    assert "存货合计" in header and "风控意见" not in header
    row = dict(zip(header, rows[1], strict=True))
    assert float(row["月营业额"]) == 120000.5
    assert row["检查结论"] == "异常"
    assert row["异常说明"] == '=HYPERLINK("http://x")'
    cell = ws.cell(row=2, column=header.index("异常说明") + 1)
    assert cell.data_type == "s"  # never a formula
    assert AuditEntry.objects.filter(action="records.export").exists()


def test_loan_and_application_panels(client, designer, am, loan):
    rt = services.record_type_create(
        code="loan_check",
        name="贷后回访",
        attached_to="loan",
        fields=[{"key": "note", "label": "回访情况", "type": "text", "required": True}],
        actor=designer,
    )
    services.record_type_publish(version=rt.versions.get(), actor=designer)
    record = services.record_create(record_type=rt, values={"note": "正常"}, actor=am, loan=loan)
    client.force_login(am)
    page = client.get(reverse("lending:loan_detail", args=[loan.pk])).content.decode()
    assert 'id="records-panel"' in page and record.number in page
    assert f"?loan={loan.pk}" in page


def test_application_panel_and_events(client, designer, am, customer, loan):
    from decimal import Decimal

    from credo.core.events.stream import events_between, events_pump
    from credo.core.money import Money
    from credo.origination import services as origination
    from tests.factories import role_with_perms

    am.roles.add(role_with_perms("rec_app", "own", "origination.add_application"))
    app = origination.application_create(
        customer=customer,
        product_version=loan.product_version,
        amount=Money("300000"),
        months=12,
        annual_rate=Decimal("12"),
        purpose="采购原材料",
        actor=am,
    )
    rt = services.record_type_create(
        code="due_diligence",
        name="尽调报告",
        attached_to="application",
        fields=[{"key": "summary", "label": "调查结论", "type": "textarea", "required": True}],
        actor=designer,
    )
    services.record_type_publish(version=rt.versions.get(), actor=designer)
    client.force_login(am)
    page = client.get(reverse("origination:detail", args=[app.pk])).content.decode()
    assert 'id="records-panel"' in page and f"?application={app.pk}" in page
    url = reverse("records:create", args=["due_diligence"]) + f"?application={app.pk}"
    r = client.post(url, {"parent": str(app.pk), "f_summary": "经营稳定，建议准入"})
    assert r.status_code == 302
    record = CustomRecord.objects.get(application=app)
    page = client.get(reverse("origination:detail", args=[app.pk])).content.decode()
    assert record.number in page
    events_pump()
    (event,) = events_between(actions=["records.create"])
    assert event.object_type == "records.customrecord"
    assert event.object_id == str(record.pk)
    assert event.changes["summary"] == {"old": None, "new": "经营稳定，建议准入"}
    assert event.metadata["parent"] == f"application:{app.pk}"
