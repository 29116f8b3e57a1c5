import datetime as dt

import pytest
from django.urls import reverse

from credo.collateral import services
from credo.collateral.models import Collateral, ReleaseRequest
from credo.core.money import Money

pytestmark = pytest.mark.django_db


def test_list_empty_filters_and_scope(client, owner, outsider, manage_perms, house):
    client.force_login(owner)
    page = client.get(reverse("collateral:list"))
    assert page.status_code == 200 and "没有符合条件的押品" in page.text
    c = house()
    page = client.get(reverse("collateral:list"), {"category": "real_estate", "q": "长风街"})
    assert c.number in page.text
    page = client.get(reverse("collateral:list"), {"category": "vehicle"})
    assert c.number not in page.text
    client.force_login(outsider)  # same role, other team: the list is empty, the page 404
    assert c.number not in client.get(reverse("collateral:list")).text
    assert client.get(reverse("collateral:detail", args=[c.pk])).status_code == 404


def test_create_from_application_shows_ltv(client, owner, manage_perms, make_app, customer):
    app = make_app(amount="300000")
    client.force_login(owner)
    url = reverse("collateral:create") + f"?application={app.pk}&owner={customer.pk}"
    form = client.get(url)
    assert form.status_code == 200 and app.number in form.text
    resp = client.post(
        url,
        {
            "application": app.pk,
            "owner": customer.pk,
            "kind": "mortgage",
            "category": "real_estate",
            "description": "太原市小店区房产",
            "registration_number": "",
            "value": "400000.00",
            "valued_on": "2026-05-30",
            "appraiser": "某估价公司",
            "method": "market",
        },
    )
    assert resp.status_code == 302
    assert resp["Location"] == reverse("origination:detail", args=[app.pk])
    c = Collateral.objects.get()
    assert c.current_value.fen == 40_000_000 and c.links.get().application_id == app.pk
    detail = client.get(resp["Location"])
    assert 'id="application-security"' in detail.text
    assert "75.00%" in detail.text and "超过最高抵押率" in detail.text


def test_valuation_required_fields(client, owner, manage_perms, customer):
    client.force_login(owner)
    resp = client.post(
        reverse("collateral:create"),
        {
            "owner": customer.pk,
            "kind": "pledge",
            "category": "deposit",
            "description": "存单",
            "value": "1000",
        },
    )
    assert resp.status_code == 200 and Collateral.objects.count() == 0


def test_detail_valuation_and_release_flow(client, owner, checker, house, loan):
    c = house(loan=loan)
    client.force_login(owner)
    page = client.get(reverse("collateral:detail", args=[c.pk]))
    assert page.status_code == 200 and "评估历史" in page.text
    client.post(
        reverse("collateral:valuation_add", args=[c.pk]),
        {"valued_on": "2026-05-31", "value": "520000", "appraiser": "复评", "method": "market"},
    )
    c.refresh_from_db()
    assert c.current_value == Money("520000")
    client.post(reverse("collateral:release_request", args=[c.pk]), {"reason": "结清"})
    req = ReleaseRequest.objects.get()
    # the requester sees no approve button and cannot decide
    page = client.get(reverse("collateral:detail", args=[c.pk]))
    assert f'id="release-approve-{req.pk}"' not in page.text
    assert (
        client.post(
            reverse("collateral:release_decide", args=[req.pk]), {"decision": "approve"}
        ).status_code
        == 403
    )
    client.force_login(checker)
    page = client.get(reverse("collateral:detail", args=[c.pk]))
    assert f'id="release-approve-{req.pk}"' in page.text
    client.post(
        reverse("collateral:release_decide", args=[req.pk]),
        {"decision": "approve", "note": "同意", "released_on": "2026-06-01"},
    )
    c.refresh_from_db()
    assert c.status == "released" and c.released_on == dt.date(2026, 6, 1)


def test_loan_page_and_credit_report_show_security(
    client, owner, house, loan, customer, manage_perms
):
    house(loan=loan)
    services.guarantee_create(
        actor=owner,
        guarantor=customer,
        contract_number="BZ-9",
        kind="joint",
        amount=Money("300000"),
        loan=loan,
    )
    client.force_login(owner)
    page = client.get(reverse("lending:loan_detail", args=[loan.pk]))
    assert 'id="loan-security"' in page.text and "BZ-9" in page.text
    assert "60.00%" in page.text
    report = client.get(reverse("credit_report:page", args=[customer.pk]))
    assert 'id="customer-security"' in report.text and "BZ-9" in report.text
    detail = client.get(reverse("customers:detail", args=[customer.pk]))
    assert detail.status_code == 200


def test_guarantee_pages(client, owner, manage_perms, loan, customer):
    client.force_login(owner)
    url = reverse("collateral:guarantee_create") + f"?loan={loan.pk}"
    resp = client.post(
        url,
        {
            "loan": loan.pk,
            "guarantor": customer.pk,
            "contract_number": "BZ-10",
            "kind": "general",
            "amount": "100000",
            "period_start": "2026-06-01",
            "period_end": "2029-06-01",
        },
    )
    assert resp.status_code == 302
    g = loan.guarantees.get()
    assert g.amount.fen == 10_000_000 and g.status == "active"
    page = client.get(reverse("collateral:guarantee_detail", args=[g.pk]))
    assert "BZ-10" in page.text and "2029-06-01" in page.text


def test_ltv_limit_page(client, owner, org, product_version):
    from decimal import Decimal

    from credo.collateral.models import LtvLimit
    from tests.factories import UserFactory, role_with_perms

    admin = UserFactory(
        username="pm",
        org_unit=org["head"],
        roles=[role_with_perms("admin_t", "all", "lending.manage_products")],
    )
    client.force_login(owner)
    assert client.get(reverse("collateral:ltv_limits")).status_code == 403
    client.force_login(admin)
    page = client.get(reverse("collateral:ltv_limits"))
    assert page.status_code == 200 and product_version.product.name in page.text
    client.post(
        reverse("collateral:ltv_limits"),
        {"product": product_version.product.pk, "max_ltv": "65"},
    )
    assert LtvLimit.objects.get().max_ltv == Decimal("65")
    client.post(
        reverse("collateral:ltv_limits"), {"product": product_version.product.pk, "max_ltv": "5000"}
    )
    assert LtvLimit.objects.get().max_ltv == Decimal("65")
    client.post(
        reverse("collateral:ltv_limits"), {"product": product_version.product.pk, "max_ltv": ""}
    )
    assert not LtvLimit.objects.exists()
