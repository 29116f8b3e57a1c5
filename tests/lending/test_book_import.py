"""Book migration (存量贷款迁移): reading, checks, all-or-nothing, idempotence, reconciliation."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from credo.core.audit.models import AuditEntry
from credo.core.validators import id_check_char, uscc_check_char
from credo.customers.models import Customer
from credo.lending import ledger
from credo.lending.bookimport import book_import, read_book, template_xlsx
from credo.lending.bookimport.reading import LoanRow, RepaymentRow, parse_date, parse_money
from credo.lending.bookimport.services import canonical, fingerprint
from credo.lending.errors import InvalidLoan, NotPermitted
from credo.lending.models import (
    BookImport,
    Installment,
    JournalEntry,
    Loan,
    Posting,
    Product,
)
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2025, 12, 31)
USCC = "91140100MA00000B1" + uscc_check_char("91140100MA00000B1")
PERSON = "14010519800101001" + id_check_char("14010519800101001")

LOAN_HEAD_ZH = [
    "贷款编号",
    "证件号码",
    "客户名称",
    "客户类型",
    "产品代码",
    "放款日",
    "放款金额",
    "年利率(%)",
    "期数",
    "还款方式",
    "还款日",
    "剩余本金",
]
LOAN_HEAD_EN = [
    "loan_number",
    "customer_id_number",
    "customer_name",
    "customer_kind",
    "product_code",
    "disbursed_on",
    "principal",
    "annual_rate",
    "months",
    "method",
    "repayment_day",
    "outstanding_principal",
]
REP_HEAD_ZH = ["贷款编号", "到账日期", "金额", "参考号"]
REP_HEAD_EN = ["loan_number", "received_on", "amount", "reference"]


def loans_rows():
    return [
        # 12 × 10,000 at 12 %, every installment paid on time → 0 outstanding before maturity? no:
        # 12 months from 2025-01-15, 11 paid by 2025-12-15 → one installment left
        [
            "MIG-1",
            USCC,
            "迁移测试企业有限公司",
            "企业",
            "",
            "2025-01-15",
            "120000",
            "12",
            12,
            "等额本息",
            "",
            "10556.00",
        ],
        # an individual who stopped paying after three installments
        [
            "MIG-2",
            PERSON,
            "张三",
            "个人",
            "",
            "2025-03-10",
            "36000.00",
            "8.5",
            12,
            "等额本金",
            "",
            "",
        ],
        # the same company, a bullet loan with no repayment yet
        [
            "MIG-3",
            USCC,
            "迁移测试企业有限公司",
            "企业",
            "",
            "2025-06-01",
            "50000",
            "6",
            12,
            "到期一次还本付息",
            "",
            "50000",
        ],
    ]


def repayment_rows():
    rows = []
    day = dt.date(2025, 2, 15)
    for _n in range(11):
        rows.append(["MIG-1", day.isoformat(), "10661.85", f"R{day:%m}"])
        day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=15)
    rows.append(["MIG-2", "2025-04-10", "3255.00", ""])
    rows.append(["MIG-2", "2025-05-10", "3233.75", ""])
    rows.append(["MIG-2", "2025-06-10", "3212.50", ""])
    return rows


def workbook(loans=None, repayments=None, *, english=False, shuffle=False) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "loans"
    ws.append(LOAN_HEAD_EN if english else LOAN_HEAD_ZH)
    for row in loans if loans is not None else loans_rows():
        ws.append(row)
    rep = wb.create_sheet("repayments")
    rep.append(REP_HEAD_EN if english else REP_HEAD_ZH)
    rows = list(repayments if repayments is not None else repayment_rows())
    if shuffle:
        random.Random(7).shuffle(rows)
    for row in rows:
        rep.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture
def importer(org):
    role = RoleFactory(code="book_t", name="迁移T", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="lending", codename__in=["import_book", "view_loan"]
        )
    )
    return UserFactory(
        username="migrator", display_name="迁移员", org_unit=org["head"], roles=[role]
    )


def run(actor, data, **kw):
    kw.setdefault("as_of", AS_OF)
    return book_import(data=data, filename="book.xlsx", actor=actor, **kw)


def state():
    """Everything an import writes, for "nothing changed" comparisons."""
    return {
        "loans": sorted(
            Loan.objects.values_list(
                "number",
                "status",
                "dpd",
                "classification",
                "outstanding_principal",
                "credit_balance",
                "last_eod_date",
            )
        ),
        "installments": sorted(
            Installment.objects.values_list(
                "loan__number",
                "period",
                "status",
                "principal_paid",
                "interest_paid",
                "penalty_due",
                "penalty_paid",
            )
        ),
        "postings": Posting.objects.count(),
        "entries": JournalEntry.objects.count(),
        "customers": Customer.objects.count(),
        "imports": BookImport.objects.count(),
    }


def test_reads_chinese_and_english_headers():
    zh = read_book(workbook(), "a.xlsx")
    en = read_book(workbook(english=True), "a.xlsx")
    assert not zh.errors and not en.errors
    assert [r.canonical() for r in zh.loans] == [r.canonical() for r in en.loans]
    assert len(zh.repayments) == 14
    assert zh.loans[1].method == "equal_principal" and zh.loans[2].method == "bullet"
    assert zh.loans[0].principal == 12_000_000 and zh.loans[0].control == 1_055_600


def test_template_has_both_sheets_and_reads_back():
    book = read_book(template_xlsx(), "template.xlsx")
    assert book.loans_sheet == "loans" and book.repayments_sheet == "repayments"
    assert len(book.loans) == 1 and len(book.repayments) == 1


def test_import_creates_customers_loans_and_catches_up(importer):
    out = run(importer, workbook())
    assert out.status == "imported", out.errors
    assert out.counts["customers_created"] == 2 and out.counts["loans_new"] == 3
    loans = {loan.number: loan for loan in Loan.objects.all()}
    assert set(loans) == {"MIG-1", "MIG-2", "MIG-3"}
    one = loans["MIG-1"]
    assert one.status == "active" and one.dpd == 0 and one.last_eod_date == AS_OF
    assert one.installments.filter(status="paid").count() == 11
    # MIG-2 stopped after three installments: overdue since 2025-07-10
    two = loans["MIG-2"]
    assert two.status == "overdue" and two.dpd == (AS_OF - dt.date(2025, 7, 10)).days
    assert two.classification != "normal"
    assert sum(i.penalty_due.fen for i in two.installments.all()) > 0
    # journal: disbursements dated the disbursement date, the ledger agrees
    entry = JournalEntry.objects.get(loan=one, kind="disbursement")
    assert entry.business_date == dt.date(2025, 1, 15)
    assert ledger.verify().ok
    # reconciliation against the control column
    recon = out.reconciliation
    assert recon["loans"] == 3 and recon["principal_disbursed"] == "206000.00"
    assert recon["overdue_loans"] == 1
    row1 = next(r for r in recon["per_loan"] if r["loan_number"] == "MIG-1")
    assert row1["control"] == "10556.00"
    assert row1["difference"] == f"{(one.outstanding_principal.fen - 1_055_600) / 100:.2f}"
    row3 = next(r for r in recon["per_loan"] if r["loan_number"] == "MIG-3")
    assert row3["difference"] == "0.00"
    record = BookImport.objects.get()
    assert record.sha256 == out.sha256 and record.as_of == AS_OF
    assert record.reconciliation["outstanding_principal"] == recon["outstanding_principal"]
    assert AuditEntry.objects.filter(action="book.import").count() == 1
    assert Customer.objects.get(uscc=USCC).loans.count() == 2


def _prefixed(prefix):
    loans = [[prefix + r[0], *r[1:]] for r in loans_rows()]
    reps = [[prefix + r[0], *r[1:]] for r in repayment_rows()]
    return loans, reps


def _loan_state(prefix):
    return {
        "loans": sorted(
            (n.removeprefix(prefix), *rest)
            for n, *rest in Loan.objects.filter(number__startswith=prefix).values_list(
                "number",
                "status",
                "dpd",
                "classification",
                "outstanding_principal",
                "credit_balance",
                "last_eod_date",
            )
        ),
        "installments": sorted(
            (n.removeprefix(prefix), *rest)
            for n, *rest in Installment.objects.filter(loan__number__startswith=prefix).values_list(
                "loan__number",
                "period",
                "status",
                "paid_on",
                "principal_paid",
                "interest_paid",
                "penalty_due",
                "penalty_paid",
            )
        ),
        "entries": sorted(
            (
                e.business_date,
                e.kind,
                tuple(sorted((ln.account_id, ln.debit.fen, ln.credit.fen) for ln in e.lines.all())),
            )
            for e in JournalEntry.objects.filter(loan__number__startswith=prefix)
        ),
    }


def test_shuffled_repayments_give_the_same_result(importer):
    loans, reps = _prefixed("A")
    assert run(importer, workbook(loans, reps)).status == "imported"
    loans, reps = _prefixed("B")
    out = run(importer, workbook(loans, reps, shuffle=True))
    assert out.status == "imported"
    assert out.counts["customers_matched"] == 2  # the same customers, matched by identifier
    assert _loan_state("A") == _loan_state("B")


def test_reimport_changes_nothing(importer):
    first = run(importer, workbook())
    before = state()
    again = run(importer, workbook(shuffle=True))
    assert again.status == "unchanged"
    assert again.counts["loans_unchanged"] == 3 and again.counts["loans_new"] == 0
    assert state() == before
    assert (
        again.reconciliation["outstanding_principal"]
        == first.reconciliation["outstanding_principal"]
    )


def test_changed_row_is_a_conflict_and_nothing_is_written(importer):
    run(importer, workbook())
    before = state()
    rows = loans_rows()
    rows[1][6] = "36500.00"  # principal changed
    reps = repayment_rows()
    reps[0][2] = "10661.86"  # an amount changed
    rows.append(
        [
            "MIG-4",
            USCC,
            "迁移测试企业有限公司",
            "企业",
            "",
            "2025-06-01",
            "1000",
            "6",
            3,
            "等额本息",
            "",
            "",
        ]
    )
    out = run(importer, workbook(rows, reps))
    assert out.status == "conflict"
    columns = {(c["loan_number"], c["column"]) for c in out.conflicts}
    assert ("MIG-2", "放款金额") in columns
    assert any(c["loan_number"] == "MIG-1" and c["sheet"] == "repayments" for c in out.conflicts)
    assert state() == before
    assert not Loan.objects.filter(number="MIG-4").exists()


def test_bad_row_writes_nothing(importer):
    rows = loans_rows()
    rows[2][6] = "abc"
    reps = repayment_rows() + [["MIG-9", "2025-04-01", "100", ""]]
    before = state()
    out = run(importer, workbook(rows, reps))
    assert out.status == "invalid"
    messages = {(e["sheet"], e["row"], e["column"]) for e in out.errors}
    assert ("loans", 4, "放款金额") in messages
    assert ("repayments", len(reps) + 1, "贷款编号") in messages
    assert state() == before


def test_dry_run_writes_nothing_but_reconciles(importer):
    before = state()
    data = workbook()
    out = run(importer, data, dry_run=True)
    assert out.status == "preview" and out.book_import_id is None
    assert out.reconciliation["loans"] == 3 and out.reconciliation["overdue_loans"] == 1
    assert state() == before
    real = run(importer, data, expected_sha256=out.sha256)
    assert (
        real.reconciliation["outstanding_principal"] == out.reconciliation["outstanding_principal"]
    )


def test_confirm_refuses_a_changed_file(importer):
    from credo.lending.errors import InvalidLoan

    with pytest.raises(InvalidLoan):
        run(importer, workbook(), expected_sha256="0" * 64)
    assert not Loan.objects.exists()


def test_matches_an_existing_customer(importer, owner):
    from credo.customers import services as customer_services

    existing = customer_services.customer_create(
        actor=owner,
        data={"kind": "enterprise", "name": "迁移测试企业有限公司", "uscc": USCC.lower()},
    )
    out = run(importer, workbook())
    assert out.counts["customers_matched"] == 1 and out.counts["customers_created"] == 1
    assert Loan.objects.get(number="MIG-1").customer == existing


def test_without_permission_nothing_happens(owner):
    with pytest.raises(NotPermitted):
        run(owner, workbook())
    assert not Loan.objects.exists()
    assert AuditEntry.objects.filter(action="book.import_denied").exists()


def test_migration_product_is_created_once(importer):
    run(importer, workbook())
    rows = [
        [
            "MIG-5",
            USCC,
            "迁移测试企业有限公司",
            "企业",
            "",
            "2025-06-01",
            "1000",
            "6",
            3,
            "等额本息",
            "",
            "",
        ]
    ]
    run(importer, workbook(rows, []))
    product = Product.objects.get(code="book-migration")
    assert product.versions.count() == 1
    assert Loan.objects.filter(product_version__product=product).count() == 4


def test_command_json(importer, tmp_path, capsys):
    path = tmp_path / "book.xlsx"
    path.write_bytes(workbook())
    call_command(
        "book",
        "import",
        str(path),
        "--as-of",
        AS_OF.isoformat(),
        "--format",
        "json",
        "--user",
        importer.username,
        "--dry-run",
    )
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "preview" and data["reconciliation"]["loans"] == 3
    assert not Loan.objects.exists()


def _catch_up_by_days(loans, plan, *, actor, as_of) -> str:
    """The peer of the replay catch-up: day by day from the earliest disbursement: the day's repayments (value-date order, the
    file's row order within a day), then that day's close for the imported loans. Days on
    which nothing can change (no due date, no grace end, no repayment, no loan overdue or in
    credit) are skipped."""
    from collections import defaultdict

    from credo.core.money import Money
    from credo.lending.bookimport.reading import REPAYMENT_COLUMNS
    from credo.lending.bookimport.services import BookError, _RowFailure
    from credo.lending.eod.closing import process_range
    from credo.lending.errors import LendingError
    from credo.lending.models import Installment
    from credo.lending.services import repayment_post

    if not loans:
        return "days"
    ids = sorted(loan.pk for loan in loans)
    first, last = ids[0], ids[-1]
    by_number = {loan.number: loan for loan in loans}
    by_day: dict[dt.date, list[RepaymentRow]] = defaultdict(list)
    for number in by_number:
        for rep in plan.repayments.get(number, []):
            by_day[rep.received_on].append(rep)
    events: set[dt.date] = set(by_day)
    grace = {loan.pk: loan.grace_days for loan in loans}
    # the stored due dates (a holiday rule may have moved them off the contractual ones)
    for loan_id, due in Installment.objects.filter(loan_id__in=ids).values_list(
        "loan_id", "due_date"
    ):
        events.add(due)
        events.add(due + dt.timedelta(days=grace[loan_id] + 1))
    sequence: dict[str, int] = defaultdict(int)
    mine = Loan.objects.filter(pk__in=ids)
    day = min(loan.start_date for loan in loans if loan.start_date)
    while day <= as_of:
        todays = sorted(by_day.get(day, []), key=lambda r: r.row)
        for rep in todays:
            loan = by_number[rep.loan_number]
            sequence[rep.loan_number] += 1
            try:
                repayment_post(
                    loan=loan,
                    amount=Money.from_fen(rep.amount),
                    received_on=day,
                    actor=actor,
                    reference=(rep.reference or "存量迁移")[:80],
                    idempotency_key=f"book:{rep.loan_number}:{sequence[rep.loan_number]}",
                )
            except LendingError as exc:
                raise _RowFailure(
                    BookError(
                        plan.repayments_sheet, rep.row, REPAYMENT_COLUMNS["amount"][0], exc.message
                    )
                ) from None
        busy = (
            day in events
            or mine.filter(status=Loan.Status.OVERDUE).exists()
            or mine.filter(credit_balance__gt=0, status__in=[Loan.Status.ACTIVE]).exists()
        )
        if busy:
            process_range(day, first, last, actor)
        day += dt.timedelta(days=1)
    return "days"


def test_catch_up_without_replay_gives_the_same_state(importer, monkeypatch):
    """An independent peer (repayment service + close of business day by day) and the replay
    catch-up bring the same file to the same loan state."""
    from credo.lending.bookimport import services

    loans, reps = _prefixed("A")
    assert run(importer, workbook(loans, reps)).catch_up == "replay"
    monkeypatch.setattr(services, "catch_up", _catch_up_by_days)
    loans, reps = _prefixed("B")
    out = run(importer, workbook(loans, reps, shuffle=True))
    assert out.status == "imported" and out.catch_up == "days"
    a, b = _loan_state("A"), _loan_state("B")
    assert a["loans"] == b["loans"]
    assert a["installments"] == b["installments"]
    assert ledger.verify().ok


# --- pure parts: property-tested ---------------------------------------------------------------
@given(st.integers(min_value=0, max_value=10**13))
def test_money_cells_parse_to_exact_fen(fen):
    text = f"{fen // 100}.{fen % 100:02d}"
    assert parse_money(text) == fen
    assert parse_money(f"{fen // 100:,}.{fen % 100:02d}") == fen
    assert parse_money(float(text)) == fen or fen > 10**12  # Excel numbers (15 digits)


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_date_cells_in_every_spelling(day):
    for text in (
        day.isoformat(),
        f"{day:%Y/%m/%d}",
        f"{day:%Y%m%d}",
        f"{day.year}年{day.month}月{day.day}日",
    ):
        assert parse_date(text) == day
    assert parse_date(dt.datetime.combine(day, dt.time(9))) == day


@given(
    st.lists(
        st.tuples(
            st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2025, 12, 31)),
            st.integers(min_value=1, max_value=10**8),
        ),
        max_size=30,
    ),
    st.randoms(use_true_random=False),
)
def test_fingerprint_ignores_row_order(reps, rnd):
    loan = LoanRow(
        2,
        "L1",
        USCC,
        "甲",
        "enterprise",
        "",
        dt.date(2025, 1, 1),
        100,
        Decimal("6"),
        12,
        "equal_installment",
        None,
        None,
    )
    rows = [RepaymentRow(i + 2, "L1", d, a) for i, (d, a) in enumerate(reps)]
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    assert fingerprint(canonical(loan, rows)) == fingerprint(canonical(loan, shuffled))
    if rows:
        changed = [RepaymentRow(r.row, r.loan_number, r.received_on, r.amount + 1) for r in rows]
        assert fingerprint(canonical(loan, rows)) != fingerprint(canonical(loan, changed))


def test_import_into_a_closed_accounting_period_is_refused(importer):
    """The import books on the disbursement and receipt dates: a month finance has closed from
    the earliest of them on refuses the whole file (nothing written)."""
    from credo.lending.books.models import AccountingPeriod

    AccountingPeriod.objects.create(month=dt.date(2025, 12, 1), status="closed")
    with pytest.raises(InvalidLoan, match="2025-12 已结账"):
        run(importer, workbook())
    assert not Loan.objects.exists()


def _lpr_product(product_version):
    product_version.rate_type = "lpr"
    product_version.lpr_tenor = "1y"
    product_version.spread_bp = 150
    product_version.repricing = "anniversary"
    product_version.save()
    return product_version.product.code


def _floating_row(code: str) -> list:
    return [
        "MIG-LPR",
        USCC,
        "迁移测试企业有限公司",
        "企业",
        code,
        "2025-03-20",
        "120000",
        "4.6",
        24,
        "等额本息",
        "",
        "",
    ]


def test_a_loan_of_an_lpr_product_is_imported_floating(importer, product_version):
    """An LPR-linked product's loan floats after the migration: rate type, tenor, spread and
    repricing from the product, its INITIAL rate row with the LPR in force on the disbursement
    date — so the close of business reprices it on its next anniversary."""
    from credo.lending.models import LoanRateChange, LprRate
    from credo.lending.rates.history import seed

    seed(LprRate)
    code = _lpr_product(product_version)
    run(importer, workbook([_floating_row(code)], []))
    loan = Loan.objects.get(number="MIG-LPR")
    assert (loan.rate_type, loan.lpr_tenor, loan.spread_bp, loan.repricing) == (
        "lpr",
        "1y",
        150,
        "anniversary",
    )
    assert loan.annual_rate == Decimal("4.6")
    initial = LoanRateChange.objects.get(loan=loan)
    lpr = LprRate.objects.filter(effective_date__lte=dt.date(2025, 3, 20)).latest("effective_date")
    assert (initial.kind, initial.effective_date, initial.lpr_id, initial.new_rate) == (
        "initial",
        dt.date(2025, 3, 20),
        lpr.pk,
        Decimal("4.6"),
    )
    assert ledger.verify([loan]).ok


def test_an_lpr_loan_before_any_known_lpr_is_a_row_error(importer, product_version):
    from credo.lending.models import LprRate

    # the LPR table starts after the disbursement date
    LprRate.objects.filter(effective_date__lte=dt.date(2025, 3, 20)).delete()
    assert not LprRate.objects.filter(effective_date__lte=dt.date(2025, 3, 20)).exists()
    code = _lpr_product(product_version)
    before = state()
    out = run(importer, workbook([_floating_row(code)], []))
    assert out.status == "invalid"
    assert [(e["row"], e["column"]) for e in out.errors] == [(2, "产品代码")]
    assert "没有生效的 LPR" in out.errors[0]["message"]
    assert state() == before
