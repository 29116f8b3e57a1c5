"""展期 / 重组 / 借新还旧 on PostgreSQL: quote, refusal of a too-long 展期, approval (maker-checker
and the approval flow), execution (entries balance, schedule replaced, classification floor)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from hypothesis import given
from hypothesis import strategies as st

from credo.core import clock
from credo.core.audit.models import AuditEntry
from credo.core.registry import Registry
from credo.lending import ledger, services
from credo.lending.errors import InvalidLoan, InvalidState, MakerChecker, NotPermitted
from credo.lending.models import Installment, JournalEntry, Loan, Restructuring
from credo.lending.restructure import rules
from credo.lending.restructure import services as rs
from tests.factories import RoleFactory, UserFactory
from tests.lending.conftest import VALUE_DATE

D = dt.date
TODAY = D(2026, 4, 20)
K = Restructuring.Kind


# --- pure rules ----------------------------------------------------------------------------------
def test_extension_limits_of_the_general_lending_rules():
    assert rules.max_extension(12) == 12  # short: up to the original term
    assert rules.max_extension(6) == 6
    assert rules.max_extension(36) == 18  # medium: half of it
    assert rules.max_extension(60) == 30
    assert rules.max_extension(120) == 36  # long: three years
    assert rules.extension_refusal(12, 0, 12) is None
    msg = rules.extension_refusal(12, 6, 7)
    assert msg and "短期贷款" in msg and "第十二条" in msg and "最多 12 个月" in msg


@given(
    original=st.integers(min_value=1, max_value=600),
    already=st.integers(min_value=0, max_value=100),
    extra=st.integers(min_value=1, max_value=100),
)
def test_extension_refusal_is_exactly_the_cumulative_limit(original, already, extra):
    refused = rules.extension_refusal(original, already, extra) is not None
    assert refused == (already + extra > rules.max_extension(original))


@given(before=st.sampled_from(rules.CLASSES), again=st.booleans())
def test_floor_never_better_than_before_nor_than_special_mention(before, again):
    floor = rules.floor_after(before, again_in_observation=again)
    assert rules.CLASSES.index(floor) >= max(rules.CLASSES.index(before), 1)
    if again:
        assert rules.CLASSES.index(floor) >= rules.CLASSES.index("substandard")
    if before in rules.NPL and not again:
        assert floor == before


def test_observation_period_is_at_least_a_year_and_two_periods():
    assert rules.observation_end([D(2026, 5, 15), D(2026, 6, 15)]) == D(2027, 5, 15)
    # quarterly periods: still one year from the first due date
    assert rules.observation_end([D(2026, 5, 15), D(2026, 8, 15)]) == D(2027, 5, 15)
    # two periods longer than a year (bullet-like annual dates)
    assert rules.observation_end([D(2026, 5, 15), D(2027, 11, 15)]) == D(2027, 11, 15)


# --- services ------------------------------------------------------------------------------------
pytestmark = pytest.mark.django_db


def _perm(*codenames):
    return Permission.objects.filter(content_type__app_label="lending", codename__in=codenames)


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    return TODAY


@pytest.fixture
def requester(owner):
    owner.roles.first().permissions.add(*_perm("request_restructure", "view_loan"))
    return owner.__class__.objects.get(pk=owner.pk)


@pytest.fixture
def approver(org):
    role = RoleFactory(code="restructure_checker", data_scope="all")
    role.permissions.add(*_perm("approve_restructure", "view_loan"))
    return UserFactory(username="checker", org_unit=org["head"], roles=[role])


@pytest.fixture
def maker_checker(monkeypatch):
    """No approval flow: the maker-checker path."""
    monkeypatch.setattr(rs, "submitters", Registry("none"))


@pytest.fixture
def loan(make_loan, finance, today):
    """120,000 at 12 % over 12 months 等额本息 from 2026-01-15; Feb paid, Mar and Apr unpaid."""
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    services.repayment_post(
        loan=loan, amount=services.Money("10661.85"), received_on=D(2026, 2, 15), actor=finance
    )
    Installment.objects.filter(loan=loan, period=2).update(status="overdue", penalty_due=5000)
    Installment.objects.filter(loan=loan, period=3).update(status="overdue")
    Loan.objects.filter(pk=loan.pk).update(
        status="overdue", dpd=36, classification="special_mention"
    )
    return Loan.objects.get(pk=loan.pk)


def _balanced(entry):
    lines = list(entry.lines.all())
    return sum(x.debit.fen for x in lines) == sum(x.credit.fen for x in lines) > 0


def test_quote_shows_the_new_schedule_without_writing(loan, requester):
    plan = rs.restructuring_quote(loan=loan, kind=K.EXTENSION, terms={"extend_months": 6})
    outstanding = loan.outstanding_principal.fen
    assert plan.balance == outstanding
    assert plan.months == 9 + 6  # 9 periods left after April's due date, plus 6
    assert sum(plan.schedule.principals) == outstanding
    assert plan.arrears["penalty"] == 5000
    assert plan.arrears["interest"] > 0  # Mar + Apr interest and 5 days accrued
    q = plan.as_dict(loan)
    assert q["annual_rate"] == "12.0000" and q["annualized_rate"] == "12.00"  # issue 20 APR
    assert q["installments"][0]["due_date"] == "2026-05-15"
    assert not Restructuring.objects.exists()


def test_too_long_extension_is_refused_with_the_rule(loan, requester, maker_checker):
    with pytest.raises(InvalidLoan, match="第十二条"):
        rs.restructuring_request(
            loan=loan,
            kind=K.EXTENSION,
            terms={"extend_months": 13},
            reason="经营困难",
            actor=requester,
        )
    assert not Restructuring.objects.exists()


def test_extension_maker_checker_executes_with_balanced_entry(
    loan, requester, approver, maker_checker
):
    outstanding = loan.outstanding_principal.fen
    r = rs.restructuring_request(
        loan=loan,
        kind=K.EXTENSION,
        terms={"extend_months": 6},
        reason="订单延迟回款",
        actor=requester,
    )
    assert r.status == "requested" and r.quote["approval"] == "maker_checker"
    with pytest.raises(MakerChecker):
        rs.restructuring_approve(restructuring=r, actor=requester)
    with pytest.raises(NotPermitted):
        rs.restructuring_approve(restructuring=r, actor=UserFactory(username="nobody"))
    r = rs.restructuring_approve(restructuring=r, actor=approver, note="同意")
    assert r.status == "executed" and r.approved_by == approver and r.executed_on == TODAY
    loan.refresh_from_db()
    assert loan.status == "active" and loan.dpd == 0
    assert loan.outstanding_principal.fen == outstanding
    assert loan.maturity_date == D(2027, 7, 15)  # 2027-01-15 + 6 months
    assert loan.classification == "special_mention"
    assert loan.classification_floor == "special_mention"
    assert loan.classification_floor_until == D(2027, 5, 15)
    # old unpaid rows closed (what was paid stays), future rows replaced, arrears row added
    rows = list(loan.installments.order_by("period"))
    assert [i.period for i in rows[:3]] == [1, 2, 3]
    assert rows[1].status == "paid" and rows[1].principal_due.fen == 0
    arrears = rows[3]
    assert arrears.principal_due.fen == 0 and arrears.penalty_due.fen == 5000
    assert arrears.due_date == D(2026, 5, 15)
    new = rows[4:]
    assert len(new) == 15 and sum(i.principal_due.fen for i in new) == outstanding
    assert r.old_terms["replaced"] and r.old_terms["months"] == 12
    assert r.entry.kind == JournalEntry.Kind.RESTRUCTURE and _balanced(r.entry)
    assert ledger.verify().ok, ledger.verify().problems
    assert AuditEntry.objects.filter(action="loan.restructure_execute").exists()
    assert loan.customer.events.filter(title__contains="展期").exists()
    # cumulative: 6 more months are allowed (12 in all), 7 are not
    with pytest.raises(InvalidLoan, match="已展期 6 个月"):
        rs.restructuring_quote(loan=loan, kind=K.EXTENSION, terms={"extend_months": 7})


def test_restructure_changes_rate_method_term_and_keeps_npl_class(
    loan, requester, approver, maker_checker
):
    Loan.objects.filter(pk=loan.pk).update(classification="doubtful")
    loan.refresh_from_db()
    r = rs.restructuring_request(
        loan=loan,
        kind=K.RESTRUCTURE,
        terms={"annual_rate": "8", "method": "equal_principal", "months": 24},
        reason="降息延期",
        actor=requester,
    )
    r = rs.restructuring_approve(restructuring=r, actor=approver)
    loan.refresh_from_db()
    assert loan.annual_rate == Decimal("8") and loan.method == "equal_principal"
    assert loan.classification == "doubtful" and loan.classification_floor == "doubtful"
    new = loan.installments.filter(principal_due__gt=0, status="scheduled")
    assert new.count() == 24
    assert ledger.verify().ok


def test_restructuring_again_in_observation_is_at_least_substandard(
    loan, requester, approver, maker_checker
):
    r = rs.restructuring_request(
        loan=loan, kind=K.RESTRUCTURE, terms={"months": 12}, reason="一次", actor=requester
    )
    rs.restructuring_approve(restructuring=r, actor=approver)
    loan.refresh_from_db()
    r2 = rs.restructuring_request(
        loan=loan, kind=K.RESTRUCTURE, terms={"months": 18}, reason="再次", actor=requester
    )
    rs.restructuring_approve(restructuring=r2, actor=approver)
    loan.refresh_from_db()
    assert loan.classification == "substandard" == loan.classification_floor


def test_refinance_repays_old_loan_in_full_through_a_new_loan(
    loan, requester, approver, maker_checker
):
    r = rs.restructuring_request(
        loan=loan,
        kind=K.REFINANCE,
        terms={"annual_rate": "10", "months": 24, "method": "equal_installment"},
        reason="借新还旧",
        actor=requester,
    )
    payoff = int(Decimal(r.quote["payoff"]) * 100)
    r = rs.restructuring_approve(restructuring=r, actor=approver)
    loan.refresh_from_db()
    new = r.new_loan
    assert loan.status == "paid_off" and loan.outstanding_principal.fen == 0
    assert new.status == "active" and new.principal.fen == payoff == new.outstanding_principal.fen
    assert new.refinanced_from == r and new.classification == "special_mention"
    assert new.classification_floor == "special_mention"
    assert _balanced(r.entry) and r.entry.loan == new
    # no money invented: the cash the new loan "paid out" is what the old loan received
    assert ledger.loan_account_balance(new, "cash") == -payoff
    received = JournalEntry.objects.filter(loan=loan, business_date=TODAY, kind="repayment")
    assert (
        sum(
            line.debit.fen
            for e in received
            for line in e.lines.all()
            if line.account.code == "cash"
        )
        == payoff
    )
    assert ledger.verify().ok, ledger.verify().problems


def test_flow_path_requester_cannot_approve_and_risk_manager_executes(loan, requester, org):
    from credo.approvals.models import ApprovalInstance, ApprovalTask
    from credo.approvals.services import approval_act

    risk_role = RoleFactory(code="risk_manager", data_scope="all")
    risk = UserFactory(username="risk_rs", org_unit=org["head"], roles=[risk_role])
    r = rs.restructuring_request(
        loan=loan,
        kind=K.EXTENSION,
        terms={"extend_months": 3},
        reason="展期三个月",
        actor=requester,
    )
    assert r.quote["approval"] == "flow" and r.status == "requested"
    instance = ApprovalInstance.objects.get(
        subject_type="lending.restructuring", subject_id=str(r.pk)
    )
    assert r.quote["approval_instance"] == instance.pk
    with pytest.raises(InvalidState):  # maker-checker path closed while a flow decides
        rs.restructuring_approve(restructuring=r, actor=risk)
    task = ApprovalTask.objects.get(instance=instance, status="open")
    assert task.assignee == risk
    approval_act(task=task, actor=risk, action="approve", comment="同意展期")
    r.refresh_from_db()
    assert r.status == "executed" and r.approved_by == risk
    assert Loan.objects.get(pk=loan.pk).classification_floor == "special_mention"


def test_refused_request_changes_nothing(loan, requester, maker_checker):
    before = list(loan.installments.values_list("pk", "principal_due", "status"))
    with pytest.raises(InvalidLoan):
        rs.restructuring_request(loan=loan, kind=K.REFINANCE, terms={}, reason="x", actor=requester)
    with pytest.raises(InvalidLoan):
        rs.restructuring_request(
            loan=loan, kind=K.EXTENSION, terms={"extend_months": 3}, reason=" ", actor=requester
        )
    assert list(loan.installments.values_list("pk", "principal_due", "status")) == before
    assert not Restructuring.objects.exists()


# --- pages ---------------------------------------------------------------------------------------
def test_request_page_quotes_refuses_and_submits(client, loan, requester, maker_checker):
    from django.urls import reverse

    client.force_login(requester)
    url = reverse("lending:restructure_request", args=[loan.pk])
    assert client.get(url).status_code == 200
    data = {"kind": "extension", "extend_months": "13", "reason": "困难"}
    page = client.post(url, {**data, "action": "quote"}).content.decode()
    assert "第十二条" in page and 'id="restructure-quote"' not in page
    page = client.post(url, {**data, "extend_months": "3", "action": "quote"}).content.decode()
    assert 'id="restructure-quote"' in page and 'id="restructure-submit"' in page
    assert not Restructuring.objects.exists()
    response = client.post(url, {**data, "extend_months": "3", "action": "submit"})
    r = Restructuring.objects.get()
    assert response.status_code == 302 and r.status == "requested"
    panel = client.get(reverse("lending:restructure_panel", args=[loan.pk])).content.decode()
    assert "待审批" in panel and 'id="restructure-link"' not in panel


def test_maker_checker_pages(client, loan, requester, approver, maker_checker):
    from django.urls import reverse

    r = rs.restructuring_request(
        loan=loan, kind=K.EXTENSION, terms={"extend_months": 3}, reason="展期", actor=requester
    )
    detail = reverse("lending:restructure_detail", args=[loan.pk, r.pk])
    client.force_login(requester)
    assert 'id="restructure-approve"' not in client.get(detail).content.decode()
    approve = reverse("lending:restructure_approve", args=[loan.pk, r.pk])
    assert client.post(approve).status_code == 403  # no approve permission
    client.force_login(approver)
    assert 'id="restructure-approve"' in client.get(detail).content.decode()
    client.post(approve, {"note": "同意"})
    r.refresh_from_db()
    assert r.status == "executed" and r.decision_note == "同意"
