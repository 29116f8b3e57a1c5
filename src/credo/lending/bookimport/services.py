"""Book migration (存量贷款迁移): check a workbook, create its customers and loans, post its
repayments in value-date order, catch the loans up to the as-of date, reconcile.

All-or-nothing: every row is checked first (cells in :mod:`.reading`, cross-row and database
checks here); any error or conflict → nothing is written. The write runs in ONE transaction; a
dry run (预览) runs the very same write and rolls it back, so the preview's reconciliation is
exactly what the import would give.

Idempotent: each imported loan keeps the canonical form of its rows (:class:`BookImportLoan`);
a re-import of the same rows is "unchanged", a row that differs is a conflict.

Why not ``loan_create_direct`` + ``loan_disburse`` per loan: those enforce maker-checker, the
product's ranges, the customer's credit limit and the back-dating window — rules for a NEW
loan, not for a book that already exists elsewhere — and cost ~30 queries per loan. This
module writes the same rows (loan with the product version's terms copied, the schedule from
:func:`credo.lending.schedule.generate`, the disbursement entry debit ``loan_principal`` /
credit ``cash`` dated the disbursement date) in bulk, with one audit entry per import.
Repayments go through the repayment service and the close-of-business code (or the replay
service when present), so allocation, penalty, DPD, status and classification come from the
code every other loan uses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from credo.core import clock
from credo.core.audit.refusals import refuse
from credo.core.audit.services import audit_record
from credo.core.crypto import blind_index
from credo.core.money import Money
from credo.customers.events import record_events_bulk
from credo.customers.models import Customer
from credo.customers.profile import clean_profile
from credo.lending.bookimport.reading import (
    LOAN_COLUMNS,
    REPAYMENT_COLUMNS,
    BookError,
    BookFile,
    LoanRow,
    RepaymentRow,
    read_book,
)
from credo.lending.errors import InvalidLoan, LendingError, NotPermitted
from credo.lending.models import (
    DEFAULT_ALLOCATION,
    BookImport,
    BookImportLoan,
    Installment,
    JournalEntry,
    JournalLine,
    Loan,
    Method,
    Product,
    ProductVersion,
    owed_expression,
)
from credo.lending.schedule import Schedule, ScheduleError, fen_to_str, generate

IMPORT_PERMS = ("lending.import_book", "lending.create_loan_directly")
MIGRATION_PRODUCT = "book-migration"
MIGRATION_PRODUCT_NAME = "存量迁移"  # data, not a UI string: the product's name in every language
CHUNK = 2000
# servicing conventions copied from the product version when the models carry them
POLICY_FIELDS = ("compound_interest", "penalty_from", "holiday_rule")


# --- permission ---------------------------------------------------------------------------------
def may_import(actor: Any) -> bool:
    return actor is not None and any(actor.has_perm(p) for p in IMPORT_PERMS)


def require_import(actor: Any) -> None:
    """导入存量贷款 needs ``lending.import_book`` (or ``lending.create_loan_directly``: the
    migration creates loans outside origination). A refusal is audited and changes nothing."""
    if may_import(actor):
        return
    refuse(
        NotPermitted(_("没有导入存量贷款的权限。")),
        action="book.import_denied",
        actor=actor,
        metadata={"permissions": list(IMPORT_PERMS)},
    )


# --- result -------------------------------------------------------------------------------------
@dataclass
class ImportOutcome:
    """What an import (or its preview) did. ``status``: ``preview`` (dry run, would import),
    ``imported``, ``unchanged`` (every loan already imported with the same rows),
    ``invalid`` (row errors) or ``conflict`` (rows differ from what was imported)."""

    status: str
    dry_run: bool
    file_name: str
    sha256: str
    as_of: dt.date
    errors: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    reconciliation: dict[str, Any] = field(default_factory=dict)
    book_import_id: int | None = None
    catch_up: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("preview", "imported", "unchanged")

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "ok": self.ok,
            "dry_run": self.dry_run,
            "file_name": self.file_name,
            "sha256": self.sha256,
            "as_of": self.as_of.isoformat(),
            "counts": self.counts,
            "errors": self.errors,
            "conflicts": self.conflicts,
            "warnings": self.warnings,
            "reconciliation": self.reconciliation,
            "book_import_id": self.book_import_id,
            "catch_up": self.catch_up,
        }


class _DryRun(Exception):
    """Raised inside the write transaction of a dry run to roll it back."""


# --- the migration product ----------------------------------------------------------------------
def migration_version() -> ProductVersion:
    """The built-in 存量迁移 product's published version (created on first use): wide enough
    for any migrated loan, which keeps its own rate, term and method."""
    product, _created = Product.objects.get_or_create(
        code=MIGRATION_PRODUCT, defaults={"name": MIGRATION_PRODUCT_NAME, "is_active": False}
    )
    pv = product.versions.filter(status=ProductVersion.Status.PUBLISHED).first()
    if pv is None:
        number = (
            product.versions.order_by("-number").values_list("number", flat=True).first()
        ) or 0
        pv = ProductVersion.objects.create(  # type: ignore[misc]
            product=product,
            number=number + 1,
            status=ProductVersion.Status.PUBLISHED,
            min_amount=Money.from_fen(1),
            max_amount=Money.from_fen(10**15),
            min_months=1,
            max_months=600,
            min_rate=Decimal("0"),
            max_rate=Decimal("100"),
            method=Method.EQUAL_INSTALLMENT,
            penalty_multiplier=Decimal("1.5"),
            allocation_order=list(DEFAULT_ALLOCATION),
            published_at=timezone.now(),
        )
        audit_record(
            action="product.publish",
            obj=pv,
            metadata={"origin": "book_import", "product": MIGRATION_PRODUCT},
        )
    return pv


# --- checks -------------------------------------------------------------------------------------
@dataclass
class _Plan:
    """The checked file: what would be written."""

    loans: list[LoanRow]
    repayments: dict[str, list[RepaymentRow]]  # per loan number, in value-date order
    schedules: dict[str, Schedule]
    versions: dict[str, ProductVersion | None]  # product code → version (None: migration)
    new_loans: list[LoanRow] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    customers: dict[tuple[str, str], Customer | None] = field(default_factory=dict)
    new_customer_values: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    repayments_sheet: str = "repayments"


def canonical(row: LoanRow, repayments: list[RepaymentRow]) -> dict[str, Any]:
    """What a re-import compares: the loan's terms and its repayments (sorted, so the order
    of the rows in the file does not matter)."""
    return {**row.canonical(), "repayments": sorted(r.canonical() for r in repayments)}


def fingerprint(data: dict[str, Any]) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _value_order(reps: list[RepaymentRow]) -> list[RepaymentRow]:
    # value date first; the same day keeps the file's row order (a stable, documented rule)
    return sorted(reps, key=lambda r: (r.received_on, r.row))


def _unique_loans(
    book: BookFile, errors: list[BookError]
) -> tuple[list[LoanRow], dict[str, LoanRow]]:
    """The loans rows with their numbers unique; one identifier is one customer."""
    ls = book.loans_sheet
    col = {k: v[0] for k, v in LOAN_COLUMNS.items()}
    by_number: dict[str, LoanRow] = {}
    loans: list[LoanRow] = []
    for row in book.loans:
        first = by_number.get(row.loan_number)
        if first is not None:
            errors.append(
                BookError(
                    ls,
                    row.row,
                    col["loan_number"],
                    _("与第 %(r)s 行贷款编号重复。") % {"r": first.row},
                )
            )
            continue
        by_number[row.loan_number] = row
        loans.append(row)
    # the same customer on several rows must be the same customer
    people: dict[str, LoanRow] = {}
    for row in loans:
        first = people.get(row.id_number)
        if first is None:
            people[row.id_number] = row
        elif first.kind != row.kind or first.name != row.name:
            errors.append(
                BookError(
                    ls,
                    row.row,
                    col["customer_name"],
                    _("同一证件号码在第 %(r)s 行为“%(n)s”（%(k)s），与本行不一致。")
                    % {"r": first.row, "n": first.name, "k": _kind_label(first.kind)},
                )
            )
    return loans, by_number


def _check_repayments(
    book: BookFile, by_number: dict[str, LoanRow], as_of: dt.date, errors: list[BookError]
) -> dict[str, list[RepaymentRow]]:
    rs = book.repayments_sheet
    rcol = {k: v[0] for k, v in REPAYMENT_COLUMNS.items()}
    repayments: dict[str, list[RepaymentRow]] = defaultdict(list)
    for rep in book.repayments:
        loan = by_number.get(rep.loan_number)
        if loan is None:
            errors.append(
                BookError(
                    rs,
                    rep.row,
                    rcol["loan_number"],
                    _("贷款编号 %(n)s 不在 loans 表中。") % {"n": rep.loan_number},
                )
            )
            continue
        if rep.received_on < loan.disbursed_on:
            errors.append(
                BookError(
                    rs,
                    rep.row,
                    rcol["received_on"],
                    _("到账日期 %(d)s 早于放款日 %(s)s。")
                    % {"d": rep.received_on.isoformat(), "s": loan.disbursed_on.isoformat()},
                )
            )
            continue
        if rep.received_on > as_of:
            errors.append(
                BookError(
                    rs,
                    rep.row,
                    rcol["received_on"],
                    _("到账日期 %(d)s 晚于追溯日 %(a)s。")
                    % {"d": rep.received_on.isoformat(), "a": as_of.isoformat()},
                )
            )
            continue
        repayments[rep.loan_number].append(rep)
    return repayments


def _first_lpr_date() -> dt.date | None:
    """The earliest LPR effective date (an LPR-product loan needs one on or before its
    disbursement): one query per file, not one per row."""
    from credo.lending.models import LprRate

    return (
        LprRate.objects.order_by("effective_date").values_list("effective_date", flat=True).first()
    )


def _check(book: BookFile, as_of: dt.date, errors: list[BookError]) -> _Plan:
    ls, rs = book.loans_sheet, book.repayments_sheet
    col = {k: v[0] for k, v in LOAN_COLUMNS.items()}
    loans, by_number = _unique_loans(book, errors)
    versions: dict[str, ProductVersion | None] = {}
    codes = {r.product_code for r in loans if r.product_code}
    for product in Product.objects.filter(code__in=codes):
        versions[product.code] = product.published
    schedules: dict[str, Schedule] = {}
    today = clock.today()
    first_lpr = (
        _first_lpr_date()
        if any(pv is not None and pv.rate_type == "lpr" for pv in versions.values())
        else None
    )
    from credo.lending.products import check_terms

    for row in loans:
        if row.disbursed_on > as_of:
            errors.append(
                BookError(
                    ls,
                    row.row,
                    col["disbursed_on"],
                    _("放款日 %(d)s 晚于追溯日 %(a)s。")
                    % {"d": row.disbursed_on.isoformat(), "a": as_of.isoformat()},
                )
            )
            continue
        if row.disbursed_on > today:
            continue
        if row.product_code:
            pv = versions.get(row.product_code)
            if pv is None:
                errors.append(
                    BookError(
                        ls,
                        row.row,
                        col["product_code"],
                        _("产品代码 %(c)s 不存在或没有已发布的版本。") % {"c": row.product_code},
                    )
                )
                continue
            try:
                check_terms(
                    pv,
                    amount=Money.from_fen(row.principal),
                    months=row.months,
                    rate=row.annual_rate,
                    amount_label=_("放款金额"),
                )
            except LendingError as exc:
                errors.append(BookError(ls, row.row, col["principal"], exc.message))
                continue
            if pv.rate_type == "lpr" and (first_lpr is None or first_lpr > row.disbursed_on):
                # a floating loan records the LPR in force at disbursement (its spread and
                # the repricings after the migration follow the LPR table)
                errors.append(
                    BookError(
                        ls,
                        row.row,
                        col["product_code"],
                        _(
                            "产品 %(c)s 为 LPR 浮动利率：放款日 %(d)s 没有生效的 LPR，"
                            "请先在“LPR 利率”中补录历史报价。"
                        )
                        % {"c": row.product_code, "d": row.disbursed_on.isoformat()},
                    )
                )
                continue
        try:
            schedules[row.loan_number] = generate(
                principal=row.principal,
                annual_rate=row.annual_rate,
                months=row.months,
                method=row.method,
                start=row.disbursed_on,
                repayment_day=row.repayment_day,
            )
        except ScheduleError as exc:
            errors.append(BookError(ls, row.row, col["method"], str(exc)))
    repayments = _check_repayments(book, by_number, as_of, errors)
    return _Plan(
        loans=loans,
        repayments={n: _value_order(reps) for n, reps in repayments.items()},
        schedules=schedules,
        versions=versions,
        repayments_sheet=rs,
    )


def _kind_label(kind: str) -> str:
    return str(dict(Customer.Kind.choices).get(kind, kind))


def _compare(plan: _Plan, book: BookFile) -> list[dict[str, Any]]:
    """Split the file's loans into new and already imported (unchanged); anything else about an
    existing loan number is a conflict."""
    conflicts: list[dict[str, Any]] = []
    numbers = [r.loan_number for r in plan.loans]
    existing: dict[str, Loan] = {}
    for start in range(0, len(numbers), CHUNK):
        for loan in Loan.objects.filter(number__in=numbers[start : start + CHUNK]):
            existing[loan.number] = loan
    links = {
        link.loan_id: link
        for start in range(0, len(numbers), CHUNK)
        for link in BookImportLoan.objects.filter(loan__number__in=numbers[start : start + CHUNK])
    }
    labels = {k: v[0] for k, v in LOAN_COLUMNS.items()}
    for row in plan.loans:
        found = existing.get(row.loan_number)
        if found is None:
            plan.new_loans.append(row)
            continue
        link = links.get(found.pk)
        reps = plan.repayments.get(row.loan_number, [])
        base = {"sheet": book.loans_sheet, "row": row.row, "loan_number": row.loan_number}
        if link is None:
            conflicts.append(
                {
                    **base,
                    "column": labels["loan_number"],
                    "file": row.loan_number,
                    "imported": "",
                    "message": _("贷款编号 %(n)s 已存在于系统中（不是存量导入建立的）。")
                    % {"n": row.loan_number},
                }
            )
            continue
        mine = canonical(row, reps)
        if fingerprint(mine) == link.fingerprint:
            plan.unchanged.append(row.loan_number)
            continue
        before = link.row or {}
        for key, value in mine.items():
            if key == "repayments" or before.get(key) == value:
                continue
            conflicts.append(
                {
                    **base,
                    "column": labels.get(key, key),
                    "file": _show(value),
                    "imported": _show(before.get(key)),
                    "message": _("与已导入的数据不一致。"),
                }
            )
        old = [tuple(r) for r in before.get("repayments", [])]
        remaining = list(old)
        for rep in reps:
            seen = tuple(rep.canonical())
            if seen in remaining:
                remaining.remove(seen)
                continue
            conflicts.append(
                {
                    "sheet": book.repayments_sheet,
                    "row": rep.row,
                    "loan_number": row.loan_number,
                    "column": "",
                    "file": f"{rep.received_on.isoformat()} {fen_to_str(rep.amount)}",
                    "imported": "",
                    "message": _("这笔还款不在已导入的记录中。"),
                }
            )
        for day, amount, _ref in remaining:
            conflicts.append(
                {
                    **base,
                    "column": "",
                    "file": "",
                    "imported": f"{day} {fen_to_str(int(amount))}",
                    "message": _("已导入的一笔还款不在文件中。"),
                }
            )
    return conflicts


def _due_dates(loan: Loan, dates: list[dt.date]) -> list[dt.date]:
    """The installments' due dates under the loan's holiday rule, as disbursement sets them."""
    from credo.lending.services import disbursement

    adjust = getattr(disbursement, "holiday_due_dates", None)
    return list(adjust(loan, dates)) if adjust is not None else dates


def _fen(value: Any) -> int:
    # a MoneyField holds Money once loaded, a plain int on an instance built with its default
    return value.fen if isinstance(value, Money) else int(value or 0)


def _show(value: Any) -> str:
    return "" if value is None else str(value)


def _resolve_customers(
    plan: _Plan, book: BookFile, errors: list[BookError], warnings: list[dict[str, Any]]
) -> None:
    """Match each new loan's customer by its (normalized) identifier, or plan its creation."""
    wanted: dict[tuple[str, str], LoanRow] = {}
    for row in plan.new_loans:
        wanted.setdefault((row.kind, row.id_number), row)
    usccs = [i for k, i in wanted if k == Customer.Kind.ENTERPRISE]
    ids = {blind_index(i, kind="id_number"): i for k, i in wanted if k == Customer.Kind.INDIVIDUAL}
    found: dict[tuple[str, str], Customer] = {}
    for start in range(0, len(usccs), CHUNK):
        for c in Customer.objects.filter(uscc__in=usccs[start : start + CHUNK]):
            found[(Customer.Kind.ENTERPRISE, c.uscc)] = c
    keys = list(ids)
    for start in range(0, len(keys), CHUNK):
        for c in Customer.objects.filter(id_number_bidx__in=keys[start : start + CHUNK]):
            found[(Customer.Kind.INDIVIDUAL, ids[c.id_number_bidx])] = c
    today = clock.today()
    col = {k: v[0] for k, v in LOAN_COLUMNS.items()}
    for key, row in wanted.items():
        customer = found.get(key)
        if customer is not None:
            plan.customers[key] = customer
            if customer.kind != row.kind:
                errors.append(
                    BookError(
                        book.loans_sheet,
                        row.row,
                        col["customer_kind"],
                        _("该证件号码在系统中是%(k)s客户。") % {"k": _kind_label(customer.kind)},
                    )
                )
            elif customer.name != row.name:
                warnings.append(
                    {
                        "sheet": book.loans_sheet,
                        "row": row.row,
                        "column": col["customer_name"],
                        "message": _("系统中该客户名称为“%(n)s”，以系统为准。")
                        % {"n": customer.name},
                    }
                )
            continue
        data: dict[str, Any] = {"kind": row.kind, "name": row.name, "phone": row.phone}
        data["uscc" if row.kind == Customer.Kind.ENTERPRISE else "id_number"] = row.id_number
        values, field_errors = clean_profile(data, today=today)
        if not row.phone:
            # the source system may not carry a phone; the profile is completed later
            field_errors.pop("phone", None)
            values.pop("phone", None)
        for name, message in field_errors.items():
            column = {
                "name": col["customer_name"],
                "uscc": col["customer_id_number"],
                "id_number": col["customer_id_number"],
                "phone": col["phone"],
            }.get(name, name)
            errors.append(BookError(book.loans_sheet, row.row, column, message))
        if not field_errors:
            plan.customers[key] = None
            plan.new_customer_values[key] = values


def check_file(
    data: bytes, filename: str, as_of: dt.date
) -> tuple[BookFile, _Plan, list[BookError], list[dict[str, Any]], list[dict[str, Any]]]:
    """Read and check everything; nothing is written."""
    book = read_book(data, filename)
    errors = list(book.errors)
    plan = _check(book, as_of, errors)
    conflicts = _compare(plan, book)
    warnings: list[dict[str, Any]] = []
    _resolve_customers(plan, book, errors, warnings)
    errors.sort(key=lambda e: (e.sheet != book.loans_sheet, e.row, e.column))
    return book, plan, errors, conflicts, warnings


# --- the import ---------------------------------------------------------------------------------
def default_as_of() -> dt.date:
    return clock.today() - dt.timedelta(days=1)


def book_import(
    *,
    data: bytes,
    filename: str,
    actor: Any,
    as_of: dt.date | None = None,
    dry_run: bool = False,
    expected_sha256: str = "",
) -> ImportOutcome:
    """Import (or with ``dry_run`` preview) a book-migration workbook. ``expected_sha256``:
    the confirmed import of a previewed file refuses a file that changed in between."""
    require_import(actor)
    today = clock.today()
    as_of = as_of or default_as_of()
    if as_of >= today:
        raise InvalidLoan(
            _("追溯日期须早于今天（最晚 %(d)s）。")
            % {"d": (today - dt.timedelta(days=1)).isoformat()}
        )
    sha = hashlib.sha256(data).hexdigest()
    name = PurePath(filename or "book.xlsx").name[:200]
    if expected_sha256 and expected_sha256 != sha:
        raise InvalidLoan(_("文件与预览时的不一致（摘要不同），请重新上传并预览。"))
    book, plan, errors, conflicts, warnings = check_file(data, name, as_of)
    out = ImportOutcome(
        status="",
        dry_run=dry_run,
        file_name=name,
        sha256=sha,
        as_of=as_of,
        errors=[e.as_dict() for e in errors],
        conflicts=conflicts,
        warnings=warnings,
    )
    out.counts = {
        "loans": len(book.loans) + len({e.row for e in errors if e.sheet == book.loans_sheet}),
        "repayments": len(book.repayments),
        "loans_new": len(plan.new_loans),
        "loans_unchanged": len(plan.unchanged),
        "customers_matched": sum(1 for c in plan.customers.values() if c is not None),
        "customers_created": len(plan.new_customer_values),
        "repayments_new": sum(len(plan.repayments.get(r.loan_number, [])) for r in plan.new_loans),
        "errors": len(errors),
        "conflicts": len(conflicts),
    }
    if errors or conflicts:
        out.status = "invalid" if errors else "conflict"
        if not dry_run:
            with transaction.atomic():
                audit_record(
                    action="book.import_rejected",
                    actor=actor,
                    object_type="lending.bookimport",
                    object_repr=name,
                    metadata={"sha256": sha, "status": out.status, **out.counts},
                )
        return out
    controls = {r.loan_number: r.control for r in plan.loans}
    if not plan.new_loans:
        out.status = "unchanged"
        out.reconciliation = reconcile(controls, counts=out.counts, as_of=as_of)
        return out
    _refuse_closed_periods(plan)
    try:
        with transaction.atomic():
            record = _write(plan, actor=actor, as_of=as_of, name=name, sha=sha, out=out)
            out.reconciliation = reconcile(controls, counts=out.counts, as_of=as_of)
            record.counts = out.counts
            record.reconciliation = out.reconciliation
            record.save(update_fields=["counts", "reconciliation"])
            out.book_import_id = record.pk
            if dry_run:
                raise _DryRun
    except _DryRun:
        out.book_import_id = None
        out.status = "preview"
        return out
    except _RowFailure as exc:
        out.status = "invalid"
        out.errors = [exc.error.as_dict()]
        out.counts["errors"] = 1
        return out
    except IntegrityError:
        raise LendingError(
            _("导入期间有其他用户新建了相同的客户或贷款编号，本次未导入任何数据，请重新导入。")
        ) from None
    out.status = "imported"
    return out


class _RowFailure(Exception):
    def __init__(self, error: BookError) -> None:
        super().__init__(str(error))
        self.error = error


def _refuse_closed_periods(plan: _Plan) -> None:
    """The import books its disbursements and repayments on their own (past) dates: refused
    when finance has closed any month from the earliest of them on (docs/accounting.md)."""
    from credo.lending.books.guard import month_of
    from credo.lending.books.models import AccountingPeriod

    dates = [row.disbursed_on for row in plan.new_loans] + [
        rep.received_on
        for row in plan.new_loans
        for rep in plan.repayments.get(row.loan_number, [])
    ]
    if not dates:
        return
    closed = (
        AccountingPeriod.objects.exclude(status=AccountingPeriod.Status.OPEN)
        .filter(month__gte=month_of(min(dates)))
        .order_by("month")
        .values_list("month", flat=True)
        .first()
    )
    if closed is not None:
        raise InvalidLoan(
            _(
                "会计期间 %(m)s 已结账：存量迁移按放款日、到账日记账，不能记入已结账期间。"
                "请在首次结账前完成迁移，或先申请反结账。"
            )
            % {"m": closed.strftime("%Y-%m")}
        )


def _write(
    plan: _Plan, *, actor: Any, as_of: dt.date, name: str, sha: str, out: ImportOutcome
) -> BookImport:
    migration: ProductVersion | None = None
    customers = _create_customers(plan, actor=actor, name=name)
    record = BookImport.objects.create(file_name=name, sha256=sha, as_of=as_of, actor=actor)
    now = timezone.now()
    loans: list[Loan] = []
    due_dates: dict[str, list[dt.date]] = {}
    for row in plan.new_loans:
        pv = plan.versions.get(row.product_code) if row.product_code else None
        if pv is None:
            migration = migration or migration_version()
            pv = migration
        customer = customers[(row.kind, row.id_number)]
        schedule = plan.schedules[row.loan_number]
        loan = Loan(  # type: ignore[misc]
            number=row.loan_number,
            customer=customer,
            product_version=pv,
            principal=Money.from_fen(row.principal),
            annual_rate=row.annual_rate,
            months=row.months,
            method=row.method,
            repayment_day=row.repayment_day,
            upfront_fee=Money.from_fen(0),
            installment_fee=Money.from_fen(_fen(pv.installment_fee)),
            penalty_multiplier=pv.penalty_multiplier,
            grace_days=pv.grace_days,
            penalty_days_in_year=pv.penalty_days_in_year,
            allocation_order=list(pv.allocation_order or DEFAULT_ALLOCATION),
            # LPR 浮动利率 products: the loan floats too — the file's rate is the rate in force
            # since disbursement, the next repricing date after the migration follows the LPR
            rate_type=pv.rate_type,
            lpr_tenor=pv.lpr_tenor,
            spread_bp=pv.spread_bp,
            repricing=pv.repricing,
            # a migrated loan was disbursed in the source system: it starts 正常 and the
            # catch-up below moves it like the close of business would have
            status=Loan.Status.ACTIVE,
            start_date=row.disbursed_on,
            maturity_date=schedule.due_dates[-1],
            outstanding_principal=Money.from_fen(row.principal),
            owner_id=customer.owner_id,
            team_id=customer.team_id,
            branch_id=customer.branch_id,
            created_by=actor,
            disbursed_by=actor,
            disbursed_at=now,
        )
        for name in POLICY_FIELDS:  # the product version's servicing conventions, as for any loan
            if hasattr(pv, name) and hasattr(loan, name):
                setattr(loan, name, getattr(pv, name))
        due_dates[row.loan_number] = _due_dates(loan, list(schedule.due_dates))
        loan.maturity_date = due_dates[row.loan_number][-1]
        loans.append(loan)
    for start in range(0, len(loans), CHUNK):
        Loan.objects.bulk_create(loans[start : start + CHUNK])
    _record_initial_rates([loan for loan in loans if loan.rate_type == "lpr"])
    by_number = {loan.number: loan for loan in loans}
    insts: list[Installment] = []
    for loan in loans:
        fee = _fen(loan.installment_fee)
        schedule = plan.schedules[loan.number]
        for i, due in zip(schedule.installments, due_dates[loan.number], strict=True):
            insts.append(
                Installment(
                    loan=loan,
                    period=i.period,
                    due_date=due,
                    principal_due=i.principal,
                    interest_due=i.interest,
                    fee_due=fee,
                )
            )
    for start in range(0, len(insts), CHUNK * 10):
        Installment.objects.bulk_create(insts[start : start + CHUNK * 10])
    _post_disbursements(loans, actor=actor)
    BookImportLoan.objects.bulk_create(
        [
            BookImportLoan(
                book_import=record,
                loan=by_number[row.loan_number],
                fingerprint=fingerprint(canonical(row, plan.repayments.get(row.loan_number, []))),
                row=canonical(row, plan.repayments.get(row.loan_number, [])),
            )
            for row in plan.new_loans
        ],
        batch_size=CHUNK,
    )
    record_events_bulk(
        {
            "customer_id": loan.customer_id,
            "kind": "disbursement",
            "actor": actor,
            "obj": loan,
            "source": "lending",
            "title": _("存量迁移：贷款 %(n)s 放款 %(amt)s 元（放款日 %(d)s）")
            % {
                "n": loan.number,
                "amt": loan.principal.format(symbol=False),
                "d": loan.start_date.isoformat() if loan.start_date else "",
            },
        }
        for loan in loans
    )
    out.catch_up = catch_up(loans, plan, actor=actor, as_of=as_of)
    Loan.objects.filter(pk__in=[loan.pk for loan in loans]).update(last_eod_date=as_of)
    audit_record(
        action="book.import",
        actor=actor,
        obj=record,
        metadata={
            "file_name": name,
            "sha256": sha,
            "as_of": as_of.isoformat(),
            "catch_up": out.catch_up,
            **out.counts,
            "first_loan": loans[0].number if loans else None,
            "last_loan": loans[-1].number if loans else None,
        },
    )
    return record


def _create_customers(plan: _Plan, *, actor: Any, name: str) -> dict[tuple[str, str], Customer]:
    result: dict[tuple[str, str], Customer] = {
        k: c for k, c in plan.customers.items() if c is not None
    }
    keys = list(plan.new_customer_values)
    if not keys:
        return result
    team, branch = getattr(actor, "team", None), getattr(actor, "branch", None)
    created: list[Customer] = []
    for start in range(0, len(keys), CHUNK):
        batch = [
            Customer(**plan.new_customer_values[k], owner=actor, team=team, branch=branch)
            for k in keys[start : start + CHUNK]
        ]
        created.extend(Customer.objects.bulk_create(batch))
    for key, customer in zip(keys, created, strict=True):
        result[key] = customer
    title = _("建立客户档案（%(source)s）") % {"source": _("存量贷款迁移")}
    record_events_bulk(
        {
            "customer_id": c.pk,
            "kind": "created",
            "actor": actor,
            "obj": c,
            "source": "customers",
            "title": title,
            "detail": {"source": "book_import"},
        }
        for c in created
    )
    audit_record(
        action="customer.import",
        actor=actor,
        object_type="customers.customer",
        object_repr=name,
        metadata={
            "source": "book_import",
            "count": len(created),
            "file": name,
            "first_id": created[0].pk,
            "last_id": created[-1].pk,
        },
    )
    return result


def _post_disbursements(loans: list[Loan], *, actor: Any) -> None:
    """The disbursement entries (debit 贷款本金, credit 银行存款) dated each loan's own
    disbursement date, as :func:`credo.lending.ledger.post_entry` writes them, in bulk."""
    from credo.lending import ledger

    ids = ledger.account_ids(["loan_principal", "cash"])
    user = actor if getattr(actor, "is_authenticated", False) else None
    for start in range(0, len(loans), CHUNK):
        chunk = loans[start : start + CHUNK]
        entries = JournalEntry.objects.bulk_create(
            [
                JournalEntry(  # type: ignore[misc]
                    kind=JournalEntry.Kind.DISBURSEMENT,
                    loan=loan,
                    business_date=loan.start_date,
                    memo=f"存量迁移放款 {loan.number}"[:200],
                    actor=user,
                )
                for loan in chunk
            ]
        )
        JournalLine.objects.bulk_create(
            [
                line
                for entry, loan in zip(entries, chunk, strict=True)
                for line in (
                    JournalLine(
                        entry=entry,
                        account_id=ids["loan_principal"],
                        loan=loan,
                        debit=loan.principal.fen,
                        credit=0,
                    ),
                    JournalLine(
                        entry=entry,
                        account_id=ids["cash"],
                        loan=loan,
                        debit=0,
                        credit=loan.principal.fen,
                    ),
                )
            ]
        )


def _record_initial_rates(loans: list[Loan]) -> None:
    """The INITIAL rate row of each migrated floating loan: its rate, spread and the LPR in
    force on its disbursement date (checked to exist when the file was checked)."""
    from credo.lending.models import LoanRateChange, LprRate

    if not loans:
        return
    table = list(LprRate.objects.order_by("effective_date"))
    rows = []
    for loan in loans:
        assert loan.start_date is not None
        lpr = next(r for r in reversed(table) if r.effective_date <= loan.start_date)
        rows.append(
            LoanRateChange(
                loan=loan,
                kind=LoanRateChange.Kind.INITIAL,
                effective_date=loan.start_date,
                old_rate=None,
                new_rate=loan.annual_rate,
                lpr=lpr,
                lpr_tenor=loan.lpr_tenor,
                lpr_value=lpr.rate_for(loan.lpr_tenor),
                spread_bp=loan.spread_bp,
            )
        )
    LoanRateChange.objects.bulk_create(rows, batch_size=CHUNK)


# --- catch-up -----------------------------------------------------------------------------------
def catch_up(loans: list[Loan], plan: _Plan, *, actor: Any, as_of: dt.date) -> str:
    """Post the repayments in value-date order and bring every loan's derived state (罚息,
    复利, DPD, status, 五级分类, 溢缴款) to ``as_of`` through the replay engine (the
    close-of-business arithmetic); returns how it was done (``replay``). The test suite checks
    it against the repayment service + the close of business day by day."""
    return _catch_up_by_replay(loans, plan, actor=actor, as_of=as_of)


def _catch_up_by_replay(loans: list[Loan], plan: _Plan, *, actor: Any, as_of: dt.date) -> str:
    """The repayments are allocated by the replay engine (the close-of-business arithmetic)
    so each one is posted with its real split, dated its value date; then
    ``replay_loans(as_of=…)`` writes the derived state up to ``as_of`` and sets
    ``last_eod_date``. Anything the posted entries do not yet hold (a credit balance applied
    by a later close) is posted by the replay as its one 倒起息调整 entry."""
    from credo.core.holidays import load_calendar
    from credo.lending import ledger
    from credo.lending.eod.common import classification_thresholds
    from credo.lending.replay import engine, service

    ids = [loan.pk for loan in loans]
    calendar = load_calendar()
    thresholds = classification_thresholds()
    insts: dict[int, list[Installment]] = defaultdict(list)
    fresh: list[Loan] = []
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        fresh += list(Loan.objects.filter(pk__in=part).order_by("id"))
        for inst in Installment.objects.filter(loan_id__in=part).order_by("loan_id", "period"):
            insts[inst.loan_id].append(inst)
    accounts = ledger.account_ids(
        [
            "cash",
            "loan_principal",
            "interest_income",
            "penalty_income",
            "fee_income",
            "customer_credit",
        ]
    )
    user = actor if getattr(actor, "is_authenticated", False) else None
    pending: list[tuple[Loan, int, RepaymentRow, dict[str, Any]]] = []
    for loan in fresh:
        reps = plan.repayments.get(loan.number, [])
        if not reps:
            continue
        events = [
            engine.MoneyEvent(kind="repayment", value_date=r.received_on, id=k, amount=r.amount)
            for k, r in enumerate(reps)
        ]
        try:
            result = engine.replay(
                service.loan_terms(loan, thresholds),
                service.schedule_rows(insts[loan.pk]),
                events,
                as_of,
                calendar,
                service.loan_floor(loan),
            )
        except engine.ReplayError as exc:
            raise _RowFailure(
                BookError(
                    plan.repayments_sheet,
                    reps[0].row,
                    REPAYMENT_COLUMNS["loan_number"][0],
                    str(exc),
                )
            ) from None
        for k, rep in enumerate(reps):
            pending.append((loan, k, rep, result.allocations[k]))
    for start in range(0, len(pending), CHUNK):
        chunk = pending[start : start + CHUNK]
        entries = JournalEntry.objects.bulk_create(
            [
                JournalEntry(
                    kind=JournalEntry.Kind.REPAYMENT,
                    loan=loan,
                    business_date=rep.received_on,
                    memo=f"还款 {loan.number} {rep.reference}".strip()[:200],
                    actor=user,
                )
                for loan, _k, rep, _a in chunk
            ]
        )
        lines: list[JournalLine] = []
        for entry, (loan, _k, rep, alloc) in zip(entries, chunk, strict=True):
            t = alloc["totals"]
            for code, debit, credit in (
                ("cash", rep.amount, 0),
                ("loan_principal", 0, t.get("principal", 0)),
                ("interest_income", 0, t.get("interest", 0)),
                ("penalty_income", 0, t.get("penalty", 0)),
                ("fee_income", 0, t.get("fee", 0)),
                ("customer_credit", 0, alloc.get("credit", 0)),
            ):
                if debit or credit:
                    lines.append(
                        JournalLine(
                            entry=entry,
                            account_id=accounts[code],
                            loan=loan,
                            debit=debit,
                            credit=credit,
                        )
                    )
        JournalLine.objects.bulk_create(lines, batch_size=5000)
        from credo.lending.models import Posting

        Posting.objects.bulk_create(
            [
                Posting(  # type: ignore[misc]
                    loan=loan,
                    amount=Money.from_fen(rep.amount),
                    received_on=rep.received_on,
                    channel=Posting.Channel.MANUAL,
                    reference=(rep.reference or _("存量迁移"))[:80],
                    idempotency_key=f"book:{loan.number}:{k + 1}",
                    allocation=alloc,
                    entry=entry,
                    actor=actor,
                )
                for entry, (loan, k, rep, alloc) in zip(entries, chunk, strict=True)
            ]
        )
    try:
        service.replay_loans(ids, as_of=as_of, actor=actor, reason=_("存量迁移追溯"))
    except LendingError as exc:
        raise _RowFailure(BookError(plan.repayments_sheet, 0, "", exc.message)) from None
    return "replay"


# --- reconciliation -----------------------------------------------------------------------------
def reconcile(
    controls: dict[str, int | None], *, counts: dict[str, int], as_of: dt.date
) -> dict[str, Any]:
    """对账: the file's loans as Credo now holds them against the lender's own figures."""
    numbers = list(controls)
    loans: list[Loan] = []
    for start in range(0, len(numbers), CHUNK):
        loans.extend(
            Loan.objects.filter(number__in=numbers[start : start + CHUNK])
            .select_related("customer")
            .only(
                "id",
                "number",
                "principal",
                "outstanding_principal",
                "status",
                "dpd",
                "classification",
                "credit_balance",
                "customer__name",
            )
        )
    ids = [loan.pk for loan in loans]
    overdue: dict[int, tuple[int, int]] = {}
    for start in range(0, len(ids), CHUNK):
        rows = (
            Installment.objects.filter(
                loan_id__in=ids[start : start + CHUNK], status=Installment.Status.OVERDUE
            )
            .values("loan_id")
            .annotate(
                owed=Sum(owed_expression()),
                principal=Sum(owed_expression(penalty=False, fee=False, interest=False)),
            )
            .order_by()
        )
        for r in rows:
            overdue[r["loan_id"]] = (int(r["owed"] or 0), int(r["principal"] or 0))
    per_loan: list[dict[str, Any]] = []
    totals: defaultdict[str, int] = defaultdict(int)
    loans.sort(key=lambda loan: loan.number)
    status_labels = dict(Loan.Status.choices)
    for loan in loans:
        outstanding = loan.outstanding_principal.fen
        control = controls.get(loan.number)
        owed, principal = overdue.get(loan.pk, (0, 0))
        totals["principal"] += loan.principal.fen
        totals["outstanding"] += outstanding
        totals["overdue_amount"] += owed
        totals["overdue_principal"] += principal
        totals["credit"] += loan.credit_balance.fen
        if owed:
            totals["overdue_loans"] += 1
        diff: int | None = None
        if control is not None:
            totals["control"] += control
            totals["controlled"] += 1
            diff = outstanding - control
            totals["difference"] += diff
            if diff:
                totals["differences"] += 1
        per_loan.append(
            {
                "loan_number": loan.number,
                "customer": loan.customer.name,
                "status": loan.status,
                "status_label": str(status_labels.get(loan.status, loan.status)),
                "dpd": loan.dpd,
                "classification": loan.classification,
                "principal": fen_to_str(loan.principal.fen),
                "outstanding_principal": fen_to_str(outstanding),
                "control": fen_to_str(control) if control is not None else None,
                "difference": fen_to_str(diff) if diff is not None else None,
                "overdue_amount": fen_to_str(owed),
                "credit_balance": fen_to_str(loan.credit_balance.fen),
            }
        )
    return {
        "as_of": as_of.isoformat(),
        "counts": dict(counts),
        "loans": len(loans),
        "principal_disbursed": fen_to_str(totals["principal"]),
        "outstanding_principal": fen_to_str(totals["outstanding"]),
        "overdue_loans": totals["overdue_loans"],
        "overdue_amount": fen_to_str(totals["overdue_amount"]),
        "overdue_principal": fen_to_str(totals["overdue_principal"]),
        "credit_balance": fen_to_str(totals["credit"]),
        "control_loans": totals["controlled"],
        "control_outstanding": fen_to_str(totals["control"]),
        "difference": fen_to_str(totals["difference"]),
        "loans_with_difference": totals["differences"],
        "per_loan": per_loan,
    }


SUMMARY_LABELS = (
    ("loans", gettext_noop("贷款笔数")),
    ("principal_disbursed", gettext_noop("放款金额合计")),
    ("outstanding_principal", gettext_noop("剩余本金合计（Credo）")),
    ("control_outstanding", gettext_noop("剩余本金合计（原系统）")),
    ("difference", gettext_noop("差额合计")),
    ("loans_with_difference", gettext_noop("有差额的贷款笔数")),
    ("overdue_loans", gettext_noop("逾期贷款笔数")),
    ("overdue_amount", gettext_noop("逾期金额（本息罚）")),
    ("overdue_principal", gettext_noop("逾期本金")),
    ("credit_balance", gettext_noop("溢缴款合计")),
)
COUNT_LABELS = (
    ("loans_new", gettext_noop("新建贷款")),
    ("loans_unchanged", gettext_noop("已导入未变化")),
    ("customers_created", gettext_noop("新建客户")),
    ("customers_matched", gettext_noop("匹配已有客户")),
    ("repayments", gettext_noop("还款记录")),
    ("repayments_new", gettext_noop("本次入账还款")),
)
PER_LOAN_LABELS = (
    ("loan_number", gettext_noop("贷款编号")),
    ("customer", gettext_noop("客户名称")),
    ("status_label", gettext_noop("状态")),
    ("dpd", gettext_noop("逾期天数")),
    ("principal", gettext_noop("放款金额")),
    ("outstanding_principal", gettext_noop("剩余本金（Credo）")),
    ("control", gettext_noop("剩余本金（原系统）")),
    ("difference", gettext_noop("差额")),
    ("overdue_amount", gettext_noop("逾期金额")),
    ("credit_balance", gettext_noop("溢缴款")),
)


def reconciliation_xlsx(recon: dict[str, Any], *, title: str = "") -> bytes:
    """The reconciliation as a workbook: 汇总 and 逐笔差异 (every loan, differences first)."""
    from openpyxl import Workbook

    from credo.core import spreadsheet

    wb = Workbook()
    ws = wb.active
    ws.title = "汇总"
    if title:
        spreadsheet.append(ws, [_("文件"), title])
    spreadsheet.append(ws, [_("追溯日期"), recon.get("as_of", "")])
    for key, label in COUNT_LABELS:
        spreadsheet.append(ws, [_(label), (recon.get("counts") or {}).get(key, 0)])
    for key, label in SUMMARY_LABELS:
        spreadsheet.append(ws, [_(label), recon.get(key, "")])
    detail = wb.create_sheet("逐笔")
    spreadsheet.append(detail, [_(label) for _k, label in PER_LOAN_LABELS])
    rows = sorted(
        recon.get("per_loan", []),
        key=lambda r: (r.get("difference") in (None, "0.00"), r["loan_number"]),
    )
    for row in rows:
        spreadsheet.append(detail, [row.get(k) for k, _l in PER_LOAN_LABELS])
    return spreadsheet.workbook_bytes(wb)
