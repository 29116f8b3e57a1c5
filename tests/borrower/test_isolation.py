"""Borrower pages show only the borrower's own records; borrower and staff sessions are
separate (neither opens the other's pages)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from credo.borrower.models import BorrowerSession, PrivacyAcceptance
from credo.core.audit.models import AuditEntry
from tests.borrower.conftest import PHONE_A, PHONE_B, borrower_login

pytestmark = pytest.mark.django_db


def test_home_shows_only_own_loans_with_next_due(client, cust_a, loan_a, loan_b):
    borrower_login(client, cust_a, PHONE_A)
    r = client.get("/b/")
    html = r.content.decode()
    assert r.status_code == 200
    assert loan_a.number in html and loan_b.number not in html
    first = loan_a.installments.order_by("period").first()
    assert first.due_date.isoformat() in html
    assert r["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    "path",
    [
        "/b/loans/{pk}/",
        "/b/loans/{pk}/statement.pdf",
        "/b/loans/{pk}/prepay/",
    ],
)
def test_another_borrowers_loan_is_404(client, cust_a, loan_a, loan_b, path):
    borrower_login(client, cust_a, PHONE_A)
    assert client.get(path.format(pk=loan_a.pk)).status_code == 200
    assert client.get(path.format(pk=loan_b.pk)).status_code == 404
    assert client.get(path.format(pk=999999)).status_code == 404


def test_prepay_request_for_another_borrowers_loan_is_404(client, cust_a, loan_a, loan_b):
    borrower_login(client, cust_a, PHONE_A)
    assert client.post(f"/b/loans/{loan_b.pk}/prepay/", {"amount": ""}).status_code == 404
    assert not loan_b.borrower_requests.exists()


def test_staff_session_cannot_use_borrower_pages(client, owner, cust_a, loan_a):
    client.force_login(owner)
    for path in ("/b/", f"/b/loans/{loan_a.pk}/", "/b/payments/", "/b/repay/"):
        r = client.get(path)
        assert r.status_code == 302 and r["Location"].startswith("/b/login/"), path


def test_borrower_session_cannot_open_staff_pages(client, cust_a, loan_a):
    borrower_login(client, cust_a, PHONE_A)
    assert "sessionid" not in client.cookies or not client.cookies["sessionid"].value
    for path in ("/", f"/lending/loans/{loan_a.pk}/", "/customers/", "/borrower-requests/"):
        r = client.get(path)
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/"), path


def test_borrower_cookie_is_its_own(client, cust_a):
    borrower_login(client, cust_a, PHONE_A)
    cookie = client.cookies["credo_borrower"]
    assert cookie["path"] == "/b/" and cookie["httponly"] and cookie["samesite"] == "Lax"
    session = BorrowerSession.objects.get()
    assert cookie.value not in session.token_hash
    # A borrower token in the staff cookie is no staff login, and a staff session key in the
    # borrower cookie is no borrower login.
    other = Client()
    other.cookies["sessionid"] = cookie.value
    assert other.get("/").status_code == 302
    staff = Client()
    staff.cookies["credo_borrower"] = "x" * 43
    assert staff.get("/b/").status_code == 302


def test_staff_login_in_the_same_browser_is_not_the_actor(client, owner, cust_a, loan_a):
    client.force_login(owner)
    borrower_login(client, cust_a, PHONE_A)
    client.get(f"/b/loans/{loan_a.pk}/")
    row = AuditEntry.objects.filter(action="borrower.view_schedule").get()
    assert row.actor_id is None and row.metadata["customer_ids"] == [cust_a.pk]


def test_privacy_notice_must_be_accepted_first(client, cust_a):
    borrower_login(client, cust_a, PHONE_A, accept_privacy=False)
    r = client.get("/b/")
    assert r.status_code == 302 and r["Location"].startswith("/b/privacy/")
    r = client.post("/b/privacy/", {"next": "/b/"})
    assert r.status_code == 200 and not PrivacyAcceptance.objects.exists()
    r = client.post("/b/privacy/", {"accept": "1", "marketing": "1", "next": "/b/"})
    assert r.status_code == 302 and r["Location"] == "/b/"
    assert PrivacyAcceptance.objects.get().customer_id == cust_a.pk
    assert cust_a.marketing_consents.get().source == "portal"
    assert AuditEntry.objects.filter(action="borrower.privacy_accept").count() == 1
    assert client.get("/b/").status_code == 200
    client.post("/b/privacy/marketing/withdraw/")
    assert cust_a.marketing_consents.get().withdrawn_at is not None


def test_logout_ends_the_session(client, cust_a):
    borrower_login(client, cust_a, PHONE_A)
    r = client.post("/b/logout/")
    assert r.status_code == 302
    assert BorrowerSession.objects.get().ended_at is not None
    assert client.get("/b/").status_code == 302
    assert AuditEntry.objects.filter(action="borrower.logout").count() == 1


def test_idle_session_redirects_to_login(client, cust_a):
    borrower_login(client, cust_a, PHONE_A)
    BorrowerSession.objects.update(last_seen_at=timezone.now() - dt.timedelta(hours=1))
    r = client.get("/b/")
    assert r.status_code == 302 and r["Location"].startswith("/b/login/")


def test_login_page_needs_csrf(cust_a):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/b/login/", {"phone": PHONE_A, "action": "send"}).status_code == 403


def test_login_page_answers_the_same_for_unknown_numbers(client, cust_a):
    known = client.post("/b/login/", {"phone": PHONE_A, "action": "send"}).content.decode()
    unknown = client.post("/b/login/", {"phone": "13700000009", "action": "send"}).content.decode()
    assert 'id="login-sent"' in known and 'id="login-sent"' in unknown
    assert "otp-verify-form" in known and "otp-verify-form" in unknown


def test_login_next_stays_inside_the_borrower_space(client, cust_a):
    client.post("/b/login/", {"phone": PHONE_A, "action": "send"})
    from tests.borrower.conftest import last_code

    r = client.post(
        "/b/login/",
        {
            "phone": PHONE_A,
            "code": last_code(cust_a),
            "action": "verify",
            "next": "//evil.example/",
        },
    )
    assert r["Location"] == "/b/"


def test_two_customers_with_the_same_mobile_are_one_borrower(client, cust_a, owner, loan_a):
    from credo.customers import services as customer_services
    from tests.customers.conftest import make_id

    other = customer_services.customer_create(
        actor=owner,
        data={"kind": "individual", "name": "同号客户", "id_number": make_id(13), "phone": PHONE_A},
    )
    borrower_login(client, cust_a, PHONE_A)
    assert sorted(BorrowerSession.objects.get().customer_ids) == sorted([cust_a.pk, other.pk])
    assert PHONE_B not in client.get("/b/").content.decode()
