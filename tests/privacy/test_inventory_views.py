"""The inventory (generated from the field registry) and the pages: only the privacy officer
sees the register; overdue requests are highlighted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from credo.core.customfields.models import CustomField
from credo.privacy import services
from credo.privacy.inventory import inventory
from credo.privacy.models import DataSubjectRequest

pytestmark = pytest.mark.django_db


def test_inventory_lists_encrypted_and_declared_fields():
    CustomField.objects.create(entity="customer", key="wechat", label="微信号", field_type="text")
    rows = {r.key: r for r in inventory()}
    idn = rows["customers.customer.id_number"]
    assert idn.category == "sensitive" and idn.encrypted and idn.blind_index
    assert idn.table == "customers_customer" and idn.column == "id_number"
    assert rows["customers.customer.address"].encrypted is False
    assert rows["leads.lead.phone"].encrypted and rows["leads.lead.phone"].retention == "lead"
    assert rows["custom.customer.wechat"].column == "custom→wechat"
    # system credentials are encrypted but not personal information
    assert not any(k.startswith("notify.channel.") for k in rows)
    assert "customers.externalprovider.auth_value" not in rows


def test_inventory_command_prints_markdown():
    import io

    out = io.StringIO()
    call_command("privacy_inventory", stdout=out)
    assert "`customers_customer.id_number`" in out.getvalue()
    assert "敏感个人信息" in out.getvalue()


def test_pages_are_for_the_privacy_officer(client, officer, owner, person):
    client.force_login(owner)
    for url in ("/privacy/requests/", "/privacy/inventory/", "/privacy/retention/"):
        assert client.get(url).status_code == 403
    client.force_login(officer)
    for url in ("/privacy/requests/", "/privacy/inventory/", "/privacy/retention/"):
        assert client.get(url).status_code == 200


def test_overdue_request_is_highlighted(client, officer, person):
    old = services.request_create(
        actor=officer, kind="access", customer=person, received_on=dt.date(2026, 1, 5)
    )
    client.force_login(officer)
    html = client.get("/privacy/requests/").content.decode()
    assert 'data-overdue="1"' in html and f"#{old.pk}" in html


def test_create_and_execute_through_the_pages(client, officer, person):
    client.force_login(officer)
    r = client.post(
        "/privacy/requests/new/",
        {"kind": "deletion", "customer": person.pk, "received_on": "2026-12-01", "detail": "电话"},
    )
    req = DataSubjectRequest.objects.get()
    assert r.status_code == 302 and r["Location"].endswith(f"/privacy/requests/{req.pk}/")
    r = client.post(f"/privacy/requests/{req.pk}/execute/")
    req.refresh_from_db()
    assert req.status == "completed"
    page = client.get(f"/privacy/requests/{req.pk}/").content.decode()
    assert "王小明" not in page


def test_legal_hold_placed_and_released_from_the_request_page(client, officer, person):
    from credo.privacy.models import LegalHold

    req = services.request_create(actor=officer, kind="deletion", customer=person)
    client.force_login(officer)
    url = f"/privacy/requests/{req.pk}/"
    client.post("/privacy/holds/", {"customer": person.pk, "reason": "诉讼保全", "next": url})
    hold = LegalHold.objects.get(customer=person, released_at__isnull=True)
    client.post(f"/privacy/requests/{req.pk}/execute/")
    req.refresh_from_db()
    assert req.status == "held" and req.hold_basis == "legal_hold"
    client.post(f"/privacy/holds/{hold.pk}/release/", {"next": url})
    hold.refresh_from_db()
    assert hold.released_at is not None


def test_the_nightly_task_runs_the_policies(officer):
    from credo.privacy.models import RetentionRun
    from credo.privacy.tasks import retention_nightly

    retention_nightly.enqueue()  # the immediate backend in tests
    run = RetentionRun.objects.get()
    assert run.actor is None and "closed_customers" in run.report


def test_requests_appear_on_the_customer_page_for_the_officer(officer, owner, person):
    from credo.customers.selectors import business_rows

    req = services.request_create(actor=officer, kind="correction", customer=person)
    rows = business_rows(person, officer)
    assert any(r["url"].endswith(f"/privacy/requests/{req.pk}/") for r in rows)
    assert not any("privacy" in (r.get("url") or "") for r in business_rows(person, owner))
