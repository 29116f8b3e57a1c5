"""Bank statement import (银行流水导入) and repayment matching.

A CSV (UTF-8 / GBK) or .xlsx export of the lender's collection account is read into a
``StatementImport`` with one ``StatementLine`` per credit line. Matching, in order:

1. a loan number (``L`` + 12 or more digits) found in 摘要/附言 → matched, reason "贷款编号";
2. payer account (对方账号) equal to a customer's bank account with exactly one open loan →
   matched, reason "付款账号" (the account is stored encrypted; the lookup goes through its
   blind index, so no customer is decrypted);
3. payer name equal to a customer's name with exactly one open loan → matched, reason "户名";
4. otherwise the line stays unmatched, for manual matching.

A line whose 流水号 was already imported (and not ignored) is ignored as a duplicate. Posting
uses ``services.repayment_post(channel="statement", idempotency_key="stmt:<流水号 or line id>")``,
so posting twice never posts twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from credo.core.audit.services import audit_record
from credo.core.crypto import blind_index
from credo.core.money import Money
from credo.lending import services
from credo.lending.errors import InvalidLoan, InvalidState, LendingError
from credo.lending.models import Loan, StatementImport, StatementLine

COLUMNS: dict[str, tuple[str, ...]] = {
    "txn_date": ("交易日期", "日期", "记账日期", "交易时间", "入账日期"),
    "amount": ("贷方发生额", "贷方金额", "收入金额", "收入", "金额", "交易金额"),
    "payer_name": ("对方户名", "付款人", "付款人名称", "付款方户名", "对方名称"),
    "payer_account": ("对方账号", "付款账号", "付款人账号", "付款方账号"),
    "summary": ("摘要",),
    "note": ("附言", "用途", "备注", "摘要/附言"),
    "bank_txn_id": ("流水号", "交易流水号", "银行流水号", "凭证号"),
    "direction": ("借贷标志", "借贷方向", "收支标志", "收/支"),
}
CREDIT_FLAGS = ("贷", "收", "入", "C", "c")
LOAN_NUMBER = re.compile(r"L\d{12,}", re.IGNORECASE)
HEADER_SCAN_ROWS = 20


class StatementFileError(LendingError):
    code = "statement_file"


# --- reading -------------------------------------------------------------------------------------
def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise StatementFileError(_("无法识别 CSV 文件编码，请另存为 UTF-8 或 GBK。"))


def _table(data: bytes, filename: str) -> Iterator[tuple[Any, ...]]:
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".csv":
        return (tuple(r) for r in csv.reader(io.StringIO(_decode(data))))
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException …
            raise StatementFileError(_("无法读取 Excel 文件：%(err)s") % {"err": exc}) from None
        rows = [tuple(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        wb.close()
        return iter(rows)
    raise StatementFileError(_("只支持 .xlsx 或 .csv 文件。"))


def _header_map(row: Iterable[Any]) -> dict[str, int]:
    cells = [str(c).strip() if c is not None else "" for c in row]
    found: dict[str, int] = {}
    for key, aliases in COLUMNS.items():
        for alias in aliases:  # aliases in priority order (贷方发生额 before 金额)
            if alias in cells:
                found[key] = cells.index(alias)
                break
    return found


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if not text:
        return None
    text = text.split(" ")[0].split("T")[0].replace("/", "-").replace(".", "-")
    text = text.replace("年", "-").replace("月", "-").replace("日", "")
    try:
        if re.fullmatch(r"\d{8}", text):
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        y, m, d = (int(p) for p in text.split("-"))
        return dt.date(y, m, d)
    except ValueError:
        return None


def _parse_amount(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):  # openpyxl numbers: go through repr, never float arithmetic
        value = repr(value)
    text = str(value).strip().replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    return Money(amount).fen


def parse_statement(data: bytes, filename: str) -> tuple[list[dict[str, Any]], int]:
    """Rows of credit lines ``{row_number, txn_date, amount, payer_name, …}`` and the number of
    rows skipped (debits, blank or unreadable lines)."""
    rows = _table(data, filename)
    header: dict[str, int] = {}
    row_number = 0
    for row in rows:
        row_number += 1
        header = _header_map(row)
        if "txn_date" in header and "amount" in header:
            break
        if row_number >= HEADER_SCAN_ROWS:
            header = {}
            break
    if "txn_date" not in header or "amount" not in header:
        raise StatementFileError(_("未找到“交易日期”和“金额/贷方发生额”列标题。"))

    def cell(row: tuple[Any, ...], key: str) -> str:
        idx = header.get(key)
        if idx is None or idx >= len(row) or row[idx] is None:
            return ""
        return str(row[idx]).strip()

    lines: list[dict[str, Any]] = []
    skipped = 0
    for row in rows:
        row_number += 1
        if not any(c not in (None, "") for c in row):
            continue
        idx_d, idx_a = header["txn_date"], header["amount"]
        txn_date = _parse_date(row[idx_d] if idx_d < len(row) else None)
        amount = _parse_amount(row[idx_a] if idx_a < len(row) else None)
        direction = cell(row, "direction")
        is_debit = bool(direction) and not any(f in direction for f in CREDIT_FLAGS)
        if txn_date is None or amount is None or amount <= 0 or is_debit:
            skipped += 1
            continue
        reference = " ".join(p for p in (cell(row, "summary"), cell(row, "note")) if p)
        lines.append(
            {
                "row_number": row_number,
                "txn_date": txn_date,
                "amount": amount,
                "payer_name": cell(row, "payer_name")[:120],
                "payer_account": cell(row, "payer_account").replace(" ", "")[:40],
                "reference": reference[:200],
                "bank_txn_id": cell(row, "bank_txn_id")[:80],
            }
        )
    return lines, skipped


# --- matching ------------------------------------------------------------------------------------
def match_line(line: StatementLine) -> None:
    """Set ``loan``, ``status`` and ``match_reason`` of an unsaved or unmatched line."""
    numbers = [n.upper() for n in LOAN_NUMBER.findall(line.reference or "")]
    if numbers:
        loan = Loan.objects.filter(number__in=numbers).first()
        if loan is not None:
            if loan.status in services.OPEN_STATES:
                line.loan, line.status, line.match_reason = (
                    loan,
                    StatementLine.Status.MATCHED,
                    (_("贷款编号")),
                )
                return
            line.match_reason = _("贷款 %(n)s 非还款中状态") % {"n": loan.number}
    if line.payer_account:
        index = blind_index(line.payer_account, kind="bank_account")
        loans = (
            list(
                Loan.objects.filter(
                    customer__bank_account_bidx=index, status__in=services.OPEN_STATES
                )[:2]
            )
            if index
            else []
        )
        if len(loans) == 1:
            line.loan, line.status, line.match_reason = (
                loans[0],
                StatementLine.Status.MATCHED,
                (_("付款账号")),
            )
            return
        if len(loans) > 1 and not line.match_reason:
            line.match_reason = _("付款账号对应多笔贷款")
    if line.payer_name:
        loans = list(
            Loan.objects.filter(customer__name=line.payer_name, status__in=services.OPEN_STATES)[:2]
        )
        if len(loans) == 1:
            line.loan, line.status, line.match_reason = (
                loans[0],
                StatementLine.Status.MATCHED,
                (_("户名")),
            )
            return
        if len(loans) > 1 and not line.match_reason:
            line.match_reason = _("户名对应多笔贷款")
    line.status = StatementLine.Status.UNMATCHED


def _recount(statement: StatementImport) -> dict[str, int]:
    counts = {s: 0 for s in StatementLine.Status.values}
    for status in statement.lines.values_list("status", flat=True):
        counts[status] += 1
    counts["total"] = sum(counts.values())
    counts["skipped"] = int((statement.counts or {}).get("skipped", 0))
    statement.counts = counts
    statement.save(update_fields=["counts"])
    return counts


@transaction.atomic
def statement_import(*, data: bytes, filename: str, actor: Any) -> StatementImport:
    """Read a statement file, store its credit lines and match them."""
    rows, skipped = parse_statement(data, filename)
    if not rows:
        raise StatementFileError(_("文件中没有可入账的贷方流水。"))
    statement = StatementImport.objects.create(
        file_name=PurePath(filename).name[:200], uploaded_by=actor, counts={"skipped": skipped}
    )
    seen: set[str] = set()
    known = set(
        StatementLine.objects.filter(
            bank_txn_id__in=[r["bank_txn_id"] for r in rows if r["bank_txn_id"]]
        )
        .exclude(status=StatementLine.Status.IGNORED)
        .values_list("bank_txn_id", flat=True)
    )
    lines = []
    for row in rows:
        line = StatementLine(
            statement=statement, **{**row, "amount": Money.from_fen(row["amount"])}
        )
        txn = row["bank_txn_id"]
        if txn and (txn in known or txn in seen):
            line.status, line.match_reason = StatementLine.Status.IGNORED, _("重复流水")
        else:
            match_line(line)
        if txn:
            seen.add(txn)
        lines.append(line)
    StatementLine.objects.bulk_create(lines)
    counts = _recount(statement)
    audit_record(
        action="statement.import",
        actor=actor,
        obj=statement,
        metadata={"file_name": statement.file_name, **counts},
    )
    return statement


# --- manual work on lines ------------------------------------------------------------------------
@transaction.atomic
def line_match(*, line: StatementLine, loan: Loan, actor: Any) -> StatementLine:
    """Manual match (手工匹配) of an unmatched or matched line to an open loan."""
    line = StatementLine.objects.select_for_update().get(pk=line.pk)
    if line.status not in (StatementLine.Status.UNMATCHED, StatementLine.Status.MATCHED):
        raise InvalidState(_("该流水已入账或已忽略，不能再匹配。"))
    if loan.status not in services.OPEN_STATES:
        raise InvalidState(
            _("贷款 %(n)s 状态为“%(s)s”，不能登记还款。")
            % {"n": loan.number, "s": loan.get_status_display()}
        )
    before = line.loan.number if line.loan else None
    line.loan, line.status, line.match_reason = loan, StatementLine.Status.MATCHED, _("手工匹配")
    line.save(update_fields=["loan", "status", "match_reason"])
    audit_record(
        action="statement.match",
        actor=actor,
        obj=line.statement,
        changes={"loan": [before, loan.number]},
        metadata={"line": line.pk, "row": line.row_number},
    )
    _recount(line.statement)
    return line


@transaction.atomic
def line_ignore(*, line: StatementLine, actor: Any) -> StatementLine:
    line = StatementLine.objects.select_for_update().get(pk=line.pk)
    if line.status == StatementLine.Status.POSTED:
        raise InvalidState(_("已入账的流水不能忽略。"))
    before = line.status
    line.status, line.match_reason = StatementLine.Status.IGNORED, _("手工忽略")
    line.save(update_fields=["status", "match_reason"])
    audit_record(
        action="statement.ignore",
        actor=actor,
        obj=line.statement,
        changes={"status": [before, line.status]},
        metadata={"line": line.pk, "row": line.row_number},
    )
    _recount(line.statement)
    return line


def line_post(*, line: StatementLine, actor: Any) -> StatementLine:
    """Post one matched line as a repayment (idempotent by 流水号 / line id)."""
    with transaction.atomic():
        line = (
            StatementLine.objects.select_for_update(of=("self",))
            .select_related("loan")
            .get(pk=line.pk)
        )
        if line.status == StatementLine.Status.POSTED:
            return line
        if line.status != StatementLine.Status.MATCHED or line.loan is None:
            raise InvalidState(_("只有已匹配的流水可以入账。"))
        key = f"stmt:{line.bank_txn_id}" if line.bank_txn_id else f"stmt:line{line.pk}"
        posting = services.repayment_post(
            loan=line.loan,
            amount=line.amount,
            received_on=line.txn_date,
            actor=actor,
            channel="statement",
            reference=(line.bank_txn_id or line.reference)[:80],
            idempotency_key=key,
        )
        if StatementLine.objects.filter(posting=posting).exclude(pk=line.pk).exists():
            line.status, line.match_reason = StatementLine.Status.IGNORED, _("重复流水")
            line.save(update_fields=["status", "match_reason"])
        else:
            line.posting, line.status = posting, StatementLine.Status.POSTED
            line.save(update_fields=["posting", "status"])
    return line


def post_matched(*, statement: StatementImport, actor: Any) -> dict[str, Any]:
    """入账: post every matched line; a failing line stays matched with its error reported."""
    posted = 0
    errors: list[dict[str, Any]] = []
    for line in statement.lines.filter(status=StatementLine.Status.MATCHED).order_by("row_number"):
        try:
            line_post(line=line, actor=actor)
            posted += 1
        except (InvalidLoan, InvalidState, LendingError) as exc:
            errors.append({"row": line.row_number, "message": exc.message})
    with transaction.atomic():
        counts = _recount(statement)
        audit_record(
            action="statement.post",
            actor=actor,
            obj=statement,
            metadata={"posted": posted, "errors": errors, **counts},
        )
    return {"posted": posted, "errors": errors, "counts": counts}
