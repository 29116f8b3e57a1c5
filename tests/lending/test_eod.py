"""Close-of-business batch (日终批处理): marking, DPD, penalty, classification, idempotency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from credo.core.money import Money
from credo.customers.models import CustomerEvent
from credo.lending import eod, ledger, services
from credo.lending.accruals.models import LoanAccrual
from credo.lending.models import EodChunk, EodRun, Installment, Loan, Product, ProductVersion
from tests.factories import RoleFactory, UserFactory
from tests.lending.conftest import BOOKED_ON, VALUE_DATE, book_on

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def loan(make_loan, finance):
    """120,000.00 at 12% over 12 months, equal installments; first due 2026-02-15."""
    return services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)


@pytest.fixture
def bullet_loan(owner, borrower, finance):
    """10,000.00 at 12%, one installment (principal 10,000.00) due 2026-04-15."""
    product = Product.objects.create(code="bullet", name="到期还本")
    pv = ProductVersion.objects.create(
        product=product,
        number=1,
        status="published",
        min_amount=Money("10000"),
        max_amount=Money("100000"),
        min_months=3,
        max_months=12,
        min_rate=Decimal("4"),
        max_rate=Decimal("18"),
        method="bullet",
        penalty_multiplier=Decimal("1.5"),
        allocation_order=["penalty", "fee", "interest", "principal"],
        holiday_rule="none",
        compound_interest=False,  # these tests check the 罚息 mechanics of the close alone
    )
    created = services.loan_create(
        customer=borrower,
        product_version=pv,
        principal=Money("10000"),
        annual_rate=Decimal("12"),
        months=3,
        actor=owner,
    )
    # booked before the value date: a loan may not be disbursed before it existed
    created = book_on(created, BOOKED_ON)
    return services.loan_disburse(loan=created, actor=finance, value_date=VALUE_DATE)


def first(loan: Loan) -> Installment:
    return loan.installments.get(period=1)


def test_due_overdue_dpd_classification_with_grace_days(loan):
    Loan.objects.filter(pk=loan.pk).update(grace_days=3)
    eod.run_eod(D(2026, 2, 14))
    assert first(loan).status == "scheduled"
    eod.run_eod(D(2026, 2, 15))
    loan.refresh_from_db()
    assert first(loan).status == "due"
    assert (loan.status, loan.dpd, loan.classification) == ("active", 0, "normal")
    eod.run_eod(D(2026, 2, 18))  # due + grace: still only due
    loan.refresh_from_db()
    # DPD counts from the due date even within grace (the 1–3-day reminder tier sees it)
    assert first(loan).status == "due" and loan.dpd == 3 and loan.status == "active"
    assert first(loan).penalty_due == Money.from_fen(0)
    eod.run_eod(D(2026, 2, 19))
    loan.refresh_from_db()
    assert first(loan).status == "overdue"
    assert loan.installments.get(period=2).status == "scheduled"
    assert (loan.status, loan.dpd, loan.classification) == ("overdue", 4, "special_mention")
    assert loan.last_eod_date == D(2026, 2, 19)
    assert CustomerEvent.objects.filter(
        customer=loan.customer, kind="alert", source="lending", title__contains="逾期"
    ).exists()


def test_classification_thresholds_from_environment(loan, monkeypatch):
    monkeypatch.setenv("CREDO_CLASSIFICATION_DPD", "1,3,5,7")
    assert eod.classify(0) == "normal"
    assert eod.classify(3) == "substandard"
    assert eod.classify(7) == "loss"
    eod.run_eod(D(2026, 2, 15))
    eod.run_eod(D(2026, 2, 20))  # 5 days past due
    loan.refresh_from_db()
    assert (loan.dpd, loan.classification) == (5, "doubtful")
    monkeypatch.setenv("CREDO_CLASSIFICATION_DPD", "1,abc")
    with pytest.raises(eod.EodError, match="CREDO_CLASSIFICATION_DPD"):
        eod.run_eod(D(2026, 2, 21))


def test_default_classification_levels():
    # 《商业银行金融资产风险分类办法》(2023): 可疑 from DPD > 270 (was 181 before issue 18)
    assert [eod.classify(d) for d in (0, 1, 90, 91, 270, 271, 360, 361)] == [
        "normal",
        "special_mention",
        "special_mention",
        "substandard",
        "substandard",
        "doubtful",
        "doubtful",
        "loss",
    ]


def test_penalty_exact_amounts(bullet_loan):
    # 10,000.00 overdue × 12% × 1.5 / 360 = 5.00 per day (复利 is off on this fixture; its
    # figures: tests/lending/test_replay_engine.py, test_replay_service.py)
    eod.run_eod(D(2026, 4, 15))
    inst = first(bullet_loan)
    assert inst.status == "due" and inst.penalty_due == Money.from_fen(0)
    run = eod.run_eod(D(2026, 4, 16))
    assert first(bullet_loan).penalty_due == Money("5.00")
    assert run.counts["penalty_fen"] == 500 and run.counts["became_overdue"] == 1
    eod.run_eod(D(2026, 4, 18))  # catches up 17 and 18
    assert first(bullet_loan).penalty_due == Money("15.00")
    bullet_loan.refresh_from_db()
    assert bullet_loan.dpd == 3
    assert ledger.verify().ok


def test_rerun_is_idempotent(bullet_loan):
    eod.run_eod(D(2026, 4, 15))
    run = eod.run_eod(D(2026, 4, 16))
    state = list(Installment.objects.values().order_by("pk"))
    loan_state = Loan.objects.values().get(pk=bullet_loan.pk)
    events = CustomerEvent.objects.count()
    again = eod.run_eod(D(2026, 4, 16))
    assert again.pk == run.pk and again.counts == run.counts
    assert list(Installment.objects.values().order_by("pk")) == state
    assert Loan.objects.values().get(pk=bullet_loan.pk) == loan_state
    assert CustomerEvent.objects.count() == events
    # re-processing a done chunk changes nothing either
    chunk = EodChunk.objects.filter(run=run).get()
    eod.process_chunk(chunk.pk)
    assert list(Installment.objects.values().order_by("pk")) == state


def test_catch_up_missed_days_in_order(bullet_loan):
    eod.run_eod(D(2026, 4, 14))
    run = eod.run_eod(D(2026, 4, 20))
    dates = list(EodRun.objects.order_by("id").values_list("business_date", flat=True))
    assert dates == [D(2026, 4, d) for d in range(14, 21)]
    assert run.business_date == D(2026, 4, 20)
    assert EodRun.objects.exclude(status="done").count() == 0
    # overdue from the 16th: 16..20 = 5 days of 5.00
    assert first(bullet_loan).penalty_due == Money("25.00")


def test_catch_up_never_before_earliest_loan_start(bullet_loan):
    EodRun.objects.create(business_date=D(2025, 12, 1), status="done")
    eod.run_eod(D(2026, 1, 17))
    dates = list(
        EodRun.objects.exclude(business_date=D(2025, 12, 1))
        .values_list("business_date", flat=True)
        .order_by("business_date")
    )
    assert dates == [D(2026, 1, 15), D(2026, 1, 16), D(2026, 1, 17)]


def test_future_date_refused(loan):
    with pytest.raises(eod.EodError, match="未来"):
        eod.run_eod(dt.date.today() + dt.timedelta(days=2))
    assert not EodRun.objects.exists()
    with pytest.raises(CommandError, match="未来"):
        call_command("eod", "--date", (dt.date.today() + dt.timedelta(days=2)).isoformat())


def test_credit_balance_applied_when_installment_falls_due(loan, finance):
    services.repayment_post(
        loan=loan, amount=Money("20000"), received_on=D(2026, 1, 20), actor=finance
    )
    loan.refresh_from_db()
    assert loan.credit_balance == Money("20000")
    due_total = sum(
        (i.principal_due.fen + i.interest_due.fen + i.fee_due.fen) for i in [first(loan)]
    )
    run = eod.run_eod(D(2026, 2, 15))
    loan.refresh_from_db()
    inst = first(loan)
    assert inst.status == "paid" and inst.paid_on == D(2026, 2, 15)
    assert loan.credit_balance.fen == 2_000_000 - due_total
    assert loan.outstanding_principal.fen == 12_000_000 - inst.principal_due.fen
    assert run.counts["credit_applied_fen"] == due_total
    assert ledger.verify().ok
    assert ledger.loan_account_balance(loan, "customer_credit") == -loan.credit_balance.fen


def test_ledger_verify_ok_after_eod_with_penalty_and_repayment(bullet_loan, finance):
    eod.run_eod(D(2026, 4, 15))
    eod.run_eod(D(2026, 4, 20))
    services.repayment_post(
        loan=bullet_loan, amount=Money("10400"), received_on=D(2026, 4, 21), actor=finance
    )
    eod.run_eod(D(2026, 4, 21))
    bullet_loan.refresh_from_db()
    assert bullet_loan.status == "paid_off"
    assert ledger.verify().ok
    # 权责发生制: the 罚息 was recognised by the daily accrual (the product's portfolio entry,
    # this loan's part in its sub-ledger) and the repayment settled the receivable
    accrual = LoanAccrual.objects.get(loan=bullet_loan)
    assert accrual.penalty_accrued == 2500
    assert accrual.penalty_receivable == 0
    assert ledger.loan_account_balance(bullet_loan, "penalty_receivable") == -2500


def test_became_overdue_is_counted_once(bullet_loan):
    eod.run_eod(D(2026, 4, 15))
    assert eod.run_eod(D(2026, 4, 16)).counts["became_overdue"] == 1
    assert eod.run_eod(D(2026, 5, 15)).counts["became_overdue"] == 0


def test_paid_off_loan_stays_paid_off(bullet_loan):
    Loan.objects.filter(pk=bullet_loan.pk).update(status="paid_off")
    before = list(Installment.objects.filter(loan=bullet_loan).values())
    run = eod.run_eod(D(2026, 5, 1))
    bullet_loan.refresh_from_db()
    assert bullet_loan.status == "paid_off" and bullet_loan.last_eod_date is None
    assert list(Installment.objects.filter(loan=bullet_loan).values()) == before
    assert run.status == "done" and run.loans_total == 0


def test_chunks_and_cure(make_loan, finance):
    loans = [
        services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
        for _ in range(5)
    ]
    eod.run_eod(D(2026, 2, 15))
    run = eod.run_eod(D(2026, 2, 16), chunk_size=2)
    assert run.chunks_total == 3 and run.chunks_done == 3 and run.loans_done == 5
    assert run.counts["became_overdue"] == 5
    assert sorted(run.chunks.values_list("processed", flat=True)) == [1, 2, 2]
    target = loans[0]
    services.repayment_post(
        loan=target, amount=Money("20000"), received_on=D(2026, 2, 17), actor=finance
    )
    eod.run_eod(D(2026, 2, 18))
    target.refresh_from_db()
    assert (target.status, target.dpd, target.classification) == ("active", 0, "normal")
    counts = EodRun.objects.get(business_date=D(2026, 2, 17)).counts
    assert counts["cured"] == 1 and counts["became_overdue"] == 0
    assert counts["classification_changes"] == 1
    assert ledger.verify().ok


def test_queued_run_with_catch_up(bullet_loan, django_capture_on_commit_callbacks):
    eod.run_eod(D(2026, 4, 14))
    # immediate backend in tests; the jobs are queued on commit, the next day after them
    with django_capture_on_commit_callbacks(execute=True):
        run = eod.run_eod(D(2026, 4, 17), inline=False)
    assert run.business_date == D(2026, 4, 15)
    assert list(
        EodRun.objects.values_list("business_date", "status").order_by("business_date")
    ) == [(D(2026, 4, d), "done") for d in range(14, 18)]
    assert first(bullet_loan).penalty_due == Money("10.00")


def test_command_prints_counts(loan, capsys):
    call_command("eod", "--date", "2026-02-16", "--chunk-size", "10")
    out = capsys.readouterr().out
    assert "2026-02-16" in out and "became_overdue: 1" in out


# --- pages ------------------------------------------------------------------------------------


@pytest.fixture
def eod_user(org):
    from django.contrib.auth.models import Permission

    role = RoleFactory(code="eod_t", name="日终T", data_scope="all")
    role.permissions.add(
        Permission.objects.get(content_type__app_label="lending", codename="run_eod")
    )
    return UserFactory(username="eoduser", org_unit=org["head"], roles=[role])


@pytest.fixture
def eod_urls(settings):
    """Mount lending_eod at /lending/eod/ unless the project urls already do."""
    from django.urls import NoReverseMatch, clear_url_caches, include, path

    import credo.urls as root

    try:
        reverse("lending_eod:runs")
    except NoReverseMatch:
        pass
    else:
        yield
        return

    patterns = [path("lending/eod/", include("credo.lending.eod.urls")), *root.urlpatterns]
    module = type(root)("eod_test_urls")
    module.urlpatterns = patterns  # type: ignore[attr-defined]
    import sys

    sys.modules["eod_test_urls"] = module
    settings.ROOT_URLCONF = "eod_test_urls"
    clear_url_caches()
    yield
    clear_url_caches()


def test_runs_page_requires_permission(client, eod_urls, outsider):
    client.force_login(outsider)
    assert client.get(reverse("lending_eod:runs")).status_code == 403


def test_run_from_page(client, eod_urls, eod_user, bullet_loan):
    client.force_login(eod_user)
    response = client.get(reverse("lending_eod:runs"))
    assert response.status_code == 200 and "运行日终" in response.content.decode()
    response = client.post(reverse("lending_eod:runs"), {"business_date": "2026-04-16"})
    assert response.status_code == 302
    run = EodRun.objects.get(business_date=D(2026, 4, 16))
    assert run.status == "done" and run.started_by == eod_user
    page = client.get(reverse("lending_eod:run_detail", args=[run.pk])).content.decode()
    assert "已完成" in page and "2026-04-16" in page
    response = client.post(reverse("lending_eod:runs"), {"business_date": "2099-01-01"})
    assert "未来" in response.content.decode()
    fragment = client.get(
        reverse("lending_eod:run_detail", args=[run.pk]), headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()


def test_nightly_task_runs_yesterday_and_audits(loan):
    from credo.core.audit.models import AuditEntry
    from credo.lending.tasks import eod_nightly

    run_pk = eod_nightly.call()
    run = EodRun.objects.get(pk=run_pk)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    assert run.business_date == yesterday and run.status == "done"
    loan.refresh_from_db()
    assert loan.status == "overdue" and loan.last_eod_date == yesterday
    # the first close of business on the database caught the loan up from its start by replay
    # (issue 18): the status change is that replay's audit entry
    entry = AuditEntry.objects.filter(action="loan.replay").get()
    assert entry.metadata["loans"][0]["after"]["status"] == "overdue"
    assert AuditEntry.objects.filter(action="lending.eod_done").exists()


def test_after_close_job_called_once_per_finished_date(bullet_loan):
    finished: list = []

    def fn(run):
        finished.append((run.business_date, run.status))

    eod.register_after_close_job("test.once", fn, label="测试")
    try:
        eod.run_eod(D(2026, 4, 15))
        eod.run_eod(D(2026, 4, 15))  # re-run of a done date: its done job is not run again
        assert finished == [(D(2026, 4, 15), "done")]
    finally:
        eod.unregister_after_close_job("test.once")


def test_loan_paid_off_by_the_close_keeps_its_last_eod_date(bullet_loan, loan, finance):
    """The close pays the bullet loan off from its credit balance on the due date (it leaves
    the open book and keeps the date of its previous close), while an open loan of the same
    chunk is closed for the day (PostgreSQL writes both in one UPDATE)."""
    eod.run_eod(D(2026, 4, 14))
    inst = first(bullet_loan)
    owed = inst.principal_due.fen + inst.interest_due.fen + inst.fee_due.fen
    services.repayment_post(
        loan=bullet_loan, amount=Money.from_fen(owed), received_on=D(2026, 4, 14), actor=finance
    )
    run = eod.run_eod(D(2026, 4, 15))
    assert run.counts["credit_applied_fen"] == owed and run.counts["paid_off"] == 1
    bullet_loan.refresh_from_db()
    loan.refresh_from_db()
    assert bullet_loan.status == "paid_off" and bullet_loan.last_eod_date == D(2026, 4, 14)
    assert bullet_loan.credit_balance.fen == 0 and bullet_loan.outstanding_principal.fen == 0
    assert first(bullet_loan).status == "paid"
    assert loan.status in ("active", "overdue") and loan.last_eod_date == D(2026, 4, 15)
    assert ledger.verify().ok
