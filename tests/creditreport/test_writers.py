"""The reference writers: GB18030 / UTF-8 round trips, fixed byte widths, xlsx."""

from __future__ import annotations

import datetime as dt
import io
from types import SimpleNamespace

import pytest

from credo.core.money import Money
from credo.creditreport import writers
from credo.creditreport.errors import InvalidInput

NAME = "𠮷祥（山西）商贸有限公司|分号"  # a 4-byte GB18030 character and a pipe


def record(**kw):
    base = dict(
        kind="correction",
        month=dt.date(2026, 2, 1),
        account_number="L202601150001",
        borrower_name=NAME,
        id_type="uscc",
        id_number="91140100MA0000001X",
        open_date=dt.date(2026, 1, 15),
        maturity_date=dt.date(2027, 1, 15),
        currency="CNY",
        amount=Money.from_fen(12_000_000),
        repayment_method="equal_installment",
        repayment_frequency="monthly",
        guarantee_type="combined",
        balance=Money.from_fen(11_012_345),
        five_class="special_mention",
        overdue_periods=1,
        overdue_amount=Money.from_fen(1_066_185),
        overdue_principal=Money.from_fen(986_185),
        overdue_days=13,
        due_in_month=Money.from_fen(1_066_185),
        account_status="overdue",
        status_string="/" * 22 + "*1",
        closed_on=None,
        events=[{"kind": "extension", "date": "2026-02-20"}],
    )
    base.update(kw)
    return SimpleNamespace(**base)


SUB = SimpleNamespace(pk=7, month=dt.date(2026, 2, 1))


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8"])
def test_text_round_trip(encoding, settings):
    settings.CREDO_ORG_NAME = "太原某小额贷款有限公司"
    data = writers.write_text(SUB, [record()], encoding)
    lines = data.decode(encoding).split("\r\n")
    assert lines[0].startswith("H|CREDO-CR-REF-1|") and "|2026-02|7|1" in lines[0]
    assert lines[-2] == "T|1|110123.45" and lines[-1] == ""
    [row] = writers.read_text(data, encoding)
    assert row["borrower_name"] == NAME.replace("|", "／")
    assert row["record_type"] == "C" and row["id_type"] == "20" and row["guarantee_type"] == "5"
    assert row["balance"] == "110123.45" and row["five_class"] == "2"
    assert row["events"] == "EXT:2026-02-20" and row["status_string"] == "/" * 22 + "*1"
    if encoding == "gb18030":
        assert "𠮷".encode("gb18030") in data  # four bytes, not a replacement character


def test_fixed_width_counts_bytes_of_the_encoding():
    data = writers.write_fixed(SUB, [record(), record(kind="monthly")], "gb18030")
    lines = data.split(b"\r\n")
    width = 1 + sum(f.width for f in writers.FIELDS)
    assert [len(line) for line in lines[1:3]] == [width, width]
    name_at = 1 + sum(f.width for f in writers.FIELDS[:3])
    name = lines[1][name_at : name_at + 80].decode("gb18030").rstrip()
    assert name == NAME.replace("|", "／")
    assert writers.fit("汉字汉字", 5, "gb18030") == "汉字".encode("gb18030") + b" "
    assert writers.fit("12.00", 8, "utf-8", right=True) == b"   12.00"


def test_xlsx_has_the_chinese_header_and_the_rows():
    from openpyxl import load_workbook

    data = writers.write_xlsx(SUB, [record(borrower_name="=cmd|' /C calc'!A0")], "utf-8")
    ws = load_workbook(io.BytesIO(data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("记录类型", "数据月份", "账户编号", "借款人名称")
    assert rows[1][3].startswith("=")  # kept as text, never a formula
    assert ws.cell(2, 4).data_type == "s"
    assert float(rows[1][13]) == 110123.45


def test_unknown_writer_is_refused():
    with pytest.raises(InvalidInput, match="未知的报送文件格式"):
        writers.get_writer("pboc2")
    assert {"reference-text", "reference-fixed", "reference-xlsx"} <= {
        w.key for w in writers.writers
    }
