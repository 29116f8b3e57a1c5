"""credo.core.tabular: the one reader for uploaded .xlsx/.csv tables (issue 17)."""

from __future__ import annotations

import contextlib
import csv
import io
import subprocess
import sys

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from credo.core import tabular

ALIASES = {"名称": "name", "name": "name", "企业名称": "name", "手机号": "phone", "电话": "phone"}


def _csv_bytes(rows, encoding):
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_decode_csv_encodings(encoding):
    text = "名称,手机号\r\n太原晋阳商贸,13812345678\r\n"
    assert tabular.decode_csv(text.encode(encoding)) == text


def test_decode_csv_refuses_garbage():
    with pytest.raises(tabular.TableError) as info:
        tabular.decode_csv(b"\xff\xfe\xff\x80")
    assert info.value.code == "encoding"


def test_norm_header_and_aliases():
    assert tabular.norm_header(" 手机号（必填）* ") == "手机号必填"
    assert tabular.norm_header("Name:") == "name"
    header = tabular.HeaderMap(ALIASES, extra={"员工人数": "custom:staff"})
    columns, unknown = header.map(["企业名称 *", None, "电话", "员工人数", "备注"])
    assert [(c.index, c.target, c.label) for c in columns] == [
        (0, "name", "企业名称 *"),
        (2, "phone", "电话"),
        (3, "custom:staff", "员工人数"),
    ]
    assert unknown == ["备注"]


def test_read_table_row_numbers_blank_lines_and_short_rows():
    rows = [[], ["", None], ["NAME", "手机号"], ["甲", "1"], ["", " "], ["乙"]]
    table = tabular.read_table(rows, tabular.HeaderMap(ALIASES), cell=lambda v: v or "")
    assert table.records == [(4, {"name": "甲", "phone": "1"}), (6, {"name": "乙", "phone": ""})]
    assert table.unknown == []


def test_read_table_errors():
    header = tabular.HeaderMap(ALIASES)
    with pytest.raises(tabular.TableError) as info:
        tabular.read_table([[], [None]], header)
    assert info.value.code == "empty"
    with pytest.raises(tabular.TableError) as info:
        tabular.read_table([["名称"], ["a"], ["b"], ["c"]], header, max_rows=2)
    assert info.value.code == "too_many_rows" and info.value.params == {"n": 2}

    def need_phone(columns):
        if not any(c.target == "phone" for c in columns):
            raise LookupError("phone")

    with pytest.raises(LookupError):
        tabular.read_table([["名称"], ["a"]], header, check_header=need_phone)


def test_read_file_formats(tmp_path):
    header = tabular.HeaderMap(ALIASES)
    data = _csv_bytes([["名称", "电话"], ["甲", "138"]], "gbk")
    assert tabular.read_file(data, "a.csv", header).records == [(2, {"name": "甲", "phone": "138"})]
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    assert tabular.read_file(str(path), "a.csv", header).records[0][0] == 2
    with pytest.raises(tabular.TableError) as info:
        tabular.read_file(b"x", "a.txt", header)
    assert info.value.code == "format"
    with pytest.raises(tabular.TableError) as info:
        tabular.read_file(b"not a zip", "a.xlsx", header)
    assert info.value.code == "excel"


def test_read_file_xlsx():
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append([None])
    ws.append(["名称", "手机号"])
    ws.append(["甲", 13812345678])
    buf = io.BytesIO()
    wb.save(buf)
    table = tabular.read_file(buf.getvalue(), "x.XLSX", tabular.HeaderMap(ALIASES))
    assert table.records == [(3, {"name": "甲", "phone": 13812345678})]


def test_messages_are_the_import_messages():
    assert tabular.TableError("empty").message() == "文件是空的。"
    assert tabular.TableError("too_many_rows", n="50,000").message() == (
        "一次最多导入 50,000 行，请拆分文件。"
    )


def test_import_is_django_free():
    code = "import credo.core.tabular, sys; assert not any(m.startswith('django') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


_cell_text = st.text(
    alphabet=st.characters(
        codec="gbk",
        exclude_categories=("Cs",),
        exclude_characters="\r\x00",
    ),
    max_size=12,
)
_tables = st.lists(st.lists(_cell_text, min_size=1, max_size=5), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(table=_tables, encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk"]))
def test_csv_round_trip(table, encoding):
    """Any table of str cells (gbk-encodable text) written as CSV reads back unchanged."""
    data = _csv_bytes(table, encoding)
    if encoding == "gbk":
        # Some short GBK byte strings are also valid UTF-8 ("褜" is D1 8C, which is UTF-8 "ь"):
        # such a file is ambiguous and UTF-8 wins, as in every spreadsheet program.
        with contextlib.suppress(UnicodeDecodeError):
            assume(data.decode("utf-8") == data.decode("gbk"))
    assert list(tabular.csv_rows(tabular.decode_csv(data))) == table
