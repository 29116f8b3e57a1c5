"""核销: ledger entry, off-balance record, guards, API and page."""

import datetime as dt

import pytest

from credo.core.audit.models import AuditEntry
from credo.lending import eod, ledger, services
from credo.lending.errors import InvalidLoan, InvalidState, MakerChecker
from credo.lending.models import Installment, JournalEntry, Loan
from tests.lending.conftest import VALUE_DATE
from tests.lending.test_api import auth, post, viewers  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def loan(make_loan, finance):
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    services.repayment_post(
        loan=loan,
        amount=services.Money("10661.85"),
        received_on=dt.date(2026, 2, 15),
        actor=finance,
    )
    return Loan.objects.get(pk=loan.pk)


def _classify(loan, classification="loss"):
    Loan.objects.filter(pk=loan.pk).update(classification=classification, status="overdue")
    return Loan.objects.get(pk=loan.pk)


def test_write_off_moves_principal_to_loss_and_keeps_ledger_true(loan, finance):
    loan = _classify(loan)
    outstanding = loan.outstanding_principal.fen
    assert outstanding > 0
    entry = services.loan_write_off(loan=loan, actor=finance, reason="借款人破产清算")
    loan.refresh_from_db()
    assert loan.status == "written_off" and loan.outstanding_principal.fen == 0
    lines = {line.account.code: (line.debit.fen, line.credit.fen) for line in entry.lines.all()}
    # no provision run yet: nothing in the reserve, the whole principal is 资产减值损失
    assert lines == {"impairment_loss": (outstanding, 0), "loan_principal": (0, outstanding)}
    assert entry.kind == JournalEntry.Kind.WRITE_OFF
    assert ledger.loan_account_balance(loan, "loan_principal") == 0
    assert ledger.verify().ok, ledger.verify().problems
    assert not loan.installments.exclude(status__in=["paid", "written_off"]).exists()
    audit = AuditEntry.objects.filter(action="loan.write_off").get()
    off = audit.metadata["off_balance"]
    unpaid = Installment.objects.filter(loan=loan, status="written_off")
    assert off["interest"] == sum(i.interest_due.fen - i.interest_paid.fen for i in unpaid) > 0
    assert audit.metadata["principal"] == outstanding
    assert loan.customer.events.filter(kind="write_off").exists()


def test_written_off_loan_takes_no_repayment_and_eod_skips_it(loan, finance):
    loan = _classify(loan)
    services.loan_write_off(loan=loan, actor=finance, reason="法院终结执行")
    with pytest.raises(InvalidState):
        services.repayment_post(
            loan=loan,
            amount=services.Money("100"),
            received_on=dt.date(2026, 3, 1),
            actor=finance,
        )
    with pytest.raises(InvalidState):
        services.loan_write_off(loan=loan, actor=finance, reason="again")
    run = eod.run_eod(dt.date(2026, 3, 20))
    assert run.status == "done"
    loan.refresh_from_db()
    assert loan.status == "written_off"
    assert not Installment.objects.filter(loan=loan, penalty_due__gt=0, status="written_off")
    assert ledger.verify().ok


@pytest.mark.parametrize(
    ("classification", "actor_name", "reason", "error"),
    [
        ("special_mention", "finance", "原因", InvalidState),
        ("loss", "finance", "  ", InvalidLoan),
        ("loss", "owner", "原因", MakerChecker),
    ],
)
def test_guards_change_nothing(loan, finance, owner, classification, actor_name, reason, error):
    loan = _classify(loan, classification)
    actor = {"finance": finance, "owner": owner}[actor_name]
    with pytest.raises(error):
        services.loan_write_off(loan=loan, actor=actor, reason=reason)
    loan.refresh_from_db()
    assert loan.status == "overdue" and loan.outstanding_principal.fen > 0
    assert not JournalEntry.objects.filter(kind="write_off").exists()


def test_stale_version_refused(loan, finance):
    loan = _classify(loan)
    with pytest.raises(InvalidState):
        services.loan_write_off(
            loan=loan, actor=finance, reason="原因", expected_version=loan.version - 1
        )


def test_api_write_off_idempotent(client, loan, finance, owner, viewers):  # noqa: F811
    loan = _classify(loan)
    url = f"/api/v1/lending/loans/{loan.pk}/write-off"
    denied = post(client, url, {"reason": "x"}, auth(owner), key="w1")
    assert denied.status_code == 403
    resp = post(client, url, {"reason": "破产", "version": loan.version}, auth(finance), key="w2")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["status"] == "written_off"
    assert body["written_off_principal"] == f"{loan.outstanding_principal.fen / 100:.2f}"
    again = post(client, url, {"reason": "破产", "version": loan.version}, auth(finance), key="w2")
    assert again.json() == body
    assert JournalEntry.objects.filter(kind="write_off").count() == 1
    late = post(client, url, {"reason": "破产"}, auth(finance), key="w3")
    assert late.status_code == 409


def test_page_offers_write_off_only_when_allowed(client, loan, finance, viewers):  # noqa: F811
    client.force_login(finance)
    page = client.get(f"/lending/loans/{loan.pk}/").content.decode()
    assert "write-off-form" not in page
    loan = _classify(loan, "doubtful")
    page = client.get(f"/lending/loans/{loan.pk}/").content.decode()
    assert "write-off-form" in page
    resp = client.post(
        f"/lending/loans/{loan.pk}/write-off/", {"reason": "", "version": loan.version}
    )
    assert resp.status_code == 302
    loan.refresh_from_db()
    assert loan.status == "overdue"
    client.post(
        f"/lending/loans/{loan.pk}/write-off/", {"reason": "破产清算", "version": loan.version}
    )
    loan.refresh_from_db()
    assert loan.status == "written_off"
    page = client.get(f"/lending/loans/{loan.pk}/").content.decode()
    assert "write-off-info" in page and "破产清算" in page and "表外登记" in page
