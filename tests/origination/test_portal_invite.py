"""在线申请邀请: a customer starts an application through a tokenized invitation link."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.customers.models import Customer, CustomerEvent
from credo.origination import services
from credo.origination.errors import (
    InvalidApplication,
    NotAllowed,
    PortalLinkInvalid,
    RateLimited,
)
from credo.origination.models import Application, PortalLink
from credo.origination.services import portal
from tests.origination.conftest import png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def invite(owner, customer):
    return services.portal_invite_create(customer=customer, actor=owner)


def accept(token, pv, amount="200000", months=12, purpose="购买设备", guarantees=None):
    return services.portal_invite_accept(
        token=token,
        product_version=pv,
        amount=Money(amount),
        months=months,
        purpose=purpose,
        guarantees=guarantees,
    )


def test_create_invite(owner, customer, invite):
    link, token = invite
    assert link.purpose == PortalLink.Purpose.INVITE and link.customer == customer
    assert link.application is None and link.created_by == owner
    assert link.token_hash == portal._hash(token) and token not in link.token_hash
    assert (link.expires_at - timezone.now()).days in (6, 7)
    entry = AuditEntry.objects.get(action="portal_invite.create")
    assert entry.actor_id == owner.pk and entry.metadata["portal_link"] == link.pk
    # an invitation is not an upload link and vice versa
    with pytest.raises(PortalLinkInvalid) as err:
        services.portal_resolve(token)
    assert err.value.status == 404


def test_happy_path(owner, customer, product_version, invite, django_capture_on_commit_callbacks):
    link, token = invite
    with django_capture_on_commit_callbacks(execute=True):
        app, upload, upload_token = accept(
            token,
            product_version,
            guarantees=[{"type": "guarantor", "name": "李四", "value": None}],
        )
    assert app.status == Application.Status.DRAFT and app.customer == customer
    assert app.owner == owner and app.created_by is None
    assert app.amount == Money("200000") and app.months == 12
    assert app.annual_rate == product_version.min_rate and app.purpose == "购买设备"
    assert app.guarantees == [{"type": "guarantor", "name": "李四", "value": None}]
    link.refresh_from_db()
    assert link.used_at is not None and link.application is None
    # a new ordinary upload link: the usual portal continues from here
    assert upload.purpose == PortalLink.Purpose.UPLOAD and upload.application == app
    assert upload.created_by == owner and upload.used_at is None
    assert services.portal_resolve(upload_token).pk == upload.pk
    services.portal_upload(token=upload_token, item="营业执照", name="l.png", data=png_bytes())
    created = AuditEntry.objects.get(action="application.create")
    assert created.actor_id is None
    assert created.metadata["via"] == "portal" and created.metadata["portal_invite"] == link.pk
    assert AuditEntry.objects.filter(
        action="portal_link.create", metadata__portal_link=upload.pk
    ).exists()
    event = CustomerEvent.objects.get(customer=customer, kind="application")
    assert event.actor is None and event.detail["via"] == "portal"
    assert "在线申请" in event.title and app.number in event.title
    from credo.notify.models import Message

    [msg] = Message.objects.filter(template_code=services.INVITE_NOTIFY_TEMPLATE)
    assert msg.user == owner and msg.kind == "inapp"
    assert app.number in msg.body and customer.name in msg.body


def test_expired_changes_nothing(product_version, invite):
    link, token = invite
    PortalLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    with pytest.raises(PortalLinkInvalid) as err:
        accept(token, product_version)
    assert err.value.status == 410 and "过期" in err.value.message
    assert Application.objects.count() == 0
    link.refresh_from_db()
    assert link.window_uploads == 0 and link.used_at is None


def test_reused_refused(product_version, invite):
    _link, token = invite
    accept(token, product_version)
    with pytest.raises(PortalLinkInvalid) as err:
        accept(token, product_version)
    assert err.value.status == 410 and "已使用" in err.value.message
    assert Application.objects.count() == 1
    assert PortalLink.objects.filter(purpose="upload").count() == 1


def test_revoked_refused(owner, colleague, product_version, invite):
    link, token = invite
    with pytest.raises(NotAllowed):
        services.portal_invite_revoke(link=link, actor=colleague)
    assert AuditEntry.objects.filter(action="portal_invite.denied").count() == 1
    services.portal_invite_revoke(link=link, actor=owner)
    assert AuditEntry.objects.filter(action="portal_invite.revoke").count() == 1
    with pytest.raises(PortalLinkInvalid) as err:
        accept(token, product_version)
    assert err.value.status == 410 and "撤销" in err.value.message
    assert Application.objects.count() == 0


def test_unknown_token_404(product_version):
    with pytest.raises(PortalLinkInvalid) as err:
        accept("nope", product_version)
    assert err.value.status == 404


@pytest.mark.parametrize(
    ("amount", "months", "purpose", "expect"),
    [
        ("200000", 1, "购买设备", "期限"),
        ("99999999", 12, "购买设备", "金额"),
        ("200000", 12, "   ", "用途"),
    ],
)
def test_bad_terms_nothing_created(product_version, invite, amount, months, purpose, expect):
    link, token = invite
    with pytest.raises(InvalidApplication) as err:
        accept(token, product_version, amount=amount, months=months, purpose=purpose)
    assert expect in err.value.message
    assert Application.objects.count() == 0
    assert PortalLink.objects.filter(purpose="upload").count() == 0
    link.refresh_from_db()
    assert link.used_at is None and link.window_uploads == 1  # the attempt counts
    refused = AuditEntry.objects.get(action="portal_invite.refused")
    assert refused.metadata["portal_link"] == link.pk and refused.metadata["code"]
    assert not AuditEntry.objects.filter(action="application.create").exists()
    # a corrected attempt succeeds with the same link
    app, _upload, _t = accept(token, product_version)
    assert app.status == "draft"


def test_unpublished_product_refused(product_version, invite):
    _link, token = invite
    product_version.status = "draft"
    product_version.save(update_fields=["status"])
    with pytest.raises(InvalidApplication):
        accept(token, product_version)
    assert Application.objects.count() == 0


def test_rate_limited(product_version, invite):
    link, token = invite
    for _ in range(services.PORTAL_INVITE_ATTEMPTS_PER_WINDOW):
        with pytest.raises(InvalidApplication):
            accept(token, product_version, months=1)
    with pytest.raises(RateLimited):
        accept(token, product_version)  # valid, but too many attempts
    assert Application.objects.count() == 0
    # a new window lets the customer continue
    PortalLink.objects.filter(pk=link.pk).update(
        window_start=timezone.now() - services.PORTAL_WINDOW - dt.timedelta(seconds=1)
    )
    app, _u, _t = accept(token, product_version)
    assert app.pk


def test_create_permissions(owner, outsider, colleague, customer, staff_perms, org):
    with pytest.raises(NotAllowed):
        services.portal_invite_create(customer=customer, actor=outsider)
    with pytest.raises(NotAllowed):  # own data scope: a teammate's customer is not theirs
        services.portal_invite_create(customer=customer, actor=colleague)
    from tests.factories import RoleFactory, UserFactory

    plain = UserFactory(
        username="plain",
        org_unit=org["team_a"],
        roles=[RoleFactory(code="nobody", name="无权限", data_scope="all")],
    )
    with pytest.raises(NotAllowed):
        services.portal_invite_create(customer=customer, actor=plain)
    assert PortalLink.objects.count() == 0
    assert AuditEntry.objects.filter(action="portal_invite.denied").count() == 3
    with pytest.raises(InvalidApplication):
        services.portal_invite_create(customer=customer, actor=owner, days=31)
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.CLOSED)
    customer.refresh_from_db()
    with pytest.raises(InvalidApplication):
        services.portal_invite_create(customer=customer, actor=owner)
    assert PortalLink.objects.count() == 0


# --- pages ---------------------------------------------------------------------------------------
def test_invite_page_flow(client: Client, product_version, invite):
    _link, token = invite
    url = f"/portal/invite/{token}/"
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="invite-form"' in body and "经营贷" in body
    assert page["Referrer-Policy"] == "same-origin"
    assert 'name="annual_rate"' not in body and 'name="customer"' not in body
    bad = client.post(
        url,
        {"product_version": product_version.pk, "amount": "200000", "months": 1, "purpose": "x"},
    )
    assert bad.status_code == 200 and "期限" in bad.content.decode()
    assert Application.objects.count() == 0
    ok = client.post(
        url,
        {
            "product_version": product_version.pk,
            "amount": "250000",
            "months": 24,
            "purpose": "扩大生产",
            "collateral": "厂房一处",
            "collateral_value": "800000",
        },
    )
    assert ok.status_code == 302 and ok["Location"].startswith("/portal/")
    app = Application.objects.get()
    from credo.collateral.models import Collateral

    assert app.guarantees == []
    plant = Collateral.objects.get(links__application_id=app.pk)
    assert plant.description == "厂房一处" and plant.current_value.fen == 80_000_000
    assert plant.owner_id == app.customer_id and plant.created_by is None
    landing = client.get(ok["Location"])
    assert landing.status_code == 200
    assert app.number in landing.content.decode() and "portal-checklist" in landing.content.decode()
    # the invitation is used up: same clear page as other links
    again = client.get(url)
    assert again.status_code == 410 and "已使用" in again.content.decode()
    assert client.post(url, {"product_version": product_version.pk}).status_code == 410
    assert Application.objects.count() == 1


def test_invite_page_gone_and_throttled(client: Client, product_version, invite):
    link, token = invite
    url = f"/portal/invite/{token}/"
    assert client.get("/portal/invite/unknown/").status_code == 404
    data = {"product_version": product_version.pk, "amount": "200000", "months": 1, "purpose": "x"}
    for _ in range(services.PORTAL_INVITE_ATTEMPTS_PER_WINDOW):
        assert client.post(url, data).status_code == 200
    limited = client.post(url, {**data, "months": 12})
    assert limited.status_code == 429 and "频繁" in limited.content.decode()
    PortalLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
    gone = client.get(url)
    assert gone.status_code == 410 and 'id="portal-gone"' in gone.content.decode()
    assert Application.objects.count() == 0


def test_staff_creates_invite_from_customer_page(client: Client, owner, outsider, customer):
    client.force_login(owner)
    detail = client.get(f"/customers/{customer.pk}/")
    assert 'id="create-invite"' in detail.content.decode()
    resp = client.post(f"/origination/customers/{customer.pk}/portal-invites/", {"days": 3})
    assert resp.status_code == 200 and resp["Cache-Control"] == "no-store"
    body = resp.content.decode()
    assert 'id="invite-url"' in body and "/portal/invite/" in body
    link = PortalLink.objects.get()
    assert link.purpose == "invite" and link.customer == customer
    assert (link.expires_at - timezone.now()).days in (2, 3)
    client.force_login(outsider)
    assert client.post(f"/origination/customers/{customer.pk}/portal-invites/").status_code == 404
    assert PortalLink.objects.count() == 1


def test_staff_lists_and_revokes_invites(client: Client, owner, outsider, customer, invite):
    link, token = invite
    list_url = f"/origination/customers/{customer.pk}/portal-invites/list/"
    revoke_url = f"/origination/customers/{customer.pk}/portal-invites/{link.pk}/revoke/"
    client.force_login(outsider)
    assert client.get(list_url).status_code == 404
    assert client.post(revoke_url).status_code == 404
    client.force_login(owner)
    page = client.get(list_url)
    assert page.status_code == 200 and f'data-invite="{link.pk}"' in page.content.decode()
    assert revoke_url in page.content.decode()
    resp = client.post(revoke_url)
    assert resp.status_code == 302 and resp["Location"] == list_url
    link.refresh_from_db()
    assert link.revoked_at is not None
    assert revoke_url not in client.get(list_url).content.decode()
    assert client.get(f"/portal/invite/{token}/").status_code == 410
