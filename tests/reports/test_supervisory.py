"""Monthly supervisory reports (issue 22 item 2): known answers on a hand-built book, the
frozen month against later activity and a recompute, the period-close hook, the page, the
fixed-layout Excel, the PDF and the scheduled delivery."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import override_settings
from django.urls import reverse

from credo.collateral.models import Collateral, CollateralLink, Guarantee
from credo.core.money import Money
from credo.customers.models import Customer
from credo.lending import services
from credo.lending.books import services as books
from credo.lending.models import (
    EodRun,
    JournalLine,
    LedgerAccount,
    Loan,
    LoanClassHistory,
    Posting,
    Product,
    ProductVersion,
)
from credo.reports import supervisory
from credo.reports.models import LoanMonthEnd, SupervisoryCell, SupervisoryMonth
from credo.reports.supervisory_export import to_xlsx
from tests.factories import RoleFactory, UserFactory
from tests.lending.conftest import book_on

pytestmark = pytest.mark.django_db

JAN = dt.date(2026, 1, 1)
JAN_END = dt.date(2026, 1, 31)
LENDER = {
    "CREDO_ORG_NAME": "山西测试小额贷款有限公司",
    "CREDO_ORG_USCC": "91140100MA0TEST001",
    "CREDO_ORG_ADDRESS": "山西省太原市小店区测试路1号",
}


# --- pure mappings ---------------------------------------------------------------------------------
def test_bands_and_mappings():
    lpr = Decimal("3.0")
    assert [supervisory.term_bucket(m) for m in (3, 12, 13, 36, 37)] == [
        "le1y",
        "le1y",
        "1to3y",
        "1to3y",
        "gt3y",
    ]
    rates = ["3.0", "3.01", "6", "6.01", "12", "12.01", "24", "24.5", "36", "36.01"]
    assert [supervisory.rate_bucket(Decimal(r), lpr) for r in rates] == [
        "le_lpr",
        "lpr_2x",
        "lpr_2x",
        "2x_4x",
        "2x_4x",
        "4x_24",
        "4x_24",
        "24_36",
        "24_36",
        "gt36",
    ]
    b = supervisory.borrower_bucket
    assert b("enterprise", "C", "X", None) == "enterprise"
    assert b("individual", "A", "", None) == "farmer"
    assert b("individual", "A", "92140100MA0000000X", None) == "sole_proprietor"
    assert b("individual", "", "", None) == "other_individual"
    assert b("individual", "", "", "农户") == "farmer"
    assert b("individual", "", "", "nonsense") == "other_individual"
    c = supervisory.city_bucket
    assert [c("140105"), c("141182"), c("110105"), c(""), c("149999")] == [
        "140100",
        "141100",
        "other",
        "none",
        "other",
    ]
    g = supervisory.guarantee_bucket
    assert [g([]), g(["guarantee"]), g(["guarantee", "mortgage"]), g(["mortgage", "pledge"])] == [
        "credit",
        "guarantee",
        "mortgage",
        "pledge",
    ]


# --- the hand-built book ---------------------------------------------------------------------------
@pytest.fixture
def fee_free_version(db):
    product = Product.objects.create(code="sup-loan", name="监管测试贷")
    return ProductVersion.objects.create(
        product=product,
        number=1,
        status="published",
        min_amount=Money("10000"),
        max_amount=Money("5000000"),
        min_months=3,
        max_months=60,
        min_rate=Decimal("4"),
        max_rate=Decimal("18"),
        method="equal_principal",
        penalty_multiplier=Decimal("1.5"),
        allocation_order=["penalty", "fee", "interest", "principal"],
        holiday_rule="none",
    )


@pytest.fixture
def finance(org):
    role = RoleFactory(code="finance_s", name="财务S", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="lending",
            codename__in=[
                "disburse_loan",
                "post_repayment",
                "reverse_posting",
                "run_eod",
                "write_off_loan",
                "backdate_disbursement",
                "close_period",
            ],
        )
    )
    return UserFactory(
        username="finance_s", display_name="周财务", org_unit=org["head"], roles=[role]
    )


def _customer(owner, **fields):
    return Customer.objects.create(owner=owner, **fields)


@pytest.fixture
def book(owner, finance, fee_free_version):
    """Four loans at 2026-01-31 (1-year LPR 3.0 %):

    A 企业 (制造业 C, 太原) 120,000 at 12 % for 12 months, disbursed 01-15, credit;
    B 农户 (A, 运城) 50,000 at 6 % for 24 months, disbursed 01-15, mortgage + guarantee;
    C 个体工商户 (USCC, 北京) 200,000 at 18 % for 48 months, disbursed 01-15, guarantee;
    D 其他个人 (no industry, no region) 30,000 at 10 % for 12 months, disbursed 2025-12-10,
      its 01-10 instalment unpaid at the month end (overdue), 次级 from 01-20 (可疑 from 02-10).
    """
    e1 = _customer(
        owner, kind="enterprise", name="太原制造有限公司", industry="C", region_code="140105"
    )
    p1 = _customer(owner, kind="individual", name="运城农户", industry="A", region_code="140802")
    p2 = _customer(
        owner, kind="individual", name="北京个体户", uscc="92110105MA0000000X", region_code="110105"
    )
    p3 = _customer(owner, kind="individual", name="其他个人")

    def loan(customer, principal, rate, months, value_date):
        made = services.loan_create(
            customer=customer,
            product_version=fee_free_version,
            principal=Money(principal),
            annual_rate=Decimal(rate),
            months=months,
            actor=owner,
        )
        book_on(made, dt.date(2025, 1, 2))
        return services.loan_disburse(loan=made, actor=finance, value_date=value_date)

    a = loan(e1, "120000", "12", 12, dt.date(2026, 1, 15))
    b = loan(p1, "50000", "6", 24, dt.date(2026, 1, 15))
    c = loan(p2, "200000", "18", 48, dt.date(2026, 1, 15))
    d = loan(p3, "30000", "10", 12, dt.date(2025, 12, 10))
    mortgage = Collateral.objects.create(
        number="YP-1", kind="mortgage", category="real_estate", owner=p1, description="房产"
    )
    CollateralLink.objects.create(collateral=mortgage, loan=b)
    for n, target in enumerate((b, c)):
        Guarantee.objects.create(
            contract_number=f"BZ-{n}", guarantor=e1, kind="joint", amount=Money("1000"), loan=target
        )
    # the classification history, as the close of business writes it (the replays of the
    # late-posted loans above may have written their own: the test states the history)
    LoanClassHistory.objects.all().delete()
    Loan.objects.filter(pk=d.pk).update(classification="doubtful")
    LoanClassHistory.objects.create(
        loan=d, date=dt.date(2026, 1, 20), from_class="normal", to_class="substandard", dpd=10
    )
    LoanClassHistory.objects.create(
        loan=d, date=dt.date(2026, 2, 10), from_class="substandard", to_class="doubtful", dpd=31
    )
    # the close of business's month-end snapshot: D is past due at 01-31
    LoanMonthEnd.objects.filter(month_end=JAN_END).delete()
    for x, dpd in ((a, 0), (b, 0), (c, 0), (d, 21)):
        LoanMonthEnd.objects.create(
            month_end=JAN_END,
            loan=x,
            cohort=x.start_date.replace(day=1),
            dpd=dpd,
            outstanding=x.principal.fen,
            principal=x.principal.fen,
        )
    return {"A": a, "B": b, "C": c, "D": d}


def _cell(summary, table, bucket):
    return summary.cells[(table, bucket)]


def test_known_answers_of_january(book):
    s = supervisory.compute(JAN)
    t = s.totals
    assert t["loans"] == 4 and t["borrowers"] == 4
    assert t["balance"] == (120_000 + 50_000 + 200_000 + 30_000) * 100
    assert t["disbursed_loans"] == 3 and t["disbursed_amount"] == 370_000 * 100
    assert t["repaid_principal"] == 0 and t["written_off"] == 0
    assert t["overdue_loans"] == 1 and t["overdue_balance"] == 30_000 * 100
    assert t["npl_balance"] == 30_000 * 100  # D is 次级 at 01-31 (可疑 only from 02-10)
    assert t["reserve"] is None or t["reserve"] == 0
    assert Decimal(t["lpr"]) == Decimal("3.0")
    # Σ balance × rate / Σ balance = (120k×12 + 50k×6 + 200k×18 + 30k×10) / 400k = 14.1 %
    assert Decimal(t["rate_weight"]) / t["balance"] == Decimal("14.1")

    assert _cell(s, "class", "normal")["balance"] == 370_000 * 100
    assert _cell(s, "class", "substandard")["balance"] == 30_000 * 100
    assert _cell(s, "class", "doubtful")["loans"] == 0
    assert [_cell(s, "term", k)["loans"] for k in ("le1y", "1to3y", "gt3y")] == [2, 1, 1]
    assert {k: _cell(s, "rate", k)["loans"] for k, _l in supervisory.RATE_BUCKETS} == {
        "le_lpr": 0,
        "lpr_2x": 1,  # B 6 % = 2 × LPR
        "2x_4x": 2,  # A 12 % = 4 × LPR, D 10 %
        "4x_24": 1,  # C 18 %
        "24_36": 0,
        "gt36": 0,
    }
    assert {
        k: _cell(s, "borrower", k)["balance"] // 100 for k, _l in supervisory.BORROWER_BUCKETS
    } == {
        "enterprise": 120_000,
        "sole_proprietor": 200_000,
        "farmer": 50_000,
        "other_individual": 30_000,
    }
    assert {k: _cell(s, "guarantee", k)["loans"] for k, _l in supervisory.GUARANTEE_BUCKETS} == {
        "credit": 2,
        "guarantee": 1,
        "mortgage": 1,
        "pledge": 0,
    }
    assert _cell(s, "industry", "C")["balance"] == 120_000 * 100
    assert _cell(s, "industry", "A")["balance"] == 50_000 * 100
    assert _cell(s, "industry", "none")["loans"] == 2
    assert _cell(s, "city", "140100")["loans"] == 1
    assert _cell(s, "city", "140800")["loans"] == 1
    assert _cell(s, "city", "other")["balance"] == 200_000 * 100
    assert _cell(s, "city", "none")["overdue_balance"] == 30_000 * 100
    assert _cell(s, "city", "none")["disbursed_loans"] == 0  # D was disbursed in December
    # every table adds up to the totals
    for key, _title, buckets in supervisory.tables():
        assert sum(_cell(s, key, b)["balance"] for b, _l in buckets) == t["balance"], key
        assert sum(_cell(s, key, b)["disbursed_amount"] for b, _l in buckets) == 37_000_000
    assert [b["customer_id"] for b in s.top_borrowers] == [
        book["C"].customer_id,
        book["A"].customer_id,
        book["B"].customer_id,
        book["D"].customer_id,
    ]
    assert s.top_borrowers[0] == {
        "customer_id": book["C"].customer_id,
        "loans": 1,
        "balance": 20_000_000,
    }


def test_repayments_write_off_and_reserve_in_february(book, finance):
    a = book["A"]
    posting = services.repayment_post(
        loan=a, amount=Money("11200"), received_on=dt.date(2026, 2, 15), actor=finance
    )
    principal = JournalLine.objects.get(
        entry=posting.entry, account__code="loan_principal"
    ).credit.fen
    assert principal > 0
    reserve = LedgerAccount.objects.filter(code=supervisory.RESERVE_ACCOUNT).first()
    s = supervisory.compute(dt.date(2026, 2, 1))
    assert s.totals["repaid_principal"] == principal
    assert _cell(s, "borrower", "enterprise")["repaid_principal"] == principal
    assert s.totals["disbursed_loans"] == 0
    assert s.totals["npl_balance"] == 30_000 * 100  # D 可疑 in February: still 不良
    assert _cell(s, "class", "doubtful")["balance"] == 30_000 * 100
    # the repayment is booked today (late): the ledger balance at 02-28 is by business date
    booked = Posting.objects.get(pk=posting.pk).entry.business_date
    expected_balance = 400_000 * 100 - (principal if booked <= dt.date(2026, 2, 28) else 0)
    assert s.totals["balance"] == expected_balance
    if reserve is None:
        assert s.totals["reserve"] is None
        report = supervisory.build_report(s)
        coverage = dict((label, v) for label, v, _f in report["indicators"])
        assert coverage["拨备覆盖率（贷款损失准备/不良贷款）"] is None


def test_written_off_principal_leaves_the_book(book, finance):
    d = book["D"]
    services.loan_write_off(loan=Loan.objects.get(pk=d.pk), actor=finance, reason="无法收回")
    lines = JournalLine.objects.filter(
        loan=d, account__code="loan_principal", entry__kind="write_off"
    )
    day = lines.first().entry.business_date
    s = supervisory.compute(day)
    assert s.totals["written_off"] == 30_000 * 100
    assert _cell(s, "borrower", "other_individual")["loans"] == 0


# --- frozen and reproducible -----------------------------------------------------------------------
def test_freeze_is_kept_against_later_activity_and_equals_a_recompute(book, finance):
    period = supervisory.freeze(JAN, source="command")
    frozen = supervisory.load(JAN).figures()
    assert SupervisoryCell.objects.filter(period=period).count() == sum(
        len(b) for _k, _t, b in supervisory.tables()
    )
    assert frozen == supervisory.compute(JAN).figures()
    assert supervisory.verify(JAN) == []
    # later activity: a repayment valued in January (booked today), a new loan, a class change
    # written back into January by a replay, new security
    services.repayment_post(
        loan=book["A"], amount=Money("5000"), received_on=dt.date(2026, 1, 25), actor=finance
    )
    LoanClassHistory.objects.create(
        loan=book["A"],
        date=dt.date(2026, 1, 28),
        from_class="normal",
        to_class="special_mention",
        reason="replay",
    )
    assert supervisory.load(JAN).figures() == frozen  # the stored month never moves
    EodRun.objects.get_or_create(business_date=JAN_END, defaults={"status": "done"})
    EodRun.objects.get_or_create(business_date=dt.date(2025, 12, 31), defaults={"status": "done"})


def test_period_close_freezes_the_month_and_a_recompute_equals_it(
    book, finance, django_capture_on_commit_callbacks
):
    EodRun.objects.get_or_create(business_date=dt.date(2025, 12, 31), defaults={"status": "done"})
    EodRun.objects.get_or_create(business_date=JAN_END, defaults={"status": "done"})
    with django_capture_on_commit_callbacks(execute=True):
        books.period_close(month=dt.date(2025, 12, 1), actor=finance)
    with django_capture_on_commit_callbacks(execute=True):
        books.period_close(month=JAN, actor=finance)
    period = SupervisoryMonth.objects.get(month=JAN)
    assert period.source == "close" and period.frozen_at is not None
    frozen = supervisory.load(JAN).figures()
    assert frozen["totals"]["balance"] == 40_000_000
    # after the close: a late repayment valued in January, a back-dated class change, a new
    # guarantee — none is what the closed month knew
    services.repayment_post(
        loan=book["A"], amount=Money("5000"), received_on=dt.date(2026, 1, 25), actor=finance
    )
    LoanClassHistory.objects.create(
        loan=book["A"],
        date=dt.date(2026, 1, 28),
        from_class="normal",
        to_class="substandard",
        reason="replay",
    )
    Guarantee.objects.create(
        contract_number="BZ-late",
        guarantor=book["B"].customer,
        kind="joint",
        amount=Money("1000"),
        loan=book["A"],
    )
    assert supervisory.load(JAN).figures() == frozen
    assert supervisory.verify(JAN) == []


def test_provision_coverage_from_the_reserve_account(book, finance):
    from credo.lending import ledger

    ledger.post_entry(
        loan=None,
        product=book["A"].product_version.product,
        kind="provision",
        business_date=JAN_END,
        actor=finance,
        memo="计提贷款损失准备",
        lines=[("impairment_loss", 1_500_000, 0), ("loan_loss_reserve", 0, 1_500_000)],
    )
    s = supervisory.compute(JAN)
    assert s.totals["reserve"] == 1_500_000
    figures = {label: v for label, v, _f in supervisory.build_report(s)["indicators"]}
    assert figures["拨备覆盖率（贷款损失准备/不良贷款）"] == Decimal("0.5000")  # 15,000 / 30,000
    assert figures["不良贷款率"] == Decimal("0.0750")  # 30,000 / 400,000
    assert figures["逾期率"] == Decimal("0.0750")
    assert figures["加权平均年化利率（%）"] == Decimal("14.10")


# --- page, Excel, PDF, delivery ----------------------------------------------------------------------
@pytest.fixture
def supervisor(org):
    role = RoleFactory(code="sup_viewer", name="监管报送", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="reports",
            codename__in=["view_supervisory", "schedule_report", "build_report"],
        )
    )
    return UserFactory(
        username="supervisor", display_name="吴报送", org_unit=org["head"], roles=[role]
    )


def test_page_needs_the_permission(client, book, owner):
    client.force_login(owner)
    assert client.get(reverse("reports:supervisory")).status_code == 403


@override_settings(**LENDER)
def test_page_and_fixed_layout_excel_of_a_frozen_month(client, book, supervisor):
    from openpyxl import load_workbook

    supervisory.freeze(JAN, source="command")
    client.force_login(supervisor)
    page = client.get(reverse("reports:supervisory"), {"month": "2026-01"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "小额贷款公司贷款统计月报（2026年01月）" in html and "已冻结" in html
    assert "山西测试小额贷款有限公司" in html
    response = client.get(reverse("reports:supervisory"), {"month": "2026-01", "export": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(response.content)).active
    assert ws["A1"].value == "小额贷款公司贷款统计月报（2026年01月）"
    assert (ws["B2"].value, ws["E2"].value) == (LENDER["CREDO_ORG_NAME"], LENDER["CREDO_ORG_USCC"])
    assert ws["B3"].value == LENDER["CREDO_ORG_ADDRESS"]
    assert (ws["B4"].value, ws["E4"].value) == ("2026-01", "2026-01-31")
    # fixed positions: indicators from row 8, the class table after them
    assert ws["A6"].value == "一、主要指标"
    assert (ws["A8"].value, ws["B8"].value) == ("贷款余额（元）", Decimal("400000.00"))
    rows = {ws.cell(row=r, column=1).value: r for r in range(1, ws.max_row + 1)}
    class_title = rows["二、按五级分类"]
    assert class_title == 8 + 16 + 1  # 16 indicator rows, then a blank row
    assert ws.cell(row=class_title + 2, column=1).value == "正常类"
    assert ws.cell(row=class_title + 4, column=1).value == "次级类"
    assert ws.cell(row=class_title + 4, column=3).value == Decimal("30000.00")
    assert ws.cell(row=class_title + 7, column=1).value == "合计"
    assert ws.cell(row=class_title + 7, column=2).value == 4
    assert "九、前十大借款人" in rows
    # the layout does not depend on the data: an empty month has the same row labels
    empty = supervisory.build_report(supervisory.Summary(month=JAN, month_end=JAN_END))
    ws_empty = load_workbook(io.BytesIO(to_xlsx(empty))).active
    assert [ws_empty.cell(row=r, column=1).value for r in range(5, ws.max_row + 1)] == [
        ws.cell(row=r, column=1).value for r in range(5, ws.max_row + 1)
    ]


def test_unfrozen_past_month_is_computed_and_the_current_month_refused(client, book, supervisor):
    client.force_login(supervisor)
    page = client.get(reverse("reports:supervisory"), {"month": "2026-01"})
    assert page.status_code == 200 and "未冻结" in page.content.decode()
    assert not SupervisoryMonth.objects.exists()  # looking never freezes
    from credo.core import clock

    current = clock.today().strftime("%Y-%m")
    assert client.get(reverse("reports:supervisory"), {"month": current}).status_code == 400


def test_pdf_export(client, book, supervisor):
    supervisory.freeze(JAN, source="command")
    client.force_login(supervisor)
    response = client.get(reverse("reports:supervisory"), {"month": "2026-01", "export": "pdf"})
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


@override_settings(**LENDER)
def test_scheduled_delivery_attaches_the_fixed_layout(client, book, supervisor, settings):
    from pathlib import Path

    from openpyxl import load_workbook

    from credo.notify.models import Message
    from credo.reports import services as report_services
    from credo.reports.models import SavedReport

    supervisory.freeze(JAN, source="command")
    client.force_login(supervisor)
    response = client.post(reverse("reports:supervisory_schedule"))
    report = SavedReport.objects.get(owner=supervisor, dataset="supervisory")
    assert response.status_code == 302 and response["Location"] == reverse(
        "reports:report", args=[report.pk]
    )
    supervisor.email = "sup@example.cn"
    supervisor.save(update_fields=["email"])
    now = dt.datetime(2026, 3, 1, 7, 0, tzinfo=dt.UTC)
    schedule = report_services.schedule_create(
        report=report,
        actor=supervisor,
        frequency="monthly",
        day_of_month=5,
        time=dt.time(8, 0),
        recipients=[supervisor],
        channels=["email"],
        now=now,
    )
    report_services.run_due_schedules(schedule.next_run_at + dt.timedelta(minutes=1))
    [att] = Message.objects.get(user=supervisor, kind="email").attachments
    ws = load_workbook(
        io.BytesIO((Path(settings.CREDO_DOCUMENT_ROOT) / att["path"]).read_bytes())
    ).active
    assert ws["A1"].value == "小额贷款公司贷款统计月报（2026年01月）"
    assert ws["B2"].value == LENDER["CREDO_ORG_NAME"]
    # the dataset view of the same summary in the report builder
    from credo.reports.datasets import run_query

    result = run_query(
        supervisor, {"dataset": "supervisory", "dimensions": ["table"], "measures": ["balance"]}
    )
    assert {r["table"]: r["balance"] for r in result.rows}["class"] == 40_000_000
