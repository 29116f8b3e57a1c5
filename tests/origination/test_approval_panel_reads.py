"""The reads behind the approval task page's application panel: the application with its scope
checks in one query, the documents once, the prior loans' repayment record tallied from the
installments that count, the related-party group without the reads a lone applicant needs
not."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import Count, F, Max, Q
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.customers.models import Relation
from credo.lending import services as lending
from credo.lending.models import Installment, Loan
from credo.origination import approval_decision as decision
from credo.origination import selectors, services
from tests.lending.conftest import book_on
from tests.origination.conftest import make_customer, png_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 4, 20)


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    from credo.core import clock

    monkeypatch.setattr(clock, "today", lambda: TODAY)
    return TODAY


# --- the application ------------------------------------------------------------------------------
def test_application_get_folds_the_scope_check(make_app, owner, colleague, outsider):
    app = make_app()
    with CaptureQueriesContext(connection) as ctx:
        assert selectors.application_get(owner, app.pk) == app
    assert len(ctx.captured_queries) == 1
    for user in (colleague, outsider):  # own scope: only the owner's applications
        with pytest.raises(Http404):
            selectors.application_get(user, app.pk)
        assert AuditEntry.objects.filter(
            action="application.access_denied", actor_id=user.pk, object_id=str(app.pk)
        ).exists()
    for bad in ("x", None, 10**9):
        with pytest.raises(Http404):
            selectors.application_get(owner, bad)


def test_application_for_approval(make_app, complete, owner, outsider, org, approvers):
    from credo.approvals.models import ApprovalTask
    from tests.factories import RoleFactory, UserFactory

    app = services.application_submit(application=complete(make_app()), actor=owner)
    with CaptureQueriesContext(connection) as ctx:
        got = selectors.application_for_approval(owner, app.pk)
    assert len(ctx.captured_queries) == 1  # the customer, product, manager, admission model too
    assert got == app and got.customer_in_scope
    assert got.customer.name and got.product_version.product.name and got.owner.username
    assert got.admission_evaluation_id
    with CaptureQueriesContext(connection) as ctx:
        assert got.admission_evaluation.version.display_name
    assert not ctx.captured_queries
    # an approver outside the application's (and the customer's) data scope: the application
    # (they decide on it), not the customer
    role = RoleFactory(code="far_lead", name="外组主管", data_scope="team")
    far = UserFactory(username="far", display_name="外组", org_unit=org["team_c"], roles=[role])
    ApprovalTask.objects.filter(status="open").update(assignee=far)
    got = selectors.application_for_approval(far, app.pk)
    assert got == app and not got.customer_in_scope
    with pytest.raises(Http404):
        selectors.application_for_approval(outsider, app.pk)
    assert AuditEntry.objects.filter(
        action="application.access_denied", actor_id=outsider.pk, object_id=str(app.pk)
    ).exists()


def test_checklist_from_documents_read_once(make_app, owner):
    app = make_app()
    for name in ("a.png", "b.png"):
        services.document_upload(
            application=app, item="营业执照", name=name, data=png_bytes(), actor=owner
        )
    services.document_upload(
        application=app, item="财务报表", name="fs.xlsx", data=xlsx_bytes(), actor=owner
    )
    documents = list(app.documents.order_by("item", "-id"))
    assert services.checklist(app, documents) == services.checklist(app)
    assert services.checklist(app, reversed(documents)) == services.checklist(app)
    assert services.checklist(app, []) == services.checklist(make_app())  # nothing uploaded


# --- prior loans ------------------------------------------------------------------------------------
def _reference(customer_id):
    """The repayment record as one aggregate query computes it (the former implementation)."""
    today = TODAY
    fallen = Q(installments__due_date__lte=today)
    late = Q(installments__paid_on__gt=F("installments__due_date"))
    on_time = Q(installments__paid_on__lte=F("installments__due_date"))
    open_late = Q(installments__due_date__lt=today) & Q(
        installments__status__in=("scheduled", "due", "overdue")
    )
    rows = (
        Loan.objects.filter(customer_id=customer_id)
        .annotate(
            n_due=Count("installments", filter=fallen),
            n_on_time=Count("installments", filter=on_time & fallen),
            n_late=Count("installments", filter=late),
            n_unpaid=Count("installments", filter=open_late),
            last_paid=Max("installments__paid_on"),
        )
        .order_by("-id")
        .values_list("pk", "n_due", "n_on_time", "n_late", "n_unpaid", "last_paid")
    )
    return list(rows)


@pytest.fixture
def loans(customer, product_version, owner, org):
    from tests.factories import RoleFactory, UserFactory

    role = RoleFactory(code="finance_r", name="财务R", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="lending",
            codename__in=["disburse_loan", "post_repayment", "backdate_disbursement"],
        )
    )
    fin = UserFactory(username="fin_r", display_name="财务", org_unit=org["head"], roles=[role])
    made = []
    for months in (12, 6):
        loan = lending.loan_create(
            customer=customer,
            product_version=product_version,
            principal=Money("120000"),
            annual_rate=Decimal("12"),
            months=months,
            actor=owner,
        )
        book_on(loan, dt.date(2025, 12, 10))
        made.append(lending.loan_disburse(loan=loan, actor=fin, value_date=dt.date(2025, 12, 15)))
    first = list(made[0].installments.order_by("period"))
    days = dt.timedelta(days=1)
    Installment.objects.filter(pk=first[0].pk).update(status="paid", paid_on=first[0].due_date)
    Installment.objects.filter(pk=first[1].pk).update(
        status="paid", paid_on=first[1].due_date + 9 * days
    )
    Installment.objects.filter(pk=first[2].pk).update(status="overdue")
    # paid ahead of its (future) due date: not fallen due, not late, the last payment
    Installment.objects.filter(pk=first[6].pk).update(status="paid", paid_on=TODAY - 2 * days)
    second = list(made[1].installments.order_by("period"))
    Installment.objects.filter(pk=second[0].pk).update(
        status="paid", paid_on=second[0].due_date - days
    )
    return made


def test_prior_loans_tally_as_the_aggregate_did(make_app, loans, owner, outsider):
    app = make_app()
    with CaptureQueriesContext(connection) as ctx:
        got = decision.prior_loans(app, owner)
    assert len(ctx.captured_queries) == 2  # the loans (with the scope check), the installments
    assert [
        (x.pk, x.n_due, x.n_on_time, x.n_late, x.n_unpaid, x.last_paid) for x in got
    ] == _reference(app.customer_id)
    first = next(x for x in got if x.pk == loans[0].pk)
    assert (first.n_late, first.last_paid) == (1, TODAY - dt.timedelta(days=2))
    assert all(x.in_scope for x in got)
    assert not any(x.in_scope for x in decision.prior_loans(app, outsider))
    # what the rows show is read with them
    with CaptureQueriesContext(connection) as ctx:
        for x in got:
            (x.number, x.status, x.dpd, x.principal, x.outstanding_principal, x.start_date)
            (x.maturity_date, x.product_version.product.name, x.get_status_display())
        decision.loan_summary(got)
    assert not ctx.captured_queries
    assert decision.prior_loans(make_app(cust=make_customer(owner, n=7)), owner) == []


# --- related-party exposure ---------------------------------------------------------------------
def test_related_exposure_of_a_lone_applicant(make_app, owner, customer):
    app = make_app()
    with CaptureQueriesContext(connection) as ctx:
        alone = decision.related_exposure(app)
    # no names to look up, no direct relations to label (the group's own query aside)
    assert not [q for q in ctx.captured_queries if q["sql"].startswith('SELECT "customers_')]
    assert [(m.customer_id, m.name, m.relation) for m in alone.members] == [
        (customer.pk, customer.name, "")
    ]
    parent = make_customer(owner, n=2, name="太原控股集团有限公司")
    Relation.objects.create(
        from_customer=parent, to_customer=customer, kind="shareholder", share_pct=Decimal("60")
    )
    group = decision.related_exposure(app)
    assert [(m.customer_id, m.name) for m in group.members] == [
        (customer.pk, customer.name),
        (parent.pk, "太原控股集团有限公司"),
    ]
    assert group.members[1].relation == "股东"
