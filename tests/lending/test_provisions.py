"""贷款损失准备 (issue 20 item 5): known answers on a hand-built book (rates × balances, the
difference posted, a release, a write-off using the reserve, a recovery restoring it), the
balances at month end, idempotent re-runs, the closed-period refusal, rate validation, the
report and its export, the CLI, verify, and a hypothesis machine over runs, reclassifications,
repayments, write-offs and recoveries."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.lending import ledger, services
from credo.lending.books import services as books
from credo.lending.books.guard import PeriodClosed
from credo.lending.errors import InvalidLoan, InvalidState, NotPermitted
from credo.lending.models import (
    EodRun,
    JournalEntry,
    JournalLine,
    Loan,
    LoanClassHistory,
    Product,
    ProductVersion,
)
from credo.lending.provisions import selectors as psel
from credo.lending.provisions import services as prov
from credo.lending.provisions.models import (
    ProvisionLine,
    ProvisionPosting,
    ProvisionRates,
    ProvisionRun,
)
from credo.lending.services.recovery import recovery_post
from tests.factories import RoleFactory, UserFactory
from tests.lending.conftest import VALUE_DATE, book_on

pytestmark = pytest.mark.django_db

JAN, FEB, MAR = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)
Y = 100  # fen per yuan


def eod_done(*days: dt.date) -> None:
    for day in days:
        EodRun.objects.get_or_create(business_date=day, defaults={"status": "done"})


def month_ends() -> None:
    eod_done(*(psel_month_end(dt.date(2026, m, 1)) for m in range(1, 12)))


def psel_month_end(month: dt.date) -> dt.date:
    from credo.lending.books.selectors import month_end

    return month_end(month)


@pytest.fixture
def provisioner(org):
    role = RoleFactory(code="prov_t", name="准备金T", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="lending",
            codename__in=[
                "manage_provisions",
                "view_books",
                "disburse_loan",
                "backdate_disbursement",
                "close_period",
                "approve_reopen",
                "write_off_loan",
                "post_repayment",
            ],
        )
    )
    return UserFactory(
        username="provisioner", display_name="冯财务", org_unit=org["head"], roles=[role]
    )


@pytest.fixture
def second_version(product_version):
    other = Product.objects.create(code="xf-loan", name="消费贷")
    pv = ProductVersion.objects.get(pk=product_version.pk)
    pv.pk = None
    pv.product = other
    pv.save()
    return pv


def disbursed(owner, borrower, pv, finance, principal: str, cls: str = "normal") -> Loan:
    loan = services.loan_create(
        customer=borrower,
        product_version=pv,
        principal=Money(principal),
        annual_rate=Decimal("12"),
        months=12,
        actor=owner,
    )
    book_on(loan, dt.date(2023, 1, 2))
    loan = services.loan_disburse(loan=loan, actor=finance, value_date=VALUE_DATE)
    if cls != "normal":
        status = "overdue" if cls in ("substandard", "doubtful", "loss") else "active"
        Loan.objects.filter(pk=loan.pk).update(classification=cls, status=status)
    return Loan.objects.get(pk=loan.pk)


@pytest.fixture
def book(owner, borrower, product_version, second_version, finance):
    """经营贷: 120,000 正常 + 50,000 次级; 消费贷: 80,000 损失 — all disbursed 2026-01-15."""
    a1 = disbursed(owner, borrower, product_version, finance, "120000")
    a2 = disbursed(owner, borrower, product_version, finance, "50000", "substandard")
    b1 = disbursed(owner, borrower, second_version, finance, "80000", "loss")
    month_ends()
    return {"a1": a1, "a2": a2, "b1": b1, "A": product_version.product, "B": second_version.product}


def reserve(product) -> int:
    return psel.reserve_balances().get(product.pk, 0)


def gl(code: str) -> int:
    agg = JournalLine.objects.filter(account__code=code).aggregate(d=Sum("debit"), c=Sum("credit"))
    return ledger.fen(agg["d"]) - ledger.fen(agg["c"])


# ---------------------------------------------------------------------------- known answers


def test_defaults_follow_the_guideline():
    rates = psel.current_rates()
    assert rates.version == 0 and rates.pk is None
    assert [rates.general_pct, rates.normal_pct, rates.special_mention_pct] == [1, 0, 2]
    assert [rates.substandard_pct, rates.doubtful_pct, rates.loss_pct] == [25, 50, 100]


def test_run_posts_rates_times_balances_per_product_and_class(book, provisioner):
    run, created = prov.provision_run(month=JAN, actor=provisioner)
    assert created and run.sequence == 1 and run.month_end == dt.date(2026, 1, 31)
    lines = {
        (ln.product_id, ln.classification): (
            ln.loans,
            ln.balance.fen,
            ln.general.fen,
            ln.specific.fen,
        )
        for ln in ProvisionLine.objects.filter(run=run)
    }
    A, B = book["A"].pk, book["B"].pk
    assert lines == {
        (A, "normal"): (1, 120_000 * Y, 1_200 * Y, 0),
        (A, "substandard"): (1, 50_000 * Y, 500 * Y, 12_500 * Y),
        (B, "loss"): (1, 80_000 * Y, 800 * Y, 80_000 * Y),
    }
    assert run.required.fen == (14_200 + 80_800) * Y and run.posted == run.required.fen
    assert run.loans == 3 and run.balance.fen == 250_000 * Y
    # one portfolio entry per product, dated the month end: Dr 资产减值损失 / Cr 贷款损失准备
    entries = JournalEntry.objects.filter(kind=JournalEntry.Kind.PROVISION).order_by("product_id")
    assert [(e.product_id, e.loan_id, e.business_date) for e in entries] == [
        (A, None, dt.date(2026, 1, 31)),
        (B, None, dt.date(2026, 1, 31)),
    ]
    a_lines = {x.account.code: (x.debit.fen, x.credit.fen) for x in entries[0].lines.all()}
    assert a_lines == {"impairment_loss": (14_200 * Y, 0), "loan_loss_reserve": (0, 14_200 * Y)}
    assert reserve(book["A"]) == 14_200 * Y and reserve(book["B"]) == 80_800 * Y
    assert gl("loan_loss_reserve") == -95_000 * Y and gl("impairment_loss") == 95_000 * Y
    postings = {p.product_id: (p.previous, p.required.fen, p.amount) for p in run.postings.all()}
    assert postings == {A: (0, 14_200 * Y, 14_200 * Y), B: (0, 80_800 * Y, 80_800 * Y)}
    audit = AuditEntry.objects.get(action="provision.run")
    assert audit.metadata["posted"] == 95_000 * Y and audit.metadata["month"] == "2026-01"
    assert ledger.verify().ok, ledger.verify().problems


def test_rerun_of_the_same_month_posts_nothing(book, provisioner):
    first, _c = prov.provision_run(month=JAN, actor=provisioner)
    entries = JournalEntry.objects.count()
    again, created = prov.provision_run(month=JAN, actor=provisioner)
    assert not created and again.pk == first.pk
    assert JournalEntry.objects.count() == entries and ProvisionRun.objects.count() == 1
    # a correction inside the still-open month: only the difference, as run #2
    Loan.objects.filter(pk=book["a1"].pk).update(classification="special_mention")
    run2, created = prov.provision_run(month=JAN, actor=provisioner)
    assert created and run2.sequence == 2 and run2.posted == 2_400 * Y  # 2 % of 120,000
    assert reserve(book["A"]) == 16_600 * Y
    assert ledger.verify().ok, ledger.verify().problems


def test_release_when_the_book_improves(book, provisioner):
    prov.provision_run(month=JAN, actor=provisioner)
    Loan.objects.filter(pk=book["a2"].pk).update(classification="normal", status="active")
    run, _c = prov.provision_run(month=FEB, actor=provisioner)
    posting = run.postings.get(product=book["A"])
    assert (posting.previous, posting.required.fen, posting.amount) == (
        14_200 * Y,
        1_700 * Y,
        -12_500 * Y,
    )
    lines = {x.account.code: (x.debit.fen, x.credit.fen) for x in posting.entry.lines.all()}
    assert lines == {"loan_loss_reserve": (12_500 * Y, 0), "impairment_loss": (0, 12_500 * Y)}
    assert posting.entry.business_date == dt.date(2026, 2, 28)
    assert run.postings.get(product=book["B"]).entry is None  # unchanged: nothing posted
    assert reserve(book["A"]) == 1_700 * Y
    assert ledger.verify().ok, ledger.verify().problems


def test_write_off_uses_the_reserve_and_recovery_restores_it(book, provisioner):
    prov.provision_run(month=JAN, actor=provisioner)
    b1 = book["b1"]
    entry = services.loan_write_off(loan=b1, actor=provisioner, reason="破产清算终结")
    lines = {x.account.code: (x.debit.fen, x.credit.fen) for x in entry.lines.all()}
    assert lines == {"loan_loss_reserve": (80_000 * Y, 0), "loan_principal": (0, 80_000 * Y)}
    assert entry.product_id == book["B"].pk
    assert reserve(book["B"]) == 800 * Y
    assert AuditEntry.objects.get(action="loan.write_off").metadata["reserve_used"] == 80_000 * Y
    today = entry.business_date
    r = recovery_post(
        loan=b1, amount=Money("1000"), received_on=today, actor=provisioner, reference="执行款"
    )
    lines = {x.account.code: (x.debit.fen, x.credit.fen) for x in r.entry.lines.all()}
    assert lines == {"cash": (1_000 * Y, 0), "loan_loss_reserve": (0, 1_000 * Y)}
    assert reserve(book["B"]) == 1_800 * Y
    # beyond the principal: the interest part is income (核销收回), not the reserve
    r2 = recovery_post(
        loan=b1, amount=Money("79500"), received_on=today, actor=provisioner, reference="拍卖款"
    )
    lines = {x.account.code: (x.debit.fen, x.credit.fen) for x in r2.entry.lines.all()}
    assert lines == {
        "cash": (79_500 * Y, 0),
        "loan_loss_reserve": (0, 79_000 * Y),
        "write_off_recovery": (0, 500 * Y),
    }
    assert ledger.verify().ok, ledger.verify().problems
    # the loan was still on the book at the end of February (written off today): Feb requires
    # the same as January for it, so February posts nothing for 消费贷
    run, _c = prov.provision_run(month=FEB, actor=provisioner)
    assert run.postings.get(product=book["B"]).amount == 0
    assert ledger.verify().ok, ledger.verify().problems


def test_write_off_beyond_the_reserve_charges_impairment_loss(book, provisioner):
    Loan.objects.filter(pk=book["b1"].pk).update(classification="doubtful")
    prov.provision_run(month=JAN, actor=provisioner)  # 消费贷: 1 % + 50 % of 80,000 = 40,800
    Loan.objects.filter(pk=book["b1"].pk).update(classification="loss")
    entry = services.loan_write_off(loan=book["b1"], actor=provisioner, reason="无法收回")
    lines = {x.account.code: (x.debit.fen, x.credit.fen) for x in entry.lines.all()}
    assert lines == {
        "loan_loss_reserve": (40_800 * Y, 0),
        "impairment_loss": (39_200 * Y, 0),
        "loan_principal": (0, 80_000 * Y),
    }
    assert reserve(book["B"]) == 0
    assert ledger.verify().ok, ledger.verify().problems


def test_month_end_balances_undo_what_happened_after_the_month(book, provisioner, finance):
    a1 = book["a1"]
    # a repayment in March and a reclassification recorded in March do not change February
    services.repayment_post(
        loan=a1, amount=Money("30000"), received_on=dt.date(2026, 3, 10), actor=finance
    )
    Loan.objects.filter(pk=book["a2"].pk).update(classification="doubtful")
    LoanClassHistory.objects.create(
        loan=book["a2"], date=dt.date(2026, 3, 5), from_class="substandard", to_class="doubtful"
    )
    a1.refresh_from_db()
    assert a1.outstanding_principal.fen < 120_000 * Y
    feb = psel.month_end_balances(dt.date(2026, 2, 28))
    A = book["A"].pk
    assert feb[(A, "normal")] == [1, 120_000 * Y]
    assert feb[(A, "substandard")] == [1, 50_000 * Y]
    assert (A, "doubtful") not in feb
    mar = psel.month_end_balances(dt.date(2026, 3, 31))
    assert mar[(A, "normal")] == [1, a1.outstanding_principal.fen]
    assert mar[(A, "doubtful")] == [1, 50_000 * Y]
    # before the disbursement nothing was on the book
    assert psel.month_end_balances(dt.date(2025, 12, 31)) == {}
    # the one-statement PostgreSQL path and the Python path agree
    for day in (dt.date(2025, 12, 31), dt.date(2026, 2, 28), dt.date(2026, 3, 31)):
        assert psel._month_end_balances_python(day) == psel.month_end_balances(day)


# ---------------------------------------------------------------------------- guards


def test_closed_month_refuses_the_run_and_changes_nothing(book, provisioner):
    prov.provision_run(month=JAN, actor=provisioner)
    books.period_close(month=JAN, actor=provisioner)
    Loan.objects.filter(pk=book["a1"].pk).update(classification="special_mention")
    counts = (JournalEntry.objects.count(), ProvisionRun.objects.count())
    with pytest.raises(PeriodClosed, match="2026-01 已结账"):
        prov.provision_run(month=JAN, actor=provisioner)
    assert (JournalEntry.objects.count(), ProvisionRun.objects.count()) == counts
    assert ledger.verify().ok, ledger.verify().problems


def test_run_refused_before_month_end_eod_out_of_order_or_without_permission(
    book, provisioner, finance
):
    today = dt.date(2026, 12, 4)
    with pytest.raises(InvalidState, match="尚未结束"):
        prov.provision_run(month=dt.date(2026, 12, 1), actor=provisioner, today=today)
    with pytest.raises(InvalidState, match="日终"):
        prov.provision_run(month=dt.date(2025, 12, 1), actor=provisioner, today=today)
    with pytest.raises(NotPermitted):
        prov.provision_run(month=JAN, actor=finance)
    prov.provision_run(month=FEB, actor=provisioner)
    with pytest.raises(InvalidState, match="请按月份顺序计提"):
        prov.provision_run(month=JAN, actor=provisioner)
    assert ProvisionRun.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("substandard_pct", "19.99", "次级类贷款专项准备计提比例须在 20% 至 30% 之间"),
        ("substandard_pct", "30.5", "次级类"),
        ("doubtful_pct", "39", "可疑类贷款专项准备计提比例须在 40% 至 60% 之间"),
        ("doubtful_pct", "61", "可疑类"),
        ("loss_pct", "101", "0% 至 100%"),
        ("general_pct", "-1", "0% 至 100%"),
        ("special_mention_pct", "35", "逐级不降低"),
    ],
)
def test_rate_validation_refuses_outside_the_band(provisioner, field, value, message):
    values = psel.current_rates().as_dict() | {field: value}
    with pytest.raises(InvalidLoan, match=message):
        prov.rates_update(actor=provisioner, note="调整", **values)
    assert not ProvisionRates.objects.exists()


def test_rates_versioned_audited_and_used_by_the_next_run(book, provisioner, finance):
    values = psel.current_rates().as_dict() | {"substandard_pct": "30", "doubtful_pct": "40"}
    with pytest.raises(NotPermitted):
        prov.rates_update(actor=finance, note="上浮", **values)
    with pytest.raises(InvalidLoan, match="调整说明"):
        prov.rates_update(actor=provisioner, note=" ", **values)
    v1 = prov.rates_update(actor=provisioner, note="次级上浮 20%", **values)
    assert v1.version == 1 and psel.current_rates() == v1
    audit = AuditEntry.objects.get(action="provision.rates_update")
    assert audit.changes == {"substandard_pct": ["25", "30"], "doubtful_pct": ["50", "40"]}
    run, _c = prov.provision_run(month=JAN, actor=provisioner)
    line = ProvisionLine.objects.get(run=run, classification="substandard")
    assert line.specific.fen == 15_000 * Y and run.rates == v1
    assert run.rates_used["version"] == 1 and run.rates_used["substandard_pct"] == "30"


# ---------------------------------------------------------------------------- verify, report, CLI


def test_verify_finds_a_stray_reserve_posting_and_a_tampered_run(book, provisioner, finance):
    run, _c = prov.provision_run(month=JAN, actor=provisioner)
    assert ledger.verify().ok
    ledger.post_entry(
        loan=None,
        product=book["A"],
        kind=JournalEntry.Kind.ADJUSTMENT,
        business_date=dt.date(2026, 1, 31),
        actor=finance,
        memo="手工",
        lines=[("impairment_loss", 100, 0), ("loan_loss_reserve", 0, 100)],
    )
    problems = ledger.verify().problems
    assert any("only provision runs" in p for p in problems)
    ProvisionPosting.objects.filter(run=run, product=book["B"]).update(amount=1)
    assert any("provision entries in the GL" in p for p in ledger.verify().problems)


def test_report_page_export_and_run_from_the_ui(client, book, provisioner, owner):
    client.force_login(provisioner)
    url = reverse("lending:provisions:report")
    page = client.get(url, {"period": "2026-01"})
    assert page.status_code == 200 and "该期间尚未计提" in page.content.decode()
    resp = client.post(reverse("lending:provisions:run"), {"month": "2026-01"}, follow=True)
    text = resp.content.decode()
    assert "已计提" in text and "95,000.00" in text and "次级" in text
    resp = client.post(reverse("lending:provisions:run"), {"month": "2026-01"}, follow=True)
    assert "未重复记账" in resp.content.decode()
    xlsx = client.get(url, {"period": "2026-01", "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxml")
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(xlsx.content))
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    total = [r for r in rows if r[0] == "合计"][0]
    assert total[1] == 3 and total[-1] == Decimal("95000.00")
    assert len(wb.worksheets) == 3
    # rates page
    rates = client.get(reverse("lending:provisions:rates"))
    assert rates.status_code == 200 and "银发〔2002〕98号" in rates.content.decode()
    form = psel.current_rates().as_dict() | {"doubtful_pct": "70", "note": "试"}
    bad = client.post(reverse("lending:provisions:rates"), form)
    assert "40% 至 60%" in bad.content.decode() and not ProvisionRates.objects.exists()
    # no access without the permission
    client.force_login(owner)
    assert client.get(url).status_code == 403
    assert client.post(reverse("lending:provisions:run"), {"month": "2026-02"}).status_code == 403


def test_cli_run_and_report(book, provisioner):
    out = io.StringIO()
    call_command("provisions", "run", "--month", "2026-01", "--user", "provisioner", stdout=out)
    assert "required 95,000.00" in out.getvalue()
    out = io.StringIO()
    call_command("provisions", "run", "--month", "2026-01", "--user", "provisioner", stdout=out)
    assert "unchanged" in out.getvalue()
    out = io.StringIO()
    call_command("provisions", "report", "--month", "2026-01", "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["totals"]["required"] == 95_000 * Y
    assert {r["class"] for r in data["by_class"]} == {"normal", "substandard", "loss"}
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="日终"):
        call_command("provisions", "run", "--month", "2025-12", "--user", "provisioner")


# ---------------------------------------------------------------------------- hypothesis

CLASS_OPTIONS = ["normal", "special_mention", "substandard", "doubtful", "loss"]


class ProvisionMachine(RuleBasedStateMachine):
    """Runs month by month (January → November 2026), reclassifications, repayments in the
    month being built, write-offs and recoveries (dated today, after every provisioned month).
    Invariant: per product, the reserve in the GL = the last run's required (computed here
    independently from the loans) + the write-offs' and recoveries' effects; verify is clean."""

    def __init__(self):
        super().__init__()
        import tests.conftest as root

        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        w = root._WORLD
        self.w = w
        self.loans = [
            disbursed(w["owner"], w["borrower"], w["pvs"][i % 2], w["actor"], amount)
            for i, amount in enumerate(["120000", "50000", "80000", "30000"])
        ]
        self.month = JAN
        self.required: dict[int, int] = {}
        self.effects: dict[int, int] = {}
        self.written: dict[int, tuple[int, str]] = {}  # loan → (principal, class) at write-off
        month_ends()

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _loan(self, i: int) -> Loan:
        return Loan.objects.get(pk=self.loans[i % len(self.loans)].pk)

    @rule(i=st.integers(0, 3), cls=st.sampled_from(CLASS_OPTIONS))
    def reclassify(self, i, cls):
        loan = self._loan(i)
        if loan.status == "written_off":
            return
        Loan.objects.filter(pk=loan.pk).update(classification=cls)

    @rule(i=st.integers(0, 3), amount=st.integers(1_000_00, 40_000_00))
    def repay(self, i, amount):
        loan = self._loan(i)
        if loan.status in ("written_off", "paid_off") or self.month.month > 10:
            return
        services.repayment_post(
            loan=loan,
            amount=Money.from_fen(amount),
            received_on=self.month + dt.timedelta(days=19),
            actor=self.w["actor"],
        )

    @precondition(lambda self: self.month.month <= 11)
    @rule()
    def run(self):
        run, _c = prov.provision_run(month=self.month, actor=self.w["actor"])
        rates = psel.current_rates()
        groups: dict[tuple[int, str], int] = {}
        for loan in Loan.objects.select_related("product_version"):
            if loan.pk in self.written:
                balance, cls = self.written[loan.pk]
            else:
                balance, cls = loan.outstanding_principal.fen, loan.classification
            if balance > 0:
                key = (loan.product_version.product_id, cls)
                groups[key] = groups.get(key, 0) + balance
        required: dict[int, int] = {}
        for (product, cls), balance in groups.items():
            amount = psel.share(balance, rates.general_pct) + psel.share(
                balance, rates.specific_pct(cls)
            )
            required[product] = required.get(product, 0) + amount
        self.required = required
        self.month = dt.date(2026, self.month.month + 1, 1)

    @rule(i=st.integers(0, 3))
    def write_off(self, i):
        loan = self._loan(i)
        if loan.status not in ("active", "overdue") or loan.credit_balance.fen:
            return
        if loan.outstanding_principal.fen == 0:
            return
        Loan.objects.filter(pk=loan.pk).update(classification="loss", status="overdue")
        product = loan.product_version.product_id
        principal = loan.outstanding_principal.fen
        self.written[loan.pk] = (principal, "loss")
        available = max(self.gl_expected(product), 0)
        services.loan_write_off(loan=loan, actor=self.w["actor"], reason="测试核销")
        self.effects[product] = self.effects.get(product, 0) - min(principal, available)

    @rule(i=st.integers(0, 3), amount=st.integers(1, 30_000_00))
    def recover(self, i, amount):
        loan = self._loan(i)
        if loan.status != "written_off":
            return
        from credo.lending.models import OffBalance

        off = OffBalance.objects.get(loan=loan)
        total = sum(off.remaining(c) for c in ("principal", "interest", "fee", "penalty"))
        amount = min(amount, total)
        if amount <= 0:
            return
        principal_part = min(amount, off.remaining("principal"))
        recovery_post(
            loan=loan,
            amount=Money.from_fen(amount),
            received_on=off.written_off_on,
            actor=self.w["actor"],
        )
        product = loan.product_version.product_id
        self.effects[product] = self.effects.get(product, 0) + principal_part

    def gl_expected(self, product: int) -> int:
        return self.required.get(product, 0) + self.effects.get(product, 0)

    @invariant()
    def reserve_matches(self):
        got = psel.reserve_balances()
        for product in set(got) | set(self.required) | set(self.effects):
            assert got.get(product, 0) == self.gl_expected(product), product
        report = ledger.verify()
        assert report.ok, report.problems


ProvisionMachine.TestCase.settings = settings(
    max_examples=12,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def test_state_machine(owner, borrower, product_version, second_version, provisioner):
    from hypothesis.stateful import run_state_machine_as_test

    import tests.conftest as root

    root._WORLD = {
        "owner": owner,
        "borrower": borrower,
        "pvs": [product_version, second_version],
        "actor": provisioner,
    }
    try:
        run_state_machine_as_test(ProvisionMachine, settings=ProvisionMachine.TestCase.settings)
    finally:
        root._WORLD = None


def test_month_end_schedule_runs_last_month_once(book, provisioner):
    from credo.core import clock
    from credo.core.scheduling.registry import schedules
    from credo.lending.books.selectors import month_start, prev_month
    from credo.lending.provisions.tasks import provisions_month_end

    spec = schedules.get("lending.provisions_month_end")
    assert spec is not None and not spec.enabled and spec.kwargs == {"username": ""}
    assert "skipped" in provisions_month_end.call(username="")
    month = prev_month(month_start(clock.today()))
    eod_done(psel_month_end(month))
    first = provisions_month_end.call(username="provisioner")
    assert first["created"] is True and first["month"] == month.strftime("%Y-%m")
    again = provisions_month_end.call(username="provisioner")
    assert again["created"] is False and ProvisionRun.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_post_once_and_a_write_off_sees_a_whole_run(book, provisioner):
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for real concurrent transactions")
    barrier = threading.Barrier(4)
    created, errors = [], []

    def run():
        from django.db import connection as conn

        try:
            barrier.wait()
            created.append(prov.provision_run(month=JAN, actor=provisioner)[1])
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            conn.close()

    def write_off():
        from django.db import connection as conn

        try:
            barrier.wait()
            services.loan_write_off(loan=book["b1"], actor=provisioner, reason="并发核销")
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=run) for _ in range(3)] + [
        threading.Thread(target=write_off)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sorted(created) == [False, False, True]
    assert ProvisionRun.objects.count() == 1
    assert JournalEntry.objects.filter(kind=JournalEntry.Kind.PROVISION).count() == 2
    used = AuditEntry.objects.get(action="loan.write_off").metadata["reserve_used"]
    assert used in (0, 80_000 * Y)
    assert reserve(book["B"]) == 80_800 * Y - used
    assert ledger.verify().ok, ledger.verify().problems
