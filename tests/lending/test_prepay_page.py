import datetime as dt

import pytest
from django.urls import reverse

from credo.lending import ledger, services
from credo.lending.models import Loan, Posting

pytestmark = pytest.mark.django_db


@pytest.fixture
def disbursed(make_loan, finance):
    start = dt.date.today() - dt.timedelta(days=45)
    return services.loan_disburse(loan=make_loan(), actor=finance, value_date=start)


def test_quote_then_partial_prepayment_once(client, finance, disbursed):
    from django.contrib.auth.models import Permission

    finance.roles.first().permissions.add(Permission.objects.get(codename="view_loan"))
    client.force_login(finance)
    url = reverse("lending:prepay", args=[disbursed.pk])
    today = dt.date.today().isoformat()
    page = client.get(url, {"on_date": today, "amount": "50000", "mode": "shorten_term"})
    body = page.content.decode()
    assert 'id="prepay-quote"' in body and 'id="prepay-options"' in body
    key = "fixed-key-1"
    data = {"on_date": today, "amount": "50000", "mode": "shorten_term", "idempotency_key": key}
    assert client.post(url, data).status_code == 302
    client.post(url, data)  # a double submit posts nothing more
    loan = Loan.objects.get(pk=disbursed.pk)
    assert Posting.objects.filter(loan=loan).count() in (1, 2)  # due part + prepaid part
    first_count = Posting.objects.filter(loan=loan).count()
    client.post(url, data)
    assert Posting.objects.filter(loan=loan).count() == first_count
    assert loan.outstanding_principal.fen < 12_000_000 and ledger.verify().ok


def test_payoff_closes_the_loan_and_bad_input_is_refused(client, finance, disbursed):
    from django.contrib.auth.models import Permission

    finance.roles.first().permissions.add(Permission.objects.get(codename="view_loan"))
    client.force_login(finance)
    url = reverse("lending:prepay", args=[disbursed.pk])
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    bad = client.get(url, {"on_date": future, "mode": "shorten_term"}).content.decode()
    assert "alert-danger" in bad
    today = dt.date.today().isoformat()
    resp = client.post(url, {"on_date": today, "mode": "shorten_term", "idempotency_key": "k2"})
    assert resp.status_code == 302
    loan = Loan.objects.get(pk=disbursed.pk)
    assert loan.status == "paid_off" and loan.outstanding_principal.fen == 0
    assert ledger.verify().ok
