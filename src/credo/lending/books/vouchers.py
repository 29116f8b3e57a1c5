"""Voucher export (凭证导出) to the import layouts of 金蝶 (云星空 K/3 Cloud, 精斗云) and 用友
(U8, T+): one registry entry per layout (columns in the template's order), the lender's account
codes per system (:class:`VoucherAccountMap`, else ``LedgerAccount.export_code``), 辅助核算 by
customer (客户) and product (产品/项目), detailed (一笔分录一张凭证) or summarised (每日每科目
汇总一张凭证) vouchers.

Reproducible: the same period and data give the same bytes — rows in a fixed order, voucher
numbers counted from 1 in the period, fixed workbook properties and zip timestamps.
Which columns were checked against which public template is in docs/accounting.md.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from credo.core.registry import Registry
from credo.core.spreadsheet import append, csv_text, workbook_bytes
from credo.lending.books.models import VoucherAccountMap
from credo.lending.books.selectors import month_end, month_start
from credo.lending.ledger import fen
from credo.lending.models import JournalLine, LedgerAccount

DETAILED = "detailed"
SUMMARY = "summary"
MODES = {DETAILED: _("明细凭证（每笔分录一张）"), SUMMARY: _("汇总凭证（每日每科目）")}
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit minus the header row
VOUCHER_WORD = "记"
MAKER = "Credo"
# the fixed timestamp of every exported workbook (properties and zip entries)
FIXED_TIME = dt.datetime(2000, 1, 1, 0, 0, 0)  # noqa: DTZ001 - workbook metadata, no zone


@dataclass(frozen=True)
class Column:
    header: str
    key: str
    number: bool = False  # an amount: a numeric cell with two decimals


@dataclass(frozen=True)
class VoucherFormat:
    key: str
    label: Any
    columns: tuple[Column, ...]
    # U8's documented rule: one of 借方/贷方 is ≠ 0 and the other = 0 (not empty)
    zero_other_side: bool = True
    sheet: str = "凭证"


FORMATS: Registry[VoucherFormat] = Registry("voucher formats")


def register_format(fmt: VoucherFormat) -> VoucherFormat:
    return FORMATS.register(fmt.key, fmt)


register_format(
    VoucherFormat(
        key="kingdee_k3cloud",
        label=_("金蝶云星空（K/3 Cloud）凭证引入"),
        columns=(
            Column("日期", "date"),
            Column("会计年度", "year"),
            Column("期间", "period"),
            Column("凭证字", "word"),
            Column("凭证号", "number"),
            Column("分录序号", "line_no"),
            Column("摘要", "memo"),
            Column("科目编码", "account_code"),
            Column("科目名称", "account_name"),
            Column("币别", "currency"),
            Column("汇率", "rate"),
            Column("原币金额", "amount", number=True),
            Column("借方金额", "debit", number=True),
            Column("贷方金额", "credit", number=True),
            Column("核算维度-客户编码", "customer_code"),
            Column("核算维度-客户名称", "customer_name"),
            Column("核算维度-产品编码", "product_code"),
            Column("核算维度-产品名称", "product_name"),
            Column("制单人", "maker"),
            Column("附件数", "attachments"),
        ),
    )
)
register_format(
    VoucherFormat(
        key="kingdee_jdy",
        label=_("金蝶精斗云 凭证导入"),
        columns=(
            Column("日期", "date"),
            Column("凭证字", "word"),
            Column("凭证号", "number"),
            Column("附单据数", "attachments"),
            Column("摘要", "memo"),
            Column("科目编码", "account_code"),
            Column("科目名称", "account_name"),
            Column("借方金额", "debit", number=True),
            Column("贷方金额", "credit", number=True),
            Column("客户", "customer_aux"),
            Column("项目", "product_aux"),
            Column("制单人", "maker"),
        ),
    )
)
register_format(
    VoucherFormat(
        key="yonyou_u8",
        label=_("用友 U8 凭证引入"),
        columns=(
            Column("制单日期", "date"),
            Column("凭证类别字", "word"),
            Column("业务号", "number"),
            Column("附单据数", "attachments"),
            Column("摘要", "memo"),
            Column("科目编码", "account_code"),
            Column("金额借方", "debit", number=True),
            Column("金额贷方", "credit", number=True),
            Column("数量", "quantity"),
            Column("外币金额", "foreign"),
            Column("汇率", "rate"),
            Column("制单人", "maker"),
            Column("结算方式", "settlement"),
            Column("票号", "note_no"),
            Column("发生日期", "date"),
            Column("部门编码", "dept_code"),
            Column("个人编码", "person_code"),
            Column("客户编码", "customer_code"),
            Column("供应商编码", "supplier_code"),
            Column("业务员", "salesman"),
            Column("项目编码", "product_code"),
        ),
    )
)
register_format(
    VoucherFormat(
        key="yonyou_tplus",
        label=_("用友畅捷通 T+ 凭证导入"),
        columns=(
            Column("凭证日期", "date"),
            Column("凭证类别", "word"),
            Column("凭证号", "number"),
            Column("附单据数", "attachments"),
            Column("摘要", "memo"),
            Column("科目编码", "account_code"),
            Column("科目名称", "account_name"),
            Column("借方金额", "debit", number=True),
            Column("贷方金额", "credit", number=True),
            Column("往来单位编码", "customer_code"),
            Column("往来单位名称", "customer_name"),
            Column("项目编码", "product_code"),
            Column("项目名称", "product_name"),
            Column("制单人", "maker"),
        ),
    )
)


def customer_code(customer_id: int | None) -> str:
    """The customer's code in the GL's 客户 auxiliary list (assumption: ``C`` + 8 digits)."""
    return f"C{customer_id:08d}" if customer_id else ""


def account_codes(system: str) -> dict[int, tuple[str, str]]:
    """account id → (code, name) for ``system``."""
    maps = {m.account_id: (m.code, m.name) for m in VoucherAccountMap.objects.filter(system=system)}
    out = {}
    for acc in LedgerAccount.objects.all():
        code, name = maps.get(acc.pk, ("", ""))
        out[acc.pk] = (code or acc.export_code or acc.code, name or acc.name)
    return out


def _yuan(f: int) -> Decimal:
    return (Decimal(f) / 100).quantize(Decimal("0.01"))


def _line(
    fmt_zero: bool,
    *,
    date: dt.date,
    number: int,
    line_no: int,
    memo: str,
    code: str,
    name: str,
    debit: int,
    credit: int,
    customer: tuple[str, str],
    product: tuple[str, str],
) -> dict[str, Any]:
    zero: Any = Decimal("0.00") if fmt_zero else None
    return {
        "date": date.isoformat(),
        "year": date.year,
        "period": date.month,
        "word": VOUCHER_WORD,
        "number": number,
        "line_no": line_no,
        "memo": memo,
        "account_code": code,
        "account_name": name,
        "currency": "人民币",
        "rate": 1,
        "amount": _yuan(debit or credit),
        "debit": _yuan(debit) if debit else zero,
        "credit": _yuan(credit) if credit else zero,
        "customer_code": customer[0],
        "customer_name": customer[1],
        "customer_aux": f"{customer[0]} {customer[1]}".strip(),
        "product_code": product[0],
        "product_name": product[1],
        "product_aux": f"{product[0]} {product[1]}".strip(),
        "maker": MAKER,
        "attachments": 0,
    }


def voucher_lines(
    system: str, date_from: dt.date, date_to: dt.date, *, mode: str = DETAILED
) -> Iterator[dict[str, Any]]:
    """The voucher lines of ``date_from``–``date_to`` in ``system``'s codes, in a fixed order."""
    fmt = FORMATS[system]
    codes = account_codes(system)
    lines = JournalLine.objects.filter(
        entry__business_date__gte=date_from, entry__business_date__lte=date_to
    )
    number = 0
    if mode == SUMMARY:
        rows = (
            lines.values(
                "entry__business_date",
                "account_id",
                "loan__product_version__product__code",
                "loan__product_version__product__name",
                "entry__product__code",
                "entry__product__name",
            )
            .annotate(d=Sum("debit"), c=Sum("credit"))
            .order_by()
        )
        by_day: dict[dt.date, list[dict[str, Any]]] = {}
        for row in rows:
            by_day.setdefault(row["entry__business_date"], []).append(dict(row))
        for day in sorted(by_day):
            number += 1
            parts: list[tuple[tuple[str, str, int], str, int, int, tuple[str, str]]] = []
            for r in by_day[day]:
                code, name = codes[r["account_id"]]
                # a portfolio line (accrual, provision) names its product on the entry
                product = (
                    r["loan__product_version__product__code"] or r["entry__product__code"] or "",
                    r["loan__product_version__product__name"] or r["entry__product__name"] or "",
                )
                d, c = fen(r["d"]), fen(r["c"])
                if d:
                    parts.append(((code, product[0], 0), name, d, 0, product))
                if c:
                    parts.append(((code, product[0], 1), name, 0, c, product))
            parts.sort(key=lambda p: p[0])
            for i, (key, name, d, c, product) in enumerate(parts, start=1):
                yield _line(
                    fmt.zero_other_side,
                    date=day,
                    number=number,
                    line_no=i,
                    memo=f"{day.isoformat()} 贷款业务汇总",
                    code=key[0],
                    name=name,
                    debit=d,
                    credit=c,
                    customer=("", ""),
                    product=product,
                )
        return
    qs = (
        lines.select_related(
            "entry",
            "entry__product",
            "loan",
            "loan__customer",
            "loan__product_version__product",
        )
        .only(
            "id",
            "account_id",
            "debit",
            "credit",
            "entry__id",
            "entry__business_date",
            "entry__memo",
            "entry__kind",
            "entry__product__code",
            "entry__product__name",
            "loan__number",
            "loan__customer__id",
            "loan__customer__name",
            "loan__product_version__product__code",
            "loan__product_version__product__name",
        )
        .order_by("entry__business_date", "entry_id", "id")
    )
    current = None
    line_no = 0
    for line in qs.iterator(chunk_size=5000):
        if line.entry_id != current:
            current = line.entry_id
            number += 1
            line_no = 0
        line_no += 1
        code, name = codes[line.account_id]
        entry = line.entry
        loan = line.loan
        prod = loan.product_version.product if loan is not None else entry.product
        yield _line(
            fmt.zero_other_side,
            date=entry.business_date,
            number=number,
            line_no=line_no,
            memo=(entry.memo or entry.get_kind_display())[:60],
            code=code,
            name=name,
            debit=line.debit.fen,
            credit=line.credit.fen,
            customer=(customer_code(loan.customer.pk), loan.customer.name) if loan else ("", ""),
            product=(prod.code, prod.name) if prod is not None else ("", ""),
        )


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _reproducible(data: bytes) -> bytes:
    """The same workbook with every zip entry stamped ``FIXED_TIME`` (openpyxl stamps the
    current time, which made two exports of the same period differ)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps "modified" with the time of saving, whatever was set
                data = _MODIFIED.sub(
                    rb"\g<1>" + FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>",
                    data,
                )
            dst.writestr(fixed, data)
    return out.getvalue()


def fixed_workbook() -> Any:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    wb.properties.creator = MAKER
    wb.properties.lastModifiedBy = MAKER
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    return wb


def reproducible_bytes(wb: Any) -> bytes:
    wb.properties.modified = FIXED_TIME
    return _reproducible(workbook_bytes(wb))


def voucher_xlsx(system: str, month: dt.date, *, mode: str = DETAILED) -> bytes:
    """The period's vouchers as one sheet in ``system``'s import layout."""
    fmt = FORMATS[system]
    month = month_start(month)
    wb = fixed_workbook()
    ws = wb.create_sheet(fmt.sheet)
    append(ws, [c.header for c in fmt.columns])
    formats = ["0.00" if c.number else "" for c in fmt.columns]
    lines = voucher_lines(system, month, month_end(month), mode=mode)
    for count, line in enumerate(lines, start=1):
        if count > XLSX_MAX_ROWS:
            raise ValueError(
                "more voucher lines than an Excel sheet holds: export summarised vouchers"
            )
        append(ws, [line.get(c.key, "") for c in fmt.columns], number_formats=formats)
    return reproducible_bytes(wb)


def voucher_layout_csv(system: str, month: dt.date, *, mode: str = DETAILED) -> str:
    """The same layout as CSV (UTF-8 with BOM)."""
    fmt = FORMATS[system]
    month = month_start(month)
    rows = (
        [_csv_cell(line.get(c.key, "")) for c in fmt.columns]
        for line in voucher_lines(system, month, month_end(month), mode=mode)
    )
    return csv_text(rows, header=[c.header for c in fmt.columns], bom=True)


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    return str(value) if isinstance(value, Decimal) else value


def file_name(system: str, month: dt.date, mode: str, ext: str = "xlsx") -> str:
    return f"vouchers-{system}-{month.strftime('%Y-%m')}-{mode}.{ext}"
