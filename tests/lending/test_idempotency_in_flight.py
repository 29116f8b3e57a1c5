"""A request whose Idempotency-Key is held by an uncommitted request gets 409, nothing posted."""

import json
import threading

import pytest
from django.db import connection, connections, transaction

from credo.api.models import IdempotencyKey
from credo.lending import services
from credo.lending.models import Posting
from tests.lending.conftest import VALUE_DATE
from tests.lending.test_api import auth, viewers  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_in_flight_duplicate_gets_409_then_succeeds(client, make_loan, finance, viewers):  # noqa: F811
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    headers = auth(finance)
    url = f"/api/v1/lending/loans/{loan.pk}/postings"
    body = json.dumps({"amount": "1000.00", "received_on": "2026-02-15"})
    holding, release = threading.Event(), threading.Event()

    def hold_key():
        try:
            with transaction.atomic():
                IdempotencyKey.objects.create(
                    user=finance, key="k-1", method="POST", path=url, request_hash="x"
                )
                holding.set()
                release.wait(10)
                transaction.set_rollback(True)  # the first request fails → key released
        finally:
            connections.close_all()

    t = threading.Thread(target=hold_key)
    t.start()
    assert holding.wait(10)
    try:
        resp = client.post(
            url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1", **headers
        )
        assert resp.status_code == 409, resp.content
        assert resp.json()["code"] == "idempotency_in_progress"
        assert not Posting.objects.filter(loan=loan).exists()
    finally:
        release.set()
        t.join()
    resp = client.post(
        url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1", **headers
    )
    assert resp.status_code == 201, resp.content
    assert Posting.objects.filter(loan=loan).count() == 1
    assert connection.vendor == "postgresql"
