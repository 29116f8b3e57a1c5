"""Bank statement import (银行流水导入) and repayment matching: the services.

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

import re
from pathlib import PurePath
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from credo.core import fsm
from credo.core.audit.services import audit_record
from credo.core.crypto import blind_index
from credo.core.money import Money
from credo.lending import services
from credo.lending.errors import InvalidLoan, InvalidState, LendingError
from credo.lending.models import Loan, StatementImport, StatementLine
from credo.lending.statements.reading import StatementFileError, parse_statement
from credo.lending.states import LOAN_OPEN_STATES

LOAN_NUMBER = re.compile(r"L\d{12,}", re.IGNORECASE)


def match_line(line: StatementLine) -> None:
    """Set ``loan``, ``status`` and ``match_reason`` of an unsaved or unmatched line."""
    numbers = [n.upper() for n in LOAN_NUMBER.findall(line.reference or "")]
    if numbers:
        loan = Loan.objects.filter(number__in=numbers).first()
        if loan is not None:
            if loan.status in LOAN_OPEN_STATES:
                _matched(line, loan, _("贷款编号"))
                return
            line.match_reason = _("贷款 %(n)s 非还款中状态") % {"n": loan.number}
    if line.payer_account:
        index = blind_index(line.payer_account, kind="bank_account")
        loans = (
            list(
                Loan.objects.filter(customer__bank_account_bidx=index, status__in=LOAN_OPEN_STATES)[
                    :2
                ]
            )
            if index
            else []
        )
        if len(loans) == 1:
            _matched(line, loans[0], _("付款账号"))
            return
        if len(loans) > 1 and not line.match_reason:
            line.match_reason = _("付款账号对应多笔贷款")
    if line.payer_name:
        loans = list(
            Loan.objects.filter(customer__name=line.payer_name, status__in=LOAN_OPEN_STATES)[:2]
        )
        if len(loans) == 1:
            _matched(line, loans[0], _("户名"))
            return
        if len(loans) > 1 and not line.match_reason:
            line.match_reason = _("户名对应多笔贷款")
    fsm.transition(line, StatementLine.Status.UNMATCHED, save=False, allow_same=True)


def _matched(line: StatementLine, loan: Loan, reason: str) -> None:
    line.loan, line.match_reason = loan, reason
    fsm.transition(line, StatementLine.Status.MATCHED, save=False, allow_same=True)


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
            line.match_reason = _("重复流水")
            fsm.transition(line, StatementLine.Status.IGNORED, save=False)
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
    if loan.status not in LOAN_OPEN_STATES:
        raise InvalidState(
            _("贷款 %(n)s 状态为“%(s)s”，不能登记还款。")
            % {"n": loan.number, "s": loan.get_status_display()}
        )
    before = line.loan.number if line.loan else None
    line.loan, line.match_reason = loan, _("手工匹配")
    fsm.transition(
        line, StatementLine.Status.MATCHED, update_fields=("loan", "match_reason"), allow_same=True
    )
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
    line.match_reason = _("手工忽略")
    fsm.transition(
        line, StatementLine.Status.IGNORED, update_fields=("match_reason",), allow_same=True
    )
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
            line.match_reason = _("重复流水")
            fsm.transition(line, StatementLine.Status.IGNORED, update_fields=("match_reason",))
        else:
            line.posting = posting
            fsm.transition(line, StatementLine.Status.POSTED, update_fields=("posting",))
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
