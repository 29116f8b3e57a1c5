"""Issue 15 item 6: a loan created directly (新建贷款, no application/approval/contract) needs
``lending.create_loan_directly``; refusals are audited; the loan and its disbursement page say
"未经申请审批" with the creator."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.lending import services
from credo.lending.errors import LendingError
from credo.lending.models import Loan
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db


def _perms(*codenames: str) -> list[Permission]:
    return list(
        Permission.objects.filter(content_type__app_label="lending", codename__in=codenames)
    )


@pytest.fixture
def am(owner, manager_role):
    """An account manager with what the default role used to allow (view + add loans)."""
    manager_role.permissions.add(*_perms("view_loan", "add_loan"))
    return owner


@pytest.fixture
def direct_creator(org):
    role = RoleFactory(code="direct_t", name="直接放贷", data_scope="all")
    role.permissions.add(*_perms("view_loan", "create_loan_directly"))
    return UserFactory(username="direct", display_name="赵管理", org_unit=org["head"], roles=[role])


@pytest.fixture
def checker(org):
    role = RoleFactory(code="checker_t", name="放款复核", data_scope="all")
    role.permissions.add(*_perms("view_loan", "disburse_loan"))
    return UserFactory(
        username="checker", display_name="孙财务", org_unit=org["head"], roles=[role]
    )


def _terms(borrower, product_version):
    return {
        "customer": borrower.pk,
        "product_version": product_version.pk,
        "principal": "50000",
        "annual_rate": "12",
        "months": "12",
    }


def test_account_manager_cannot_create_directly_page_refused_and_audited(
    client, am, borrower, product_version
):
    client.force_login(am)
    assert client.get(reverse("lending:loan_create")).status_code == 403
    res = client.post(reverse("lending:loan_create"), _terms(borrower, product_version))
    assert res.status_code == 403
    assert not Loan.objects.exists()
    denied = AuditEntry.objects.filter(action="loan.create_direct_denied", actor_id=am.pk)
    assert denied.count() == 2
    assert denied.first().metadata["permission"] == "lending.create_loan_directly"


def test_direct_create_service_refused_without_permission(am, borrower, product_version):
    with pytest.raises(LendingError) as exc:
        services.loan_create_direct(
            customer=borrower,
            product_version=product_version,
            principal=Money("50000"),
            annual_rate=Decimal("12"),
            months=12,
            actor=am,
        )
    assert exc.value.code == "forbidden" and "直接新建贷款" in exc.value.message
    assert not Loan.objects.exists()
    assert AuditEntry.objects.filter(action="loan.create_direct_denied", actor_id=am.pk).exists()


def test_new_loan_button_hidden_without_permission(client, am, direct_creator):
    url = reverse("lending:loan_create")
    client.force_login(am)
    html = client.get(reverse("lending:loan_list")).content.decode()
    assert f'href="{url}"' not in html
    client.force_login(direct_creator)
    html = client.get(reverse("lending:loan_list")).content.decode()
    assert f'href="{url}"' in html


def test_direct_creation_audited_and_flagged_on_loan_and_disbursement(
    client, direct_creator, checker, borrower, product_version
):
    client.force_login(direct_creator)
    page = client.get(reverse("lending:loan_create")).content.decode()
    assert "direct-loan-warning" in page
    res = client.post(reverse("lending:loan_create"), _terms(borrower, product_version))
    loan = Loan.objects.get()
    assert res.status_code == 302
    entry = AuditEntry.objects.get(action="loan.create_direct", object_id=str(loan.pk))
    assert entry.actor_id == direct_creator.pk and entry.metadata["origin"] == "direct"
    assert not AuditEntry.objects.filter(action="loan.create", object_id=str(loan.pk)).exists()
    assert borrower.events.filter(title__contains="未经申请审批").exists()

    client.force_login(checker)
    html = client.get(reverse("lending:loan_detail", args=[loan.pk])).content.decode()
    assert 'id="loan-origin-direct"' in html and "未经申请审批" in html
    assert "由 赵管理 于" in html  # the creator, on the loan page
    assert 'id="disburse-form"' in html
    assert "未经申请审批：由 赵管理 直接新建" in html  # and on the disbursement confirmation


def test_originated_loan_is_not_flagged(client, checker, originated_loan):
    loan, app = originated_loan
    client.force_login(checker)
    html = client.get(reverse("lending:loan_detail", args=[loan.pk])).content.decode()
    assert "未经申请审批" not in html
    assert f"贷款申请 {app.number}" in html


@pytest.fixture
def originated_loan(make_loan, owner, borrower, product_version):
    from django.utils import timezone

    from credo.origination.models import Application

    loan = make_loan()
    app = Application.objects.create(
        number="A202612030001",
        customer=borrower,
        product_version=product_version,
        amount=Money("120000"),
        months=12,
        annual_rate=Decimal("12"),
        method="equal_installment",
        purpose="经营周转",
        status="loan_created",
        decided_at=timezone.now(),
        owner=owner,
        loan=loan,
    )
    return loan, app
