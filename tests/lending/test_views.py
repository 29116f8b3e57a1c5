"""Lending UI: loan list/detail, disburse, repayment posting, reversal, products."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.lending import services
from credo.lending.models import Installment, Loan, Posting, Product, ProductVersion
from tests.factories import RoleFactory, UserFactory
from tests.lending.conftest import VALUE_DATE

pytestmark = pytest.mark.django_db


def _perms(*codenames: str) -> list[Permission]:
    return list(
        Permission.objects.filter(content_type__app_label="lending", codename__in=codenames)
    )


@pytest.fixture
def am(owner, manager_role):
    manager_role.permissions.add(*_perms("view_loan", "add_loan"))
    return owner


@pytest.fixture
def outsider_am(outsider, manager_role):
    manager_role.permissions.add(*_perms("view_loan", "add_loan"))
    return outsider


@pytest.fixture
def fin(org):
    role = RoleFactory(code="fin_ui", name="财务UI", data_scope="all")
    role.permissions.add(
        *_perms(
            "view_loan",
            "disburse_loan",
            "post_repayment",
            "reverse_posting",
            "backdate_disbursement",  # disburses on the fixed past VALUE_DATE
        )
    )
    return UserFactory(username="fin_ui", display_name="钱财务", org_unit=org["head"], roles=[role])


@pytest.fixture
def padmin(org):
    role = RoleFactory(code="padmin", name="产品管理", data_scope="all")
    role.permissions.add(*_perms("manage_products"))
    return UserFactory(username="padmin", org_unit=org["head"], roles=[role])


@pytest.fixture
def active_loan(make_loan, fin):
    loan = make_loan()
    return services.loan_disburse(loan=loan, actor=fin, value_date=VALUE_DATE)


# ---------------------------------------------------------------- list / detail


def test_list_scoped_and_filtered(client, am, outsider_am, make_loan):
    loan = make_loan()
    client.force_login(am)
    res = client.get(reverse("lending:loan_list"))
    assert res.status_code == 200
    assert loan.number in res.content.decode()
    res = client.get(reverse("lending:loan_list"), {"q": "太原借款"})
    assert loan.number in res.content.decode()
    res = client.get(reverse("lending:loan_list"), {"status": "active"})
    assert loan.number not in res.content.decode()
    res = client.get(reverse("lending:loan_list"), {"overdue": "1"})
    assert "没有符合条件的贷款" in res.content.decode()
    client.force_login(outsider_am)
    res = client.get(reverse("lending:loan_list"))
    assert loan.number not in res.content.decode()


def test_list_requires_permission(client, owner):
    client.force_login(owner)
    assert client.get(reverse("lending:loan_list")).status_code == 403


def test_detail_shows_schedule_entries_events(client, am, active_loan):
    client.force_login(am)
    res = client.get(reverse("lending:loan_detail", args=[active_loan.pk]))
    assert res.status_code == 200
    html = res.content.decode()
    assert "installment-table" in html and "entry-table" in html
    assert "loan_principal" in html and "放款" in html
    assert active_loan.number in html
    assert "确认放款" not in html  # already active, and no permission
    assert "post-repayment" not in html  # no post permission


def test_detail_outsider_404_and_audited(client, outsider_am, make_loan):
    loan = make_loan()
    client.force_login(outsider_am)
    assert client.get(reverse("lending:loan_detail", args=[loan.pk])).status_code == 404
    assert AuditEntry.objects.filter(action="loan.access_denied", actor_id=outsider_am.pk).exists()


# ---------------------------------------------------------------- disburse


def test_disburse_maker_checker(client, make_loan, owner, manager_role, fin):
    manager_role.permissions.add(*_perms("view_loan", "disburse_loan"))
    loan = make_loan()  # created by owner
    client.force_login(owner)
    res = client.post(
        reverse("lending:loan_disburse", args=[loan.pk]), {"value_date": "2026-01-15"}, follow=True
    )
    assert "双人复核" in res.content.decode()
    loan.refresh_from_db()
    assert loan.status == Loan.Status.PENDING

    client.force_login(fin)
    html = client.get(reverse("lending:loan_detail", args=[loan.pk])).content.decode()
    assert "disburse-form" in html
    res = client.post(
        reverse("lending:loan_disburse", args=[loan.pk]), {"value_date": "2026-01-15"}
    )
    assert res.status_code == 302
    loan.refresh_from_db()
    assert loan.status == Loan.Status.ACTIVE
    assert loan.installments.count() == 12


def test_disburse_requires_permission(client, am, make_loan):
    loan = make_loan()
    client.force_login(am)
    res = client.post(
        reverse("lending:loan_disburse", args=[loan.pk]), {"value_date": "2026-01-15"}
    )
    assert res.status_code == 403


# ---------------------------------------------------------------- repayment


def test_repayment_form_preview_and_idempotent_post(client, fin, active_loan):
    client.force_login(fin)
    url = reverse("lending:post_repayment", args=[active_loan.pk])
    res = client.get(url)
    assert res.status_code == 200
    key = res.context["form"]["idempotency_key"].value()
    assert key and len(key) == 36

    first = active_loan.installments.get(period=1)
    due = first.principal_due.fen + first.interest_due.fen
    amount = f"{due // 100}.{due % 100:02d}"
    preview = client.get(
        reverse("lending:repayment_preview", args=[active_loan.pk]),
        {"amount": "20000", "received_on": first.due_date.isoformat()},
        HTTP_HX_REQUEST="true",
    )
    html = preview.content.decode()
    assert "allocation-table" in html and "第 1 期" in html

    bad = client.get(
        reverse("lending:repayment_preview", args=[active_loan.pk]),
        {"amount": "x", "received_on": "2026-02-15"},
    )
    assert "请输入有效的金额" in bad.content.decode()

    data = {
        "amount": amount,
        "received_on": first.due_date.isoformat(),
        "reference": "B1",
        "idempotency_key": key,
    }
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # double submit
    assert Posting.objects.filter(loan=active_loan).count() == 1
    first.refresh_from_db()
    assert first.status == Installment.Status.PAID


def test_repayment_validation_errors_in_chinese(client, fin, active_loan):
    client.force_login(fin)
    url = reverse("lending:post_repayment", args=[active_loan.pk])
    res = client.post(url, {"amount": "100", "received_on": "2020-01-01", "idempotency_key": "k1"})
    assert res.status_code == 200
    assert "到账日期不能早于放款日" in res.content.decode()
    res = client.post(url, {"amount": "", "received_on": "", "idempotency_key": "k2"})
    assert res.status_code == 200
    assert not Posting.objects.exists()


def test_repayment_requires_permission(client, am, active_loan):
    client.force_login(am)
    assert client.get(reverse("lending:post_repayment", args=[active_loan.pk])).status_code == 403


def test_reverse_posting(client, fin, active_loan):
    posting = services.repayment_post(
        loan=active_loan, amount=Money("5000"), received_on=dt.date(2026, 2, 15), actor=fin
    )
    client.force_login(fin)
    url = reverse("lending:posting_reverse", args=[active_loan.pk, posting.pk])
    client.post(url, {"reason": ""})
    posting.refresh_from_db()
    assert posting.reversed_at is None
    res = client.post(url, {"reason": "金额录错"}, follow=True)
    assert "已冲正该笔还款" in res.content.decode()
    posting.refresh_from_db()
    assert posting.reversed_at is not None


def test_reverse_requires_permission(client, am, fin, active_loan):
    posting = services.repayment_post(
        loan=active_loan, amount=Money("5000"), received_on=dt.date(2026, 2, 15), actor=fin
    )
    client.force_login(am)
    url = reverse("lending:posting_reverse", args=[active_loan.pk, posting.pk])
    assert client.post(url, {"reason": "x"}).status_code == 403


# ---------------------------------------------------------------- new loan


def test_loan_create(client, am, manager_role, borrower, product_version):
    manager_role.permissions.add(*_perms("create_loan_directly"))
    client.force_login(am)
    res = client.get(reverse("lending:loan_create"), {"customer": borrower.pk})
    assert res.status_code == 200 and borrower.name in res.content.decode()
    data = {
        "customer": borrower.pk,
        "product_version": product_version.pk,
        "principal": "100",
        "annual_rate": "12",
        "months": "12",
    }
    res = client.post(reverse("lending:loan_create"), data)
    assert res.status_code == 200
    assert "贷款金额应在" in res.content.decode()
    data["principal"] = "50000"
    res = client.post(reverse("lending:loan_create"), data)
    loan = Loan.objects.get()
    assert res.status_code == 302 and res.url == reverse("lending:loan_detail", args=[loan.pk])


def test_loan_create_outsider_cannot_pick_foreign_customer(
    client, outsider_am, manager_role, borrower, product_version
):
    manager_role.permissions.add(*_perms("create_loan_directly"))
    client.force_login(outsider_am)
    data = {
        "customer": borrower.pk,
        "product_version": product_version.pk,
        "principal": "50000",
        "annual_rate": "12",
        "months": "12",
    }
    res = client.post(reverse("lending:loan_create"), data)
    assert res.status_code == 200
    assert not Loan.objects.exists()


# ---------------------------------------------------------------- products


VERSION_POST = {
    "v-min_amount": "10000",
    "v-max_amount": "1000000",
    "v-min_months": "3",
    "v-max_months": "36",
    "v-min_rate": "4",
    "v-max_rate": "18",
    "v-method": "equal_principal",
    "v-upfront_fee_rate": "0",
    "v-installment_fee": "0",
    "v-penalty_multiplier": "1.5",
    "v-grace_days": "3",
    "v-penalty_days_in_year": "360",
    "v-compound_interest": "on",
    "v-penalty_from": "due_date",
    "v-allocation_order": "penalty, fee, interest, principal",
    "v-required_documents": "营业执照\n\n法人身份证\n",
}


def test_products_require_permission(client, am):
    client.force_login(am)
    assert client.get(reverse("lending:product_list")).status_code == 403


def test_product_create_validation(client, padmin):
    client.force_login(padmin)
    data = {
        "p-code": "xd",
        "p-name": "信贷",
        **VERSION_POST,
        "v-min_amount": "2000000",
        "v-allocation_order": "fee,principal",
    }
    res = client.post(reverse("lending:product_create"), data)
    html = res.content.decode()
    assert "最低金额不能高于最高金额" in html and "冲抵顺序" in html
    assert not Product.objects.exists()


def test_product_create_edit_publish_new_version(client, padmin):
    client.force_login(padmin)
    res = client.post(
        reverse("lending:product_create"), {"p-code": "xd", "p-name": "信贷", **VERSION_POST}
    )
    assert res.status_code == 302
    v1 = ProductVersion.objects.get(product__code="xd")
    assert v1.status == "draft" and v1.min_amount == Money("10000")
    assert v1.required_documents == ["营业执照", "法人身份证"]
    edit = reverse("lending:product_version_edit", args=[v1.pk])
    client.post(edit, {**VERSION_POST, "v-max_rate": "20"})
    v1.refresh_from_db()
    assert v1.max_rate == Decimal("20")

    client.post(reverse("lending:product_version_publish", args=[v1.pk]))
    v1.refresh_from_db()
    assert v1.status == "published" and v1.published_at
    assert AuditEntry.objects.filter(action="product.version_publish").exists()

    # published: read-only
    client.post(edit, {**VERSION_POST, "v-max_rate": "24"})
    v1.refresh_from_db()
    assert v1.max_rate == Decimal("20")

    res = client.post(reverse("lending:product_version_new", args=[v1.product_id]))
    v2 = ProductVersion.objects.get(product=v1.product, number=2)
    assert res.url == reverse("lending:product_version_edit", args=[v2.pk])
    assert v2.status == "draft" and v2.max_rate == Decimal("20")
    client.post(reverse("lending:product_version_publish", args=[v2.pk]))
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status) == ("retired", "published")
    assert "v1" in client.get(reverse("lending:product_list")).content.decode()


def test_repayment_form_defaults_to_today_iso(client, fin, active_loan):
    from django.utils import timezone

    client.force_login(fin)
    html = client.get(reverse("lending:post_repayment", args=[active_loan.pk])).content.decode()
    assert f'value="{timezone.localdate().isoformat()}"' in html


def test_repayment_preview_outsider_404(client, outsider, manager_role, active_loan):
    manager_role.permissions.add(*_perms("view_loan", "post_repayment"))
    client.force_login(outsider)
    url = reverse("lending:repayment_preview", args=[active_loan.pk])
    assert client.get(url, {"amount": "1", "received_on": "2026-02-15"}).status_code == 404


def test_repayment_key_reused_with_other_amount_is_refused(client, fin, active_loan):
    client.force_login(fin)
    url = reverse("lending:post_repayment", args=[active_loan.pk])
    data = {"amount": "5000", "received_on": "2026-02-15", "idempotency_key": "same-key"}
    assert client.post(url, data).status_code == 302
    res = client.post(url, {**data, "amount": "6000"})
    assert res.status_code == 200
    assert "幂等键" in res.content.decode()
    assert Posting.objects.count() == 1
