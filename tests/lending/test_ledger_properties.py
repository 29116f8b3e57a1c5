"""A hypothesis state machine over one loan: disburse, close of business (with the daily
interest accrual of an accrual-basis book), repay (any amount, any due date), reverse, write
off, and at month ends the loan-loss provision run and the period close (结账; later money into
a closed month is booked in the open period) — check the ledger invariants after every step
(``credo ledger verify``: entries balance, sub-ledgers = control accounts incl. the accrual
sub-ledger and the reserve, closed periods unchanged); and duplicate postings racing on
PostgreSQL."""

import datetime as dt
import threading

import pytest
from django.db import connection
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from credo.core.money import Money
from credo.lending import ledger, services
from credo.lending.errors import InvalidState
from credo.lending.models import Installment, Loan, Posting
from credo.lending.states import LOAN_OPEN_STATES


def _accountant():
    """Finance staff who run the provisions and close the month (结账)."""
    from django.contrib.auth.models import Permission

    from tests.factories import RoleFactory, UserFactory

    role, _created = RoleFactory._meta.model.objects.get_or_create(
        code="month_end_t", defaults={"name": "月结T", "data_scope": "all"}
    )
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="lending", codename__in=["close_period", "manage_provisions"]
        )
    )
    user = UserFactory._meta.model.objects.filter(username="month_end").first()
    return user or UserFactory(username="month_end", display_name="月结", roles=[role])


class LoanMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        from tests.conftest import _make_world

        self.world = _make_world()
        self.loan = self.world["make_loan"]()
        self.loan = services.loan_disburse(
            loan=self.loan, actor=self.world["finance"], value_date=dt.date(2025, 1, 10)
        )
        self.postings: list[Posting] = []
        self.day = dt.date(2025, 1, 10)
        self.accountant = _accountant()

    @rule(days=st.integers(min_value=1, max_value=12))
    def eod(self, days):
        """Close of business moves time forward: dues, overdue, penalty, credit applied."""
        from credo.lending.eod import run_eod

        # a month's last day always gets its own close (the month-end close of business the
        # provisions and the period close wait for)
        month_end = (self.day.replace(day=1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(
            days=1
        )
        self.day = min(
            self.day + dt.timedelta(days=days), max(month_end, self.day + dt.timedelta(days=1))
        )
        if self.day >= dt.date.today():
            return
        run = run_eod(self.day)
        assert run.status == "done"

    @rule(amount=st.integers(min_value=1, max_value=3_000_000), period=st.integers(1, 12))
    def repay(self, amount, period):
        on = max(self.loan.installments.get(period=period).due_date, self.day)
        if on > dt.date.today():
            return
        try:
            p = services.repayment_post(
                loan=self.loan,
                amount=Money.from_fen(amount),
                received_on=on,
                actor=self.world["finance"],
            )
        except InvalidState:
            assert Loan.objects.get(pk=self.loan.pk).status in ("paid_off", "written_off")
            return
        self.postings.append(p)

    @precondition(lambda self: self.postings)
    @rule(index=st.integers(min_value=0, max_value=50))
    def reverse(self, index):
        posting = self.postings[index % len(self.postings)]
        try:
            services.posting_reverse(posting=posting, actor=self.world["finance"], reason="测试")
        except InvalidState:
            posting.refresh_from_db()
            loan = Loan.objects.get(pk=self.loan.pk)
            assert (
                posting.reversed_at is not None
                or loan.status == "written_off"
                or posting.allocation["credit"] > loan.credit_balance.fen
            )

    @rule()
    def write_off(self):
        """核销 once classified 损失 (set directly: reaching 181+ DPD would take many steps)."""
        loan = Loan.objects.get(pk=self.loan.pk)
        Loan.objects.filter(pk=loan.pk).update(classification="loss")
        try:
            services.loan_write_off(loan=loan, actor=self.world["finance"], reason="测试核销")
        except InvalidState:
            loan.refresh_from_db()
            assert (
                loan.status not in LOAN_OPEN_STATES
                or loan.credit_balance.fen > 0
                or loan.outstanding_principal.fen == 0
            )

    @rule()
    def month_end(self):
        """月末: close of business up to the current month's last day, then for every ended
        month not yet closed, in order: the loan-loss provision run and the period close
        (结账) — each only when nothing blocks it (both are refused otherwise)."""
        from credo.lending.books.models import AccountingPeriod
        from credo.lending.books.services import close_blockers, period_close
        from credo.lending.eod import run_eod
        from credo.lending.provisions.models import ProvisionRun
        from credo.lending.provisions.services import provision_run, run_blockers

        end = (self.day.replace(day=1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(
            days=1
        )
        if end >= dt.date.today():
            return
        if end > self.day:
            self.day = end
            assert run_eod(end).status == "done"
        closed = set(
            AccountingPeriod.objects.exclude(status=AccountingPeriod.Status.OPEN).values_list(
                "month", flat=True
            )
        )
        month = dt.date(2025, 1, 1)
        while month <= end:
            if month not in closed:
                if not run_blockers(month) and not ProvisionRun.objects.filter(month=month):
                    run, created = provision_run(month=month, actor=self.accountant)
                    assert created or run.month == month
                    event("provisions run")
                if close_blockers(month):
                    break
                period = period_close(month=month, actor=self.accountant)
                assert period.status != AccountingPeriod.Status.OPEN
                event("period closed")
            month = (month + dt.timedelta(days=32)).replace(day=1)

    @invariant()
    def ledger_consistent(self):
        report = ledger.verify()
        assert report.ok, report.problems
        loan = Loan.objects.get(pk=self.loan.pk)
        paid = sum(i.principal_paid.fen for i in Installment.objects.filter(loan=loan))
        if loan.status == "written_off":
            written_off = sum(  # the reserve first, the rest 资产减值损失 (issue 20)
                ledger.loan_account_balance(loan, code)
                for code in ("write_off_expense", "loan_loss_reserve", "impairment_loss")
            )
            assert loan.outstanding_principal.fen == 0
            assert written_off == loan.principal.fen - paid > 0
        else:
            assert loan.outstanding_principal.fen == loan.principal.fen - paid >= 0


@pytest.fixture(autouse=True)
def _world(db, org, owner, borrower, product_version, finance, make_loan):
    import tests.conftest as root

    root._WORLD = {"make_loan": make_loan, "finance": finance}
    yield
    root._WORLD = None


LoanMachine.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.django_db
def test_state_machine():
    # Run the machine inside the pytest-django transaction that holds the fixtures.
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(LoanMachine, settings=LoanMachine.TestCase.settings)


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_postings_post_once(
    org, owner, borrower, product_version, finance, make_loan
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for real concurrent transactions")
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=dt.date(2025, 1, 10))
    on = loan.installments.get(period=1).due_date
    barrier = threading.Barrier(4)
    results, errors = [], []

    def run():
        from django.db import connection as conn

        try:
            barrier.wait()
            results.append(
                services.repayment_post(
                    loan=loan,
                    amount=Money("1000"),
                    received_on=on,
                    actor=finance,
                    idempotency_key="same-key",
                ).pk
            )
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(results)) == 1
    assert Posting.objects.count() == 1 and ledger.verify().ok
    paid = sum(i.interest_paid.fen for i in Installment.objects.filter(loan=loan))
    assert paid == 100_000  # 1,000 yuan applied exactly once (to period 1's interest)
