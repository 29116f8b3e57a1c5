import csv
import io
import json
import threading

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client

from credo.api.services import token_create
from credo.core.money import Money
from credo.lending import ledger, services
from credo.lending.models import Loan, Posting
from tests.factories import UserFactory
from tests.lending.conftest import VALUE_DATE

pytestmark = pytest.mark.django_db
API = "/api/v1/lending"


def _perms(*codenames):
    return Permission.objects.filter(content_type__app_label="lending", codename__in=codenames)


@pytest.fixture
def viewers(manager_role, finance):
    manager_role.permissions.add(*_perms("view_loan", "view_product"))
    finance.roles.first().permissions.add(*_perms("view_loan", "view_product"))


@pytest.fixture
def loan(make_loan, finance, viewers):
    return services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)


def auth(user, scopes=("read", "write")):
    _token, plain = token_create(
        user=user, name="t", scopes=list(scopes), expires_in_days=30, actor=user
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def post(client, url, body, headers, key=None):
    extra = dict(headers)
    if key:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


def test_products(client: Client, owner, product_version, viewers):
    resp = client.get(f"{API}/products", **auth(owner))
    assert resp.status_code == 200, resp.content
    [p] = resp.json()
    assert p["code"] == "jy-loan" and p["min_amount"] == "10000.00" and p["max_rate"] == "18"


def test_loans_scoped_detail_schedule(client: Client, owner, outsider, loan):
    resp = client.get(f"{API}/loans", **auth(owner))
    assert resp.status_code == 200
    body = resp.json()
    assert body["count"] == 1 and body["items"][0]["number"] == loan.number
    assert body["items"][0]["principal"] == "120000.00"
    assert client.get(f"{API}/loans", **auth(outsider)).json()["count"] == 0
    assert client.get(f"{API}/loans/{loan.pk}", **auth(outsider)).status_code == 404
    detail = client.get(f"{API}/loans/{loan.pk}", **auth(owner)).json()
    assert detail["upfront_fee"] == "1200.00" and detail["figures"]["installments_total"] == 12
    sched = client.get(f"{API}/loans/{loan.pk}/schedule", **auth(owner)).json()
    assert len(sched) == 12 and sched[0]["due_date"] == "2026-02-15"
    assert sum(Money(r["principal_due"]).fen for r in sched) == 12_000_000


def test_posting_idempotent_and_errors(client: Client, owner, finance, loan):
    url = f"{API}/loans/{loan.pk}/postings"
    body = {"amount": "10661.85", "received_on": "2026-02-15", "reference": "网银"}
    assert post(client, url, body, auth(owner)).status_code == 403  # no post_repayment
    assert post(client, url, body, auth(finance, ("read",))).status_code == 403  # scope
    h = auth(finance)
    first = post(client, url, body, h, key="k-1")
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["allocation"]["totals"]["principal"] == "9461.85"
    assert data["channel"] == "api"
    again = post(client, url, body, h, key="k-1")
    assert again.status_code == 201 and again.json() == data
    assert again["Idempotent-Replayed"] == "true"
    assert Posting.objects.filter(loan=loan).count() == 1
    assert Posting.objects.get().idempotency_key == "k-1"
    conflict = post(client, url, {**body, "amount": "1.00"}, h, key="k-1")
    assert conflict.status_code == 422 and conflict.json()["code"] == "idempotency_conflict"
    # another user reusing the key for a different amount → the posting service refuses: 409
    other = UserFactory(
        username="finance2", org_unit=finance.org_unit, roles=[finance.roles.first()]
    )
    resp = post(Client(), url, {**body, "amount": "2.00"}, auth(other), key="k-1")
    assert resp.status_code == 409 and resp.json()["code"] == "idempotency_conflict"
    # …and for the same loan and amount gets the first posting back, nothing posted twice
    resp = post(Client(), url, body, auth(other), key="k-1")
    assert resp.status_code == 201 and resp.json()["id"] == data["id"]
    for bad in ("0", "-5", "abc", "1.234"):
        r = post(client, url, {**body, "amount": bad}, h)
        assert r.status_code == 422 and r.json()["code"] == "validation_error", bad
    assert post(client, url, {**body, "received_on": "2026-13-01"}, h).status_code == 422
    assert post(client, url, {**body, "received_on": "2099-01-01"}, h).status_code == 422
    assert post(client, f"{API}/loans/999999/postings", body, h).status_code == 404
    assert Posting.objects.count() == 1
    Loan.objects.filter(pk=loan.pk).update(status="paid_off")
    r = post(client, url, body, h, key="k-2")
    assert r.status_code == 409 and r.json()["code"] == "invalid_state"
    assert Posting.objects.count() == 1


def test_reverse(client: Client, owner, finance, loan):
    h = auth(finance)
    url = f"{API}/loans/{loan.pk}/postings"
    pid = post(client, url, {"amount": "500.00", "received_on": "2026-02-20"}, h).json()["id"]
    assert (
        post(client, f"{API}/postings/{pid}/reverse", {"reason": "x"}, auth(owner)).status_code
        == 403
    )
    r = post(client, f"{API}/postings/{pid}/reverse", {"reason": "错账"}, h)
    assert r.status_code == 200, r.content
    assert r.json()["outstanding_principal"] == "120000.00"
    r = post(client, f"{API}/postings/{pid}/reverse", {"reason": "错账"}, h)
    assert r.status_code == 409
    assert post(client, f"{API}/postings/999999/reverse", {"reason": "x"}, h).status_code == 404
    assert ledger.verify().ok


def test_prepayment_quote_and_prepay(client: Client, finance, loan):
    h = auth(finance)
    q = client.get(f"{API}/loans/{loan.pk}/prepayment-quote?date=2026-03-01", **h)
    assert q.status_code == 200, q.content
    payoff = q.json()["payoff_amount"]
    due = Money(q.json()["due_total"])
    amount = Money.from_fen(due.fen + 2_000_000)
    q2 = client.get(
        f"{API}/loans/{loan.pk}/prepayment-quote?date=2026-03-01&amount={amount.yuan}", **h
    ).json()
    assert set(q2["schedules"]) == {"reduce_payment", "shorten_term"}
    assert client.get(f"{API}/loans/{loan.pk}/prepayment-quote?date=x", **h).status_code == 422
    r = client.get(f"{API}/loans/{loan.pk}/prepayment-quote?date=2026-03-01&amount=1", **h)
    assert r.status_code == 422
    url = f"{API}/loans/{loan.pk}/prepay"
    body = {"amount": str(amount.yuan), "on_date": "2026-03-01", "mode": "shorten_term"}
    r = post(client, url, body, h, key="pp")
    assert r.status_code == 201, r.content
    assert r.json()["principal"] == q2["prepay_principal"]
    assert post(client, url, body, h, key="pp").json() == r.json()
    assert Posting.objects.count() == 2
    assert post(client, url, {**body, "mode": "x"}, h).status_code == 422
    # a prepayment can be reversed: the schedule it rebuilt is undone too (replay)
    pid = r.json()["posting_id"]
    rev = post(client, f"{API}/postings/{pid}/reverse", {"reason": "银行退票"}, h)
    assert rev.status_code == 200, rev.content
    # the due part (its own repayment) stays paid; the prepaid principal is owed again
    after = client.get(f"{API}/loans/{loan.pk}/prepayment-quote?date=2026-03-01", **h).json()
    assert Money(after["payoff_amount"]).fen == Money(payoff).fen - due.fen
    r = post(client, url, body, h, key="pp2")
    assert r.status_code == 201, r.content
    # pay off the rest
    q3 = client.get(f"{API}/loans/{loan.pk}/prepayment-quote?date=2026-03-01", **h).json()
    assert Money(q3["payoff_amount"]) < Money(payoff)
    r = post(client, url, {**body, "amount": q3["payoff_amount"]}, h)
    assert r.status_code == 201 and r.json()["paid_off"] is True
    assert ledger.verify().ok


def test_vouchers_csv(client: Client, owner, finance, loan):
    h = auth(finance)
    r = client.get(f"{API}/accounting/vouchers?from=2026-01-01&to=2026-01-31", **h)
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    text = r.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    # the header, 放款 (2 lines: the full principal) and the upfront fee's two 前置手续费
    # entries (应收 and 收取, 2 lines each)
    assert rows[0][0] == "凭证日期" and len(rows) == 7
    assert (
        client.get(f"{API}/accounting/vouchers?from=2026-02-01&to=2026-01-01", **h).status_code
        == 422
    )
    assert client.get(f"{API}/accounting/vouchers?from=2026-02-01", **h).status_code == 422
    assert (
        client.get(
            f"{API}/accounting/vouchers?from=2026-01-01&to=2026-01-31", **auth(owner)
        ).status_code
        == 403
    )


def test_schedule_quote_matches_cli(client: Client, owner):
    body = {
        "principal": "1000000",
        "annual_rate": "4.9",
        "months": 360,
        "method": "equal_installment",
        "start": "2026-01-15",
    }
    r = post(client, f"{API}/schedule/quote", body, auth(owner, ("read",)))
    assert r.status_code == 200, r.content
    out = io.StringIO()
    call_command(
        "schedule",
        "--principal",
        "1000000",
        "--annual-rate",
        "4.9",
        "--months",
        "360",
        "--method",
        "equal_installment",
        "--start",
        "2026-01-15",
        "--format",
        "json",
        stdout=out,
    )
    assert r.json() == json.loads(out.getvalue())
    assert r.json()["installments"][0]["payment"] == "5307.27"
    bad = post(client, f"{API}/schedule/quote", {**body, "months": 0}, auth(owner))
    assert bad.status_code == 422
    bad = post(client, f"{API}/schedule/quote", {**body, "method": "x"}, auth(owner))
    assert bad.status_code == 422


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrency needs PostgreSQL")
def test_concurrent_duplicate_postings_post_once(make_loan, finance, viewers):
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    h = auth(finance)
    url = f"{API}/loans/{loan.pk}/postings"
    body = {"amount": "1000.00", "received_on": "2026-02-15"}
    results: list = []
    barrier = threading.Barrier(4)

    def worker():
        try:
            barrier.wait()
            results.append(post(Client(), url, body, h, key="same-key"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Posting.objects.filter(loan=loan).count() == 1
    codes = sorted(r.status_code for r in results)
    assert all(c in (201, 409) for c in codes) and 201 in codes
    # equal JSON (PostgreSQL JSONB reorders the keys of the replayed body)
    bodies = [r.json() for r in results if r.status_code == 201]
    assert all(b == bodies[0] for b in bodies)
    assert ledger.verify().ok
