"""Borrower self-service fixtures: two individual customers with their own mobile numbers and
one disbursed loan each (A's loan owned by ``owner``, B's by ``outsider``)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.cache import cache

from credo.core.money import Money
from credo.customers import services as customer_services
from tests.customers.conftest import make_id
from tests.lending.conftest import book_on, finance, product_version  # noqa: F401 (fixtures)

PHONE_A = "13800000001"
PHONE_B = "13900000002"


@pytest.fixture(autouse=True)
def _clear_rate_counters():
    cache.clear()  # the rate-limit counters live in the (local-memory) cache
    yield
    cache.clear()


def _person(actor, name: str, n: int, phone: str):
    return customer_services.customer_create(
        actor=actor,
        data={
            "kind": "individual",
            "name": name,
            "id_number": make_id(n),
            "phone": phone,
            "region_code": "140105",
        },
    )


@pytest.fixture
def cust_a(owner):
    return _person(owner, "张借款", 11, PHONE_A)


@pytest.fixture
def cust_b(outsider):
    return _person(outsider, "李借款", 12, PHONE_B)


def _loan(customer, actor, finance, product_version, *, days_ago: int = 20):  # noqa: F811
    from credo.lending import services

    loan = services.loan_create(
        customer=customer,
        product_version=product_version,
        principal=Money("120000"),
        annual_rate=Decimal("12"),
        months=12,
        actor=actor,
    )
    book_on(loan, dt.date.today() - dt.timedelta(days=days_ago + 5))
    return services.loan_disburse(
        loan=loan, actor=finance, value_date=dt.date.today() - dt.timedelta(days=days_ago)
    )


@pytest.fixture
def loan_a(cust_a, owner, finance, product_version):  # noqa: F811
    return _loan(cust_a, owner, finance, product_version)


@pytest.fixture
def loan_b(cust_b, outsider, finance, product_version):  # noqa: F811
    return _loan(cust_b, outsider, finance, product_version)


def last_code(phone_customer) -> str:
    """The code of the latest login SMS in the (simulated) outbox."""
    from credo.notify.models import Message

    msg = Message.objects.filter(
        template_code="borrower.login_code", customer=phone_customer
    ).latest("id")
    found = re.search(r"\b(\d{6})\b", msg.body)
    assert found, msg.body
    return found.group(1)


def borrower_login(client, customer, phone: str, *, accept_privacy: bool = True):
    """Log ``client`` in as the borrower through the real pages."""
    r = client.post("/b/login/", {"phone": phone, "action": "send"})
    assert r.status_code == 200, r.content.decode()[:500]
    code = last_code(customer)
    r = client.post("/b/login/", {"phone": phone, "code": code, "action": "verify"})
    assert r.status_code == 302, r.content.decode()[:500]
    if accept_privacy:
        r = client.post("/b/privacy/", {"accept": "1"})
        assert r.status_code == 302
    return client
