"""Workbench pages, permissions / data scope, and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from credo.collections import guardrails
from credo.collections.models import CollectionCase, ComplianceLog, ContactAttempt, PromiseToPay
from credo.lending import eod
from tests.lending.test_api import auth

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(loan, junior, junior2, senior):
    eod.run_eod(dt.date(2026, 2, 20))  # dpd 5 → call tier
    return CollectionCase.objects.get(loan=loan)


def quiet_around_now() -> str:
    """A quiet window from two hours before to two hours after now (Beijing time): "always
    quiet" for the test's duration whatever the wall clock ("00:00-23:59" is not quiet during
    the minute 23:59)."""
    now = guardrails.local(timezone.now())
    start, end = now - dt.timedelta(hours=2), now + dt.timedelta(hours=2)
    return f"{start:%H:%M}-{end:%H:%M}"


def client_for(client, user):
    client.force_login(user)
    return client


def test_junior_sees_only_own_cases(client, case, junior, junior2):
    assert case.assignee == junior
    c = client_for(client, junior)
    r = c.get(reverse("collections:workbench"))
    assert r.status_code == 200 and case.loan.number in r.content.decode()
    assert c.get(reverse("collections:case_detail", args=[case.pk])).status_code == 200
    c.logout()
    c = client_for(client, junior2)
    r = c.get(reverse("collections:workbench"))
    assert case.loan.number not in r.content.decode()
    assert c.get(reverse("collections:case_detail", args=[case.pk])).status_code == 404
    assert c.get(reverse("collections:team")).status_code == 403


def test_outsider_sees_nothing(client, case, outsider):
    c = client_for(client, outsider)
    assert c.get(reverse("collections:workbench")).status_code == 403
    assert c.get(reverse("collections:case_detail", args=[case.pk])).status_code == 403
    r = c.get("/api/v1/collections/cases", **auth(outsider))
    assert r.status_code == 403


def test_senior_team_view_and_reassign(client, case, junior, junior2, senior):
    c = client_for(client, senior)
    r = c.get(reverse("collections:team"))
    assert r.status_code == 200 and case.loan.number in r.content.decode()
    r = c.post(reverse("collections:case_reassign", args=[case.pk]), {"assignee": junior2.pk})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.assignee == junior2
    assert c.get(reverse("collections:legal")).status_code == 200


def test_contact_and_promise_through_the_page(client, case, junior, settings):
    settings.CREDO_COLLECTION_QUIET_HOURS = "00:00-00:00"  # never quiet: wall clock independent
    c = client_for(client, junior)
    url = reverse("collections:case_contact", args=[case.pk])
    r = c.post(url, {"target": "borrower", "channel": "call", "outcome": "promise", "notes": "x"})
    assert r.status_code == 302
    assert ContactAttempt.objects.filter(case=case, outcome="promise").count() == 1
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    r = c.post(
        reverse("collections:case_promise", args=[case.pk]),
        {"promised_date": tomorrow, "amount": "3000.00"},
    )
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.status == "promised"
    r = c.get(reverse("collections:case_detail", args=[case.pk]))
    assert "已承诺" in r.content.decode()


def test_compliance_page_for_managers(client, case, junior, risk_manager, settings):
    settings.CREDO_COLLECTION_QUIET_HOURS = quiet_around_now()
    c = client_for(client, junior)
    r = c.post(
        reverse("collections:case_contact", args=[case.pk]),
        {"target": "borrower", "channel": "call", "outcome": "no_answer"},
        follow=True,
    )
    assert "合规限制" in r.content.decode()
    assert ComplianceLog.objects.count() == 1 and not ContactAttempt.objects.exists()
    assert c.get(reverse("collections:compliance")).status_code == 403
    c.logout()
    c = client_for(client, risk_manager)
    r = c.get(reverse("collections:compliance"))
    body = r.content.decode()
    assert r.status_code == 200 and "静默时段" in body and "quiet_hours" not in body


def test_letter_pdf_download(client, loan, senior, junior, risk_manager):
    eod.run_eod(dt.date(2026, 2, 28))  # 13 days → senior + letter
    case = CollectionCase.objects.get(loan=loan)
    letter = case.letters.get()
    c = client_for(client, senior)
    r = c.get(reverse("collections:letter", args=[letter.pk]))
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    c.logout()
    c = client_for(client, junior)
    assert c.get(reverse("collections:letter", args=[letter.pk])).status_code == 404


def test_scripts_editable(client, case, risk_manager, junior):
    c = client_for(client, risk_manager)
    r = c.get(reverse("collections:scripts"))
    assert r.status_code == 200 and "核实身份" in r.content.decode()
    r = c.post(reverse("collections:scripts"), {"tier": "call_junior", "text": "新话术：您好"})
    assert r.status_code == 302
    from credo.collections.services import script_for

    assert script_for("call_junior") == "新话术：您好"


# --- API -----------------------------------------------------------------------------------------
def test_api_list_detail_contact_promise(client, case, junior, junior2, settings):
    settings.CREDO_COLLECTION_QUIET_HOURS = "00:00-00:00"
    h = auth(junior)
    r = client.get("/api/v1/collections/cases", **h)
    assert r.status_code == 200 and [i["id"] for i in r.json()["items"]] == [case.pk]
    r = client.get(f"/api/v1/collections/cases/{case.pk}", **h)
    body = r.json()
    assert r.status_code == 200 and body["tier"] == "call_junior" and body["targets"]
    assert client.get(f"/api/v1/collections/cases/{case.pk}", **auth(junior2)).status_code == 404
    r = client.get("/api/v1/collections/cases?view=team", **h)
    assert r.status_code == 403
    r = client.post(
        f"/api/v1/collections/cases/{case.pk}/contacts",
        {"channel": "call", "outcome": "no_answer"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k1",
        **h,
    )
    assert r.status_code == 201
    again = client.post(
        f"/api/v1/collections/cases/{case.pk}/contacts",
        {"channel": "call", "outcome": "no_answer"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k1",
        **h,
    )
    assert again.status_code == 201 and again.json()["id"] == r.json()["id"]
    assert ContactAttempt.objects.count() == 1
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    r = client.post(
        f"/api/v1/collections/cases/{case.pk}/promises",
        {"promised_date": tomorrow, "amount": "1000.50"},
        content_type="application/json",
        **h,
    )
    assert r.status_code == 201 and r.json()["amount"] == "1000.50"
    r = client.post(
        f"/api/v1/collections/cases/{case.pk}/promises",
        {"promised_date": tomorrow, "amount": "-1"},
        content_type="application/json",
        **h,
    )
    assert r.status_code == 422
    assert PromiseToPay.objects.count() == 1


def test_api_guardrail_is_409_with_rule(client, case, junior, settings):
    settings.CREDO_COLLECTION_QUIET_HOURS = quiet_around_now()
    r = client.post(
        f"/api/v1/collections/cases/{case.pk}/contacts",
        {"channel": "call", "outcome": "no_answer"},
        content_type="application/json",
        **auth(junior),
    )
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "guardrail_violation" and body["details"]["rule"] == "quiet_hours"
    assert "合规限制" in body["message"]
    assert not ContactAttempt.objects.exists() and ComplianceLog.objects.count() == 1
    r = client.post(
        f"/api/v1/collections/cases/{case.pk}/contacts",
        {"channel": "fax", "outcome": "no_answer"},
        content_type="application/json",
        **auth(junior),
    )
    assert r.status_code == 422
