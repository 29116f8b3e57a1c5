"""Writes of the credit-reporting app (征信报送): generate a month's submission after its close,
approve it (a second person), export it through a writer, mark it 已报送 or withdraw it, and
queue corrections / deletions when a replay changed a month already reported. Each write is
one transaction, permission-checked and audited."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from credo.core import clock, fsm
from credo.core.audit.services import audit_record
from credo.creditreport import compute
from credo.creditreport.build import build_month
from credo.creditreport.errors import InvalidInput, InvalidState, NotPermitted
from credo.creditreport.models import CreditRecord, Submission, SubmissionFile
from credo.creditreport.validation import validate_record
from credo.lending.models import Restructuring

log = logging.getLogger(__name__)

MANAGE = "creditreport.manage"
S = Submission.Status
K = CreditRecord.Kind
LIVE = (S.DRAFT, S.APPROVED, S.SUBMITTED)
REPORTED = (S.APPROVED, S.SUBMITTED)
RECORD_FIELDS = (
    "loan_id",
    "customer_id",
    "month",
    "borrower_name",
    "id_type",
    "id_number",
    "account_number",
    "open_date",
    "maturity_date",
    "amount",
    "currency",
    "repayment_method",
    "repayment_frequency",
    "guarantee_type",
    "balance",
    "five_class",
    "overdue_periods",
    "overdue_amount",
    "overdue_principal",
    "overdue_days",
    "due_in_month",
    "status_string",
    "account_status",
    "closed_on",
    "events",
    "ledger_balance",
    "fingerprint",
)


def _require(actor: Any) -> None:
    if actor is not None and not actor.has_perm(MANAGE):
        raise NotPermitted("没有征信报送的权限。")


def parse_month(text: str) -> dt.date:
    """``YYYY-MM`` → the first day of that month."""
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", (text or "").strip())
    if m is None or not 1 <= int(m.group(2)) <= 12:
        raise InvalidInput(f"月份格式应为 YYYY-MM，收到：{text!r}")
    return dt.date(int(m.group(1)), int(m.group(2)), 1)


def month_closed(month: dt.date) -> bool:
    from credo.lending.books.models import AccountingPeriod

    return AccountingPeriod.objects.filter(
        month=month, status=AccountingPeriod.Status.CLOSED
    ).exists()


def _record(row: dict[str, Any], **extra: Any) -> CreditRecord:
    return CreditRecord(**{k: row.get(k) for k in RECORD_FIELDS}, **extra)


def _as_row(record: CreditRecord) -> dict[str, Any]:
    return {k: getattr(record, k) for k in RECORD_FIELDS}


# --- generation ------------------------------------------------------------------------------
@transaction.atomic
def submission_generate(*, month: dt.date, actor: Any, today: dt.date | None = None) -> Submission:
    """生成: the month's records (one per loan account open at any point of the month, as of
    the month end), validated, plus every correction and deletion queued since the last
    submission. The month must be closed (结账). A draft of the month is withdrawn and
    regenerated; an approved or submitted month is corrected, never regenerated."""
    _require(actor)
    month = month.replace(day=1)
    if not month_closed(month):
        raise InvalidState(f"会计期间 {month:%Y-%m} 尚未结账，结账后才能生成征信报送数据。")
    live = Submission.objects.select_for_update().filter(month=month, status__in=LIVE).first()
    if live is not None and live.status != S.DRAFT:
        raise InvalidState(
            f"{month:%Y-%m} 的报送批次已{live.get_status_display()}，不能重新生成；"
            "账务变化会自动生成更正记录。"
        )
    if live is not None:
        _withdraw(live, actor=actor, reason="重新生成")
    started = time.perf_counter()
    built = build_month(month)
    today = today or clock.today()
    submission = Submission.objects.create(month=month, generated_by=actor)
    errors = 0
    for row in built.rows:
        row["errors"] = validate_record(row, today=today)
        errors += bool(row["errors"])
    _insert_monthly(submission, built.rows)
    queued = CreditRecord.objects.filter(submission__isnull=True)
    corrections = queued.filter(kind=K.CORRECTION).count()
    deletions = queued.filter(kind=K.DELETION).count()
    errors += queued.exclude(errors=[]).count()
    queued.update(submission=submission)
    submission.counts = {
        "records": len(built.rows),
        "corrections": corrections,
        "deletions": deletions,
        "errors": errors,
        "balance": sum(r["balance"] for r in built.rows),
        "overdue": sum(1 for r in built.rows if r["overdue_periods"]),
    }
    submission.seconds = round(time.perf_counter() - started, 3)
    submission.save(update_fields=["counts", "seconds"])
    audit_record(
        action="creditreport.generate",
        actor=actor,
        obj=submission,
        metadata={"month": submission.label, **submission.counts},
    )
    return submission


def _insert_monthly(submission: Submission, rows: list[dict[str, Any]]) -> None:
    """Insert the month's records: ``COPY`` on PostgreSQL (a book's worth of rows through
    Django's ``bulk_create`` costs more than computing them), ``bulk_create`` elsewhere. The
    identity number is encrypted exactly as the model field does."""
    if connection.vendor != "postgresql":
        CreditRecord.objects.bulk_create(
            [_record(r, submission=submission, kind=K.MONTHLY, errors=r["errors"]) for r in rows],
            batch_size=2000,
        )
        return
    id_field = CreditRecord._meta.get_field("id_number")
    plain = [f for f in RECORD_FIELDS if f not in ("id_number", "events")]
    order = [*plain, "id_number", "events", "errors"]
    columns = ", ".join(str(getattr(CreditRecord._meta.get_field(f), "column", f)) for f in order)
    columns += ", submission_id, kind, changed, created_at"
    tail = (submission.pk, K.MONTHLY.value, "[]", timezone.now())

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False) if value else "[]"

    with (
        connection.cursor() as cur,
        cur.cursor.copy(f"COPY {CreditRecord._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for r in rows:
            copy.write_row(
                (
                    *[r[f] for f in plain],
                    id_field.get_prep_value(r["id_number"]),
                    dump(r["events"]),
                    dump(r["errors"]),
                    *tail,
                )
            )


def _withdraw(submission: Submission, *, actor: Any, reason: str) -> None:
    """作废 a draft or approved submission: its monthly records go (they were never reported),
    its corrections and deletions are queued again for the next submission."""
    submission.records.filter(kind=K.MONTHLY).delete()
    submission.records.update(submission=None)
    submission.note = reason[:300]
    fsm.transition(
        submission,
        S.CANCELLED,
        actor=actor,
        action="creditreport.cancel",
        update_fields=["note"],
        metadata={"month": submission.label, "reason": reason},
    )


@transaction.atomic
def submission_cancel(*, submission: Submission, actor: Any, reason: str) -> Submission:
    _require(actor)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写作废原因。")
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    if submission.status not in (S.DRAFT, S.APPROVED):
        raise InvalidState(f"报送批次{submission.get_status_display()}，不能作废。")
    _withdraw(submission, actor=actor, reason=reason)
    return submission


@transaction.atomic
def submission_approve(*, submission: Submission, actor: Any) -> Submission:
    """审核: by someone other than the person who generated it, with no validation errors."""
    _require(actor)
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    if submission.status != S.DRAFT:
        raise InvalidState(f"报送批次{submission.get_status_display()}，不能审核。")
    if actor is not None and submission.generated_by_id == actor.pk:
        raise NotPermitted("征信报送数据须由生成人以外的第二人审核。")
    bad = submission.records.exclude(errors=[]).count()
    if bad:
        raise InvalidState(f"还有 {bad} 条记录未通过校验，请先处理错误报告中的问题。")
    submission.approved_by = actor
    submission.approved_at = timezone.now()
    fsm.transition(
        submission,
        S.APPROVED,
        actor=actor,
        action="creditreport.approve",
        update_fields=["approved_by", "approved_at"],
        metadata={"month": submission.label},
    )
    return submission


@transaction.atomic
def submission_mark_submitted(*, submission: Submission, actor: Any, note: str = "") -> Submission:
    """已报送: the file was accepted by the credit reference system."""
    _require(actor)
    submission = Submission.objects.select_for_update().get(pk=submission.pk)
    if submission.status != S.APPROVED:
        raise InvalidState("只有已审核的报送批次才能标记为已报送。")
    if not submission.files.exists():
        raise InvalidState("请先导出报送文件。")
    submission.submitted_by = actor
    submission.submitted_at = timezone.now()
    submission.note = (note or submission.note)[:300]
    fsm.transition(
        submission,
        S.SUBMITTED,
        actor=actor,
        action="creditreport.submit",
        update_fields=["submitted_by", "submitted_at", "note"],
        metadata={"month": submission.label, "note": note},
    )
    return submission


# --- files -----------------------------------------------------------------------------------
def file_root() -> Path:
    """Generated files live with the other documents (backed up with them), never served."""
    from credo.core.backup.files import document_roots

    root = document_roots()["documents"] / "creditreport"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


def file_path(f: SubmissionFile) -> Path:
    return file_root() / f.stored_name


@transaction.atomic
def submission_export(
    *, submission: Submission, writer: str, encoding: str = "", actor: Any
) -> SubmissionFile:
    """导出: the submission's records through the writer ``writer`` (see
    :mod:`credo.creditreport.writers`), stored under the document root."""
    from credo.creditreport.writers import get_writer

    _require(actor)
    w = get_writer(writer)
    encoding = (encoding or w.encodings[0]).lower()
    if encoding not in w.encodings:
        raise InvalidInput(
            f"格式 {w.label} 不支持编码 {encoding}（可选：{'、'.join(w.encodings)}）。"
        )
    if submission.status == S.CANCELLED:
        raise InvalidState("已作废的报送批次不能导出。")
    records = submission.records.order_by("kind", "id")
    data = w.write(submission, records, encoding)
    stored = f"{submission.month:%Y%m}-{submission.pk}-{uuid.uuid4().hex[:12]}.{w.extension}"
    path = file_root() / stored
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    suffix = f"-{encoding}" if len(w.encodings) > 1 else ""
    f = SubmissionFile.objects.create(
        submission=submission,
        writer=w.key,
        encoding=encoding if len(w.encodings) > 1 else "",
        file_name=f"credit-report-{submission.month:%Y-%m}-{submission.pk}{suffix}.{w.extension}",
        stored_name=stored,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        created_by=actor,
    )
    audit_record(
        action="creditreport.export",
        actor=actor,
        obj=submission,
        metadata={"file": f.file_name, "writer": w.key, "encoding": encoding, "size": f.size},
    )
    return f


def file_read(*, f: SubmissionFile, actor: Any) -> bytes:
    """The file's bytes for a download (audited: it holds identity numbers in clear)."""
    _require(actor)
    data = file_path(f).read_bytes()
    audit_record(
        action="creditreport.download",
        actor=actor,
        obj=f.submission,
        metadata={"file": f.file_name, "sha256": f.sha256},
    )
    return data


# --- corrections -----------------------------------------------------------------------------
def _baseline(loan_id: int, month: dt.date) -> CreditRecord | None:
    """The latest record of (loan, month) that counts: in a live submission or queued."""
    return (
        CreditRecord.objects.filter(loan_id=loan_id, month=month)
        .filter(submission__isnull=True)
        .order_by("-id")
        .first()
        or CreditRecord.objects.filter(loan_id=loan_id, month=month, submission__status__in=LIVE)
        .order_by("-id")
        .first()
    )


@transaction.atomic
def corrections_for_loans(
    *, loan_ids: Iterable[int], actor: Any = None, today: dt.date | None = None
) -> dict[str, int]:
    """Regenerate every reported month of the loans and compare with what was reported: a
    record in a draft is refreshed in place; one already approved or submitted gets a queued
    更正 record (the changed fields named), or a 删除 record when the account should not have
    been reported for that month. Queued records go out with the next submission."""
    _require(actor)
    loan_ids = list(loan_ids)
    today = today or clock.today()
    counts = {"checked": 0, "refreshed": 0, "corrections": 0, "deletions": 0}
    pairs = (
        CreditRecord.objects.filter(loan_id__in=loan_ids)
        .exclude(submission__status=S.CANCELLED)
        .values_list("loan_id", "month")
        .distinct()
        .order_by("month", "loan_id")
    )
    # a replay never reaches before an executed restructuring (展期/重组 is a new agreement on
    # that day's balance, whose closed rows no longer carry the old arrears): months before it
    # stay as reported
    barrier: dict[int, dt.date] = {}
    for lid, day in Restructuring.objects.filter(
        loan_id__in=loan_ids, status=Restructuring.Status.EXECUTED, executed_on__isnull=False
    ).values_list("loan_id", "executed_on"):
        if day is not None:
            month = day.replace(day=1)
            barrier[lid] = max(barrier.get(lid, month), month)
    by_month: dict[dt.date, list[int]] = {}
    for lid, month in pairs:
        if lid in barrier and month < barrier[lid]:
            continue
        by_month.setdefault(month, []).append(lid)
    for month, lids in by_month.items():
        fresh = {r["loan_id"]: r for r in build_month(month, lids).rows}
        for lid in lids:
            base = _baseline(lid, month)
            if base is None or base.kind == K.DELETION:
                continue
            counts["checked"] += 1
            row = fresh.get(lid)
            if row is not None and row["fingerprint"] == base.fingerprint:
                continue
            old = _as_row(base)
            draft = base.submission if base.submission_id is not None else None
            if draft is not None and draft.status == S.DRAFT:
                if row is None:
                    base.delete()
                else:
                    for k in RECORD_FIELDS:
                        setattr(base, k, row[k])
                    base.errors = validate_record(row, today=today)
                    base.save()
                counts["refreshed"] += 1
                _refresh_counts(draft)
                continue
            if row is None:
                rec = _record(old, kind=K.DELETION, corrects=_origin(base), errors=[])
                counts["deletions"] += 1
            else:
                found = validate_record(row, check_ledger=False, today=today)
                rec = _record(
                    row,
                    kind=K.CORRECTION,
                    corrects=_origin(base),
                    errors=found,
                    changed=compute.changed_fields(old, row),
                )
                counts["corrections"] += 1
            if base.submission_id is None:  # a queued one is replaced, never stacked
                base.delete()
            rec.save()
            audit_record(
                action=f"creditreport.{rec.kind}",
                actor=actor,
                obj=rec,
                metadata={
                    "loan": rec.account_number,
                    "month": f"{month:%Y-%m}",
                    "changed": rec.changed,
                },
            )
    return counts


def _origin(record: CreditRecord) -> CreditRecord:
    """The reported record a queued correction stands for (never another queued one)."""
    return record.corrects if record.submission_id is None and record.corrects else record


def _refresh_counts(submission: Submission) -> None:
    recs = submission.records
    submission.counts = {
        **submission.counts,
        "records": recs.filter(kind=K.MONTHLY).count(),
        "errors": recs.exclude(errors=[]).count(),
    }
    submission.save(update_fields=["counts"])


def queued_records() -> Any:
    return CreditRecord.objects.filter(submission__isnull=True).select_related("loan")


# --- after the month-end close ---------------------------------------------------------------
def auto_enabled() -> bool:
    return os.environ.get("CREDO_CREDITREPORT_AUTO", "1").strip().lower() not in (
        "0",
        "false",
        "no",
        "off",
    )


def generate_if_missing(*, month: dt.date, today: dt.date | None = None) -> dict[str, Any]:
    """Generate ``month`` (by the system) unless it has a live submission or is not closed."""
    month = month.replace(day=1)
    if not auto_enabled() or not month_closed(month):
        return {"generated": 0}
    if Submission.objects.filter(month=month, status__in=LIVE).exists():
        return {"generated": 0}
    sub = submission_generate(month=month, actor=None, today=today)
    return {"generated": 1, "records": sub.counts.get("records", 0), "errors": sub.error_count}


def auto_generate(*, today: dt.date | None = None) -> dict[str, Any]:
    """Generate the latest closed month when it has no live submission yet and is later than
    every month generated so far (the first run only takes the latest closed month, never the
    whole past). Called after each close of business; off with ``CREDO_CREDITREPORT_AUTO=0``."""
    from credo.lending.books.models import AccountingPeriod

    if not auto_enabled():
        return {"generated": 0}
    latest = (
        AccountingPeriod.objects.filter(status=AccountingPeriod.Status.CLOSED)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    if latest is None:
        return {"generated": 0}
    newest = (
        Submission.objects.exclude(status=S.CANCELLED)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    if newest is not None and newest >= latest:
        return {"generated": 0}
    return generate_if_missing(month=latest, today=today)
