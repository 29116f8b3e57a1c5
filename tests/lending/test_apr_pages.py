"""年化利率 on the pages that price a loan (issue 20): application, loan, product version,
prepayment options — through the views and the ``pricing`` template tags."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission
from django.template import Context, Template
from django.urls import reverse

from credo.core.money import Money

pytestmark = pytest.mark.django_db


def _grant(user, app_label, *codenames):
    user.roles.first().permissions.add(
        *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
    )
    return user.__class__.objects.get(pk=user.pk)


def test_application_detail_shows_the_apr(client, owner, borrower, product_version):
    from credo.origination import services as origination

    owner = _grant(owner, "origination", "add_application", "view_application")
    app = origination.application_create(
        customer=borrower,
        product_version=product_version,
        amount=Money("120000"),
        months=12,
        annual_rate=Decimal("12"),
        purpose="经营周转",
        actor=owner,
    )
    client.force_login(owner)
    body = client.get(reverse("origination:detail", args=[app.pk])).content.decode()
    assert 'id="application-apr"' in body and "13.91%" in body


def test_terms_filter_on_any_terms_object(product_version):
    terms = SimpleNamespace(
        product_version=product_version,
        final_amount=12_000_000,
        final_months=12,
        annual_rate=Decimal("12"),
    )
    html = Template("{% load pricing %}{% with d=t|terms_apr %}{{ d.percent }}{% endwith %}")
    assert html.render(Context({"t": terms})) == "13.91"
    assert Template("{% load pricing %}{{ x|terms_apr }}").render(Context({"x": 1})) == "None"


def test_loan_page_shows_the_apr(client, make_loan, owner):
    loan = make_loan()
    owner = _grant(owner, "lending", "view_loan")
    client.force_login(owner)
    body = client.get(reverse("lending:loan_detail", args=[loan.pk])).content.decode()
    assert 'id="loan-apr">13.91%' in body


def test_product_page_shows_the_range(client, owner, product_version):
    owner = _grant(owner, "lending", "manage_products")
    client.force_login(owner)
    body = client.get(
        reverse("lending:product_version_edit", args=[product_version.pk])
    ).content.decode()
    assert 'id="product-apr-range"' in body
    # 18 % over 3 months with 1 % deducted is above 24 %: the page says publishing is refused
    assert 'id="product-apr-over"' in body


def test_prepayment_options_show_the_new_apr(make_loan):
    """An option's rows (yuan strings, as the prepayment quote gives them) after 60,000 remain:
    no installment fee on the loan → the contract rate."""
    from credo.lending.schedule import generate

    loan = make_loan()
    rows = generate(
        principal=6_000_000, annual_rate=Decimal("12"), months=10, method="equal_installment",
        start=dt.date(2026, 3, 15),
    ).as_dict()["installments"]  # fmt: skip
    html = Template("{% load pricing %}{% prepay_apr loan '60000.00' s as d %}{{ d.percent }}")
    assert html.render(Context({"loan": loan, "s": {"installments": rows}})) == "12.00"


def test_products_offered_on_the_portal_show_their_range(product_version):
    html = Template(
        "{% load pricing %}{% published_product_aprs as a %}{% for p in a %}{{ p.name }} "
        "{{ p.label }}{% endfor %}"
    ).render(Context({}))
    assert re.fullmatch(r"经营贷 \d+\.\d\d%–\d+\.\d\d%", html), html
