"""Issue 15 item 7: the value date of a disbursement is bounded — never before the approval /
contract signature (a direct loan: its creation), at most CREDO_DISBURSE_BACKDATE_DAYS back
without ``lending.backdate_disbursement``, never in the future. A refusal changes nothing, is
explained in Chinese and audited."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from credo.core import clock
from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.lending import services
from credo.lending.errors import LendingError
from credo.lending.models import JournalEntry, Loan
from tests.factories import RoleFactory, UserFactory
from tests.lending.conftest import book_on

pytestmark = pytest.mark.django_db


def _perms(*codenames: str) -> list[Permission]:
    return list(
        Permission.objects.filter(content_type__app_label="lending", codename__in=codenames)
    )


@pytest.fixture
def clerk(org):
    """Finance with the default rights: may disburse, may not back-date."""
    role = RoleFactory(code="clerk_t", name="财务（默认）", data_scope="all")
    role.permissions.add(*_perms("view_loan", "disburse_loan"))
    return UserFactory(username="clerk", display_name="钱出纳", org_unit=org["head"], roles=[role])


@pytest.fixture
def senior(org):
    role = RoleFactory(code="senior_t", name="财务（可倒签）", data_scope="all")
    role.permissions.add(*_perms("view_loan", "disburse_loan", "backdate_disbursement"))
    return UserFactory(username="senior", display_name="孙主管", org_unit=org["head"], roles=[role])


def _assert_untouched(loan: Loan) -> None:
    fresh = Loan.objects.get(pk=loan.pk)
    assert fresh.status == Loan.Status.PENDING and fresh.start_date is None
    assert fresh.version == loan.version and fresh.disbursed_by_id is None
    assert not fresh.installments.exists()
    assert not JournalEntry.objects.filter(loan=loan).exists()


def test_back_dating_refused_by_default_and_audited(make_loan, clerk):
    loan = make_loan()
    value_date = clock.today() - dt.timedelta(days=70)
    with pytest.raises(LendingError) as exc:
        services.loan_disburse(loan=loan, actor=clerk, value_date=value_date)
    assert exc.value.code == "invalid_value_date"
    assert "放款日不能早于今天" in exc.value.message and "放款日倒签" in exc.value.message
    _assert_untouched(loan)
    entry = AuditEntry.objects.get(action="loan.disburse_refused", object_id=str(loan.pk))
    assert entry.actor_id == clerk.pk
    assert entry.metadata["value_date"] == value_date.isoformat()
    assert entry.metadata["code"] == "invalid_value_date"


def test_today_is_allowed_without_permission(make_loan, clerk):
    loan = services.loan_disburse(loan=make_loan(), actor=clerk, value_date=clock.today())
    assert loan.status == Loan.Status.ACTIVE and loan.start_date == clock.today()
    entry = AuditEntry.objects.get(action="loan.disburse", object_id=str(loan.pk))
    assert entry.metadata["origin"] == "direct" and entry.metadata["backdated_days"] == 0


def test_configured_days_bound_back_dating(settings, make_loan, clerk):
    settings.CREDO_DISBURSE_BACKDATE_DAYS = 30
    today = clock.today()
    loan = make_loan()
    with pytest.raises(LendingError) as exc:
        services.loan_disburse(loan=loan, actor=clerk, value_date=today - dt.timedelta(days=31))
    assert "最多可倒签 30 天" in exc.value.message
    _assert_untouched(loan)
    loan = services.loan_disburse(loan=loan, actor=clerk, value_date=today - dt.timedelta(days=30))
    assert loan.start_date == today - dt.timedelta(days=30)


def test_permission_allows_further_back_but_never_before_creation(make_loan, senior):
    today = clock.today()
    loan = make_loan(booked_on=today - dt.timedelta(days=40))
    with pytest.raises(LendingError) as exc:
        services.loan_disburse(loan=loan, actor=senior, value_date=today - dt.timedelta(days=70))
    assert "放款日不能早于贷款创建日" in exc.value.message
    assert (today - dt.timedelta(days=40)).isoformat() in exc.value.message
    _assert_untouched(loan)
    loan = services.loan_disburse(loan=loan, actor=senior, value_date=today - dt.timedelta(days=40))
    assert loan.status == Loan.Status.ACTIVE


def test_future_value_date_refused(make_loan, senior):
    loan = make_loan()
    with pytest.raises(LendingError) as exc:
        services.loan_disburse(
            loan=loan, actor=senior, value_date=clock.today() + dt.timedelta(days=1)
        )
    assert "放款日不能晚于今天" in exc.value.message
    _assert_untouched(loan)


@pytest.fixture
def originated(make_loan, owner, borrower, product_version):
    """A loan from an application approved 20 days ago whose contract was signed 10 days ago;
    the loan record itself is older (booked long before), so only the origin bounds it."""
    from credo.contracts.models import Contract, ContractTemplate
    from credo.origination.models import Application

    today = clock.today()

    def at(days: int) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days), dt.time(9)))

    loan = make_loan()
    app = Application.objects.create(
        number="A202612030009",
        customer=borrower,
        product_version=product_version,
        amount=Money("120000"),
        months=12,
        annual_rate=Decimal("12"),
        method="equal_installment",
        purpose="经营周转",
        status="loan_created",
        decided_at=at(20),
        owner=owner,
        loan=loan,
    )
    template = ContractTemplate.objects.create(code="loan_t", name="借款合同", version=1, body="x")
    Contract.objects.create(
        number="HT202612030001",
        subject_type="origination.application",
        subject_id=str(app.pk),
        customer=borrower,
        template=template,
        html="x",
        status="signed",
        signed_at=at(10),
        created_by=owner,
    )
    return book_on(loan, today - dt.timedelta(days=400))


def test_originated_loan_never_before_contract_signature(originated, senior):
    today = clock.today()
    with pytest.raises(LendingError) as exc:
        services.loan_disburse(
            loan=originated, actor=senior, value_date=today - dt.timedelta(days=15)
        )
    assert "放款日不能早于合同签署日" in exc.value.message
    _assert_untouched(originated)
    loan = services.loan_disburse(
        loan=originated, actor=senior, value_date=today - dt.timedelta(days=10)
    )
    assert loan.start_date == today - dt.timedelta(days=10)
    entry = AuditEntry.objects.get(action="loan.disburse", object_id=str(loan.pk))
    assert entry.metadata["origin"] == "application"


def test_originated_loan_without_contract_never_before_approval(originated, senior):
    from credo.contracts.models import Contract

    Contract.objects.all().delete()
    with pytest.raises(LendingError) as exc:
        services.loan_disburse(
            loan=originated, actor=senior, value_date=clock.today() - dt.timedelta(days=21)
        )
    assert "放款日不能早于申请审批通过日" in exc.value.message
    _assert_untouched(originated)


def test_page_shows_window_and_chinese_error_nothing_changes(client, make_loan, clerk):
    loan = make_loan()
    client.force_login(clerk)
    html = client.get(reverse("lending:loan_detail", args=[loan.pk])).content.decode()
    today = clock.today().isoformat()
    assert f"可选范围：{today} 至 {today}" in html
    back = (clock.today() - dt.timedelta(days=70)).isoformat()
    res = client.post(
        reverse("lending:loan_disburse", args=[loan.pk]), {"value_date": back}, follow=True
    )
    assert "放款日不能早于今天" in res.content.decode()
    _assert_untouched(loan)
    assert AuditEntry.objects.filter(action="loan.disburse_refused", actor_id=clerk.pk).exists()
