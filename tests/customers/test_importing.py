from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from credo.core.audit.models import AuditEntry
from credo.core.customfields.models import CustomField
from credo.customers import services
from credo.customers.importing import (
    ImportFileError,
    parse_file,
    preview,
    run_import,
    template_xlsx,
)
from credo.customers.models import Customer, CustomerEvent
from tests.customers.conftest import make_id, make_uscc

pytestmark = pytest.mark.django_db

HEADER = [
    "客户类型",
    "名称/姓名",
    "统一社会信用代码",
    "身份证号",
    "手机号",
    "注册资本",
    "行业",
    "成立日期",
    "所在地区",
    "银行账号",
]


def xlsx(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def good_rows() -> list[list[object]]:
    return [
        [
            "企业",
            "太原晋阳商贸有限公司",
            make_uscc(1),
            "",
            "0351-7654321",
            5000000,
            "F",
            dt.datetime(2015, 3, 20),
            "山西省太原市小店区",
            "",
        ],
        [
            "个人",
            "李小明",
            "",
            make_id(7),
            13835112345,
            "",
            "",
            "",
            "140105",
            "6222020512345678901",
        ],
        [
            "企业",
            "大同煤都机械制造有限公司",
            make_uscc(2),
            "",
            "",
            "1200000.50",
            "制造业",
            "",
            "大同市平城区",
            "",
        ],
    ]


def test_xlsx_parse_and_import_all(owner):
    rows = parse_file(xlsx(good_rows()), "客户.xlsx")
    assert [r["_row"] for r in rows] == [2, 3, 4]
    assert rows[1]["phone"] == "13835112345"  # numeric cell → text, no ".0"
    result = run_import(rows, actor=owner, filename="客户.xlsx")
    assert result.created == 3 and result.skipped == 0 and not result.errors
    c = Customer.objects.get(uscc=make_uscc(2))
    assert c.industry == "C" and c.region_code == "140213" or c.region_code.startswith("1402")
    assert c.registered_capital.yuan == pytest.approx(1200000.5)
    assert c.owner == owner and c.team == owner.team and c.branch == owner.branch
    first = Customer.objects.get(uscc=make_uscc(1))
    assert first.region_code == "140105" and first.founded_on == dt.date(2015, 3, 20)
    person = Customer.objects.get(kind="individual")
    assert person.bank_account == "6222020512345678901"
    assert person.id_number_bidx  # blind index computed in the bulk path
    assert CustomerEvent.objects.filter(kind="created").count() == 3
    entry = AuditEntry.objects.get(action="customer.import")
    assert entry.metadata["count"] == 3 and entry.metadata["mode"] == "all_or_nothing"
    assert entry.metadata["file"] == "客户.xlsx"
    # Searchable like a single create (by ID number: for users who may see it in clear).
    from credo.accounts.fieldperms import clear_cache
    from credo.accounts.models import FieldPermission
    from credo.customers.selectors import customer_list

    for role in owner.roles.all():
        FieldPermission.objects.create(
            role=role, field_key="customers.customer.id_number", can_view=True
        )
    clear_cache(owner)

    assert list(customer_list(owner, {"q": make_id(7)})) == [person]


def test_preview_errors_have_row_column_and_chinese_message(owner):
    rows = good_rows()
    bad_uscc = make_uscc(3)[:-1] + ("0" if make_uscc(3)[-1] != "0" else "1")
    rows.append(["企业", "坏代码有限公司", bad_uscc, "", "", "", "Z9", "", "149999", ""])
    rows.append(["", "", "", "", "", "", "", "", "", ""])  # blank line skipped
    rows.append(["个人", "", "", "123", "", "", "", "", "", ""])
    checked = preview(parse_file(xlsx(rows, [*HEADER, "备注栏"]), "a.xlsx"), actor=owner)
    assert len(checked.valid_rows) == 3
    assert checked.unknown_columns == ["备注栏"]
    by_cell = {(e.row_number, e.column_label): e.message_zh for e in checked.errors}
    assert "校验位" in by_cell[(5, "统一社会信用代码")]
    assert "行业" in by_cell[(5, "行业")]
    assert "行政区划" in by_cell[(5, "所在地区")]
    assert (7, "名称/姓名") in by_cell and "18 位" in by_cell[(7, "身份证号")]
    assert "手机号" in by_cell[(7, "手机号")]
    assert checked.error_rows == [5, 7]


def test_all_or_nothing_writes_nothing_when_one_row_is_bad(owner):
    rows = [*good_rows(), ["个人", "王五", "", "bad", "13800000000", "", "", "", "", ""]]
    result = run_import(parse_file(xlsx(rows), "a.xlsx"), actor=owner, mode="all_or_nothing")
    assert result.created == 0 and result.skipped == 4 and result.errors
    assert Customer.objects.count() == 0 and CustomerEvent.objects.count() == 0
    assert not AuditEntry.objects.filter(action="customer.import").exists()


def test_valid_only_writes_the_good_rows(owner):
    rows = [*good_rows(), ["个人", "王五", "", "bad", "13800000000", "", "", "", "", ""]]
    result = run_import(parse_file(xlsx(rows), "a.xlsx"), actor=owner, mode="valid_only")
    assert result.created == 3 and result.skipped == 1
    assert [e.row_number for e in result.errors] == [5]
    assert Customer.objects.count() == 3
    assert AuditEntry.objects.get(action="customer.import").metadata["skipped"] == 1


def test_duplicates_in_file_and_against_database(owner, individual_data):
    existing = services.customer_create(actor=owner, data=individual_data)
    rows = good_rows()
    rows.append(["企业", "重复公司", make_uscc(1).lower(), "", "", "", "", "", "", ""])
    rows.append(
        [
            "个人",
            "李 小明",
            "",
            individual_data["id_number"].lower(),
            "13835112345",
            "",
            "",
            "",
            "",
            "",
        ]
    )
    rows[1][3] = make_id(8)
    checked = preview(parse_file(xlsx(rows), "a.xlsx"), actor=owner)
    dup = {d.row_number: d for d in checked.duplicates}
    assert dup[5].first_row == 2 and dup[5].column_label == "统一社会信用代码"
    assert dup[6].existing_id == existing.pk
    messages = {e.row_number: e.message_zh for e in checked.errors}
    assert "第 2 行" in messages[5] and str(existing.pk) in messages[6]
    assert len(checked.valid_rows) == 3


def test_csv_gbk_encoding_and_english_headers(owner):
    text = f"kind,name,id_number,phone,region_code,owner\n个人,张三,{make_id(11)},13912345678,140105,\n"
    rows = parse_file(io.BytesIO(text.encode("gbk")), "客户.csv")
    assert rows[0]["name"] == "张三"
    result = run_import(rows, actor=owner)
    assert result.created == 1
    assert Customer.objects.get().name == "张三"


def test_csv_utf8_bom_chinese_headers(owner):
    text = f"\ufeff客户类型,姓名,身份证号,手机号\n个人,赵六,{make_id(12)},13912345679\n"
    rows = parse_file(text.encode("utf-8"), "x.csv")
    assert rows[0]["kind"] == "个人" and rows[0]["id_number"] == make_id(12)
    assert preview(rows, actor=owner).ok


def test_custom_field_column(owner):
    CustomField.objects.create(
        entity="customer", key="employees", label="员工人数", field_type="number", min_value=0
    )
    CustomField.objects.create(entity="customer", key="vip", label="重点客户", field_type="boolean")
    header = [*HEADER, "员工人数", "重点客户"]
    rows = [r + [120, "是"] for r in good_rows()]
    rows[2][-2] = "很多"
    checked = preview(parse_file(xlsx(rows, header), "a.xlsx"), actor=owner)
    assert [(e.row_number, e.column_label) for e in checked.errors] == [(4, "员工人数")]
    result = run_import(parse_file(xlsx(rows, header), "a.xlsx"), actor=owner, mode="valid_only")
    assert result.created == 2
    custom = Customer.objects.get(uscc=make_uscc(1)).custom
    assert Decimal(custom["employees"]) == 120 and custom["vip"] is True


def test_owner_column(owner, colleague, outsider):
    header = ["客户类型", "名称", "统一社会信用代码", "客户经理"]
    rows = [
        ["企业", "甲公司", make_uscc(21), ""],
        ["企业", "乙公司", make_uscc(22), "outsider"],
        ["企业", "丙公司", make_uscc(23), "nobody"],
    ]
    checked = preview(parse_file(xlsx(rows, header), "a.xlsx"), actor=owner)
    messages = {e.row_number: e.message_zh for e in checked.errors}
    assert "无权" in messages[3] and "不存在" in messages[4]
    from credo.accounts.models import DataScope

    lead_role = owner.roles.first()
    lead_role.data_scope = DataScope.ALL
    lead_role.save()
    owner.__dict__.pop("_role_codes_cache", None)
    rows = rows[:2]
    result = run_import(parse_file(xlsx(rows, header), "a.xlsx"), actor=owner)
    assert result.created == 2
    moved = Customer.objects.get(uscc=make_uscc(22))
    assert moved.owner == outsider and moved.team == outsider.team


def test_bad_files():
    with pytest.raises(ImportFileError):
        parse_file(b"whatever", "a.pdf")
    with pytest.raises(ImportFileError):
        parse_file(b"not a zip", "a.xlsx")
    with pytest.raises(ImportFileError):
        parse_file(b"foo,bar\n1,2\n", "a.csv")  # no 名称 column


def test_template_round_trip(owner):
    CustomField.objects.create(
        entity="customer", key="employees", label="员工人数", field_type="number"
    )
    rows = parse_file(template_xlsx(owner), "模板.xlsx")
    assert not rows.unknown_columns
    checked = preview(rows, actor=owner)
    assert checked.ok and len(checked.valid_rows) == 1
    assert checked.valid_rows[0].values["region_code"] == "140105"


def test_long_numbers_that_excel_rounded_are_reported(owner):
    rows = [["个人", "钱七", "", 1.40105198506150e17, "13900000000", "", "", "", "", ""]]
    checked = preview(parse_file(xlsx(rows), "a.xlsx"), actor=owner)
    assert [(e.row_number, e.column_label) for e in checked.errors] == [(2, "身份证号")]
    assert "文本" in checked.errors[0].message_zh
