"""Issue 18 item 7: the application form creates collateral/guarantee records, the 抵押率 is
stored at submission and at the approval decision, and a loan paid off opens its 解押申请 at
once (the after-close job is a set-based safety net over the collateral links)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credo.approvals import services as approvals
from credo.approvals.selectors import instance_for, open_task_of
from credo.collateral import jobs, selectors, services
from credo.collateral.models import (
    Collateral,
    Guarantee,
    LtvSnapshot,
    ReleaseRequest,
)
from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.customers.models import Customer
from credo.lending.models import Loan
from credo.origination import services as origination
from credo.origination.errors import InvalidApplication
from credo.origination.forms import ApplicationForm, PortalApplicationForm
from credo.origination.models import Application
from tests.collateral.conftest import TODAY, paid_off
from tests.origination.conftest import make_customer

pytestmark = pytest.mark.django_db


def _form(customer, product_version, **extra):
    data = {
        "customer": customer.pk,
        "product_version": product_version.pk,
        "amount": "300000",
        "months": "12",
        "annual_rate": "12",
        "purpose": "购置设备",
        **extra,
    }
    return ApplicationForm(
        data, customers=Customer.objects.all(), versions=type(product_version).objects.all()
    )


def _create(form, owner):
    assert form.is_valid(), form.errors
    data = form.cleaned_data
    return origination.application_create(
        customer=data["customer"],
        product_version=data["product_version"],
        amount=Money(data["amount"]),
        months=data["months"],
        annual_rate=data["annual_rate"],
        purpose=data["purpose"],
        guarantees=form.guarantees(),
        actor=owner,
    )


# --- the form creates records ---------------------------------------------------------------
def test_form_creates_collateral_and_guarantee_records(owner, customer, product_version):
    guarantor = make_customer(owner, n=8, name="太原担保人有限公司")
    form = _form(
        customer,
        product_version,
        guarantor=guarantor.pk,
        guarantee_kind="general",
        guarantee_amount="200000",
        collateral_kind="pledge",
        collateral_category="deposit",
        collateral="定期存单 No.12345",
        collateral_value="500000",
        collateral_registration_number="晋(2026)质押第0007号",
    )
    app = _create(form, owner)
    assert app.guarantees == []  # the old JSON list is no longer written
    c = Collateral.objects.get(links__application_id=app.pk)
    assert (c.kind, c.category, c.description) == ("pledge", "deposit", "定期存单 No.12345")
    assert c.owner == customer and c.status == Collateral.Status.DRAFT
    assert c.registration_number == "晋(2026)质押第0007号"
    assert c.current_value == Money("500000") and c.valued_on == TODAY
    v = c.valuations.get()
    assert v.method == "declared" and v.appraiser == services.DECLARED_APPRAISER
    g = Guarantee.objects.get(application_id=app.pk)
    assert g.guarantor == guarantor and g.kind == "general" and g.amount == Money("200000")
    assert g.status == Guarantee.Status.DRAFT and g.contract_number == f"{app.number}-BZ1"
    audited = AuditEntry.objects.filter(metadata__via="application")
    assert sorted(audited.values_list("action", flat=True)) == [
        "collateral.create",
        "guarantee.create",
    ]
    assert AuditEntry.objects.filter(action="collateral.link", object_id=str(c.pk)).exists()
    # the application page's security shows both, with the LTV against the declared value
    sec = selectors.application_security(app)
    assert [link.collateral for link in sec.links] == [c] and sec.guarantees == [g]
    assert sec.ltv == Decimal("60.00")


def test_form_defaults_owner_is_stated_and_guarantee_amount(owner, customer, product_version):
    other = make_customer(owner, n=9, name="押品所有人有限公司")
    guarantor = make_customer(owner, n=10, name="另一保证人有限公司")
    form = _form(
        customer,
        product_version,
        guarantor=guarantor.pk,
        collateral="厂房一处",
        collateral_owner=other.pk,
    )
    app = _create(form, owner)
    c = Collateral.objects.get(links__application_id=app.pk)
    assert c.owner == other and c.kind == "mortgage" and c.current_value is None
    g = Guarantee.objects.get(application_id=app.pk)
    assert g.kind == "joint" and g.amount == app.amount  # 连带 by default, the applied amount


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"collateral_value": "100000"}, "collateral", "填写了押品价值，请同时填写押品描述。"),
        (
            {"collateral_registration_number": "晋0001"},
            "collateral",
            "填写了他项权证号，请同时填写押品描述。",
        ),
        ({"guarantee_amount": "1000"}, "guarantor", "填写了保证金额，请选择保证人。"),
        ({"collateral": "房产", "collateral_value": "-1"}, "collateral_value", None),
    ],
)
def test_form_validation_messages(owner, customer, product_version, extra, field, message):
    form = _form(customer, product_version, **extra)
    assert not form.is_valid()
    assert field in form.errors
    if message:
        assert message in form.errors[field]


def test_guarantor_cannot_be_the_borrower(owner, customer, product_version):
    form = _form(customer, product_version, guarantor=customer.pk)
    assert not form.is_valid() and "保证人不能是借款人本人。" in form.errors["guarantor"]
    # the service refuses it too (API), and nothing is created
    with pytest.raises(InvalidApplication):
        origination.application_create(
            customer=customer,
            product_version=product_version,
            amount=Money("300000"),
            months=12,
            purpose="x",
            actor=owner,
            guarantees=[{"type": "guarantor", "guarantor_id": customer.pk}],
        )
    assert not Application.objects.exists() and not Guarantee.objects.exists()


def test_invalid_collateral_rolls_back_the_application(owner, customer, product_version):
    with pytest.raises(InvalidApplication):
        origination.application_create(
            customer=customer,
            product_version=product_version,
            amount=Money("300000"),
            months=12,
            purpose="x",
            actor=owner,
            guarantees=[{"type": "collateral", "kind": "bogus", "name": "房产"}],
        )
    assert not Application.objects.exists() and not Collateral.objects.exists()


def test_portal_form_declares_guarantor_name_only(product_version):
    form = PortalApplicationForm(
        {
            "product_version": product_version.pk,
            "amount": "200000",
            "months": "12",
            "purpose": "x",
            "guarantor": "李四",
            "collateral": "住房一套",
            "collateral_value": "600000",
        },
        versions=type(product_version).objects.all(),
    )
    assert "collateral_owner" not in form.fields and "guarantee_amount" not in form.fields
    assert form.is_valid(), form.errors
    rows = form.guarantees()
    assert rows[0] == {"type": "guarantor", "name": "李四", "value": None}
    assert rows[1]["description"] == "住房一套" and rows[1]["value"] == 60_000_000


def test_scorecard_sees_recorded_security(owner, customer, product_version):
    from credo.scorecard.features import application_features

    guarantor = make_customer(owner, n=11, name="评分保证人有限公司")
    app = _create(
        _form(customer, product_version, guarantor=guarantor.pk, collateral="房产"), owner
    )
    plain = _create(_form(customer, product_version), owner)
    apps = list(Application.objects.filter(pk__in=[app.pk, plain.pk]).order_by("pk"))
    rows = application_features(apps)
    assert [r["guarantee"] for r in rows] == ["保证+抵押", "信用"]


# --- LTV snapshots --------------------------------------------------------------------------
def _act(user, app, action="approve", **kw):
    task = open_task_of(instance_for(app), user)
    assert task is not None
    return approvals.approval_act(task=task, actor=user, action=action, **kw)


def test_ltv_stored_at_submission_and_approval(
    owner,
    customer,
    product_version,
    complete,
    approvers,
    monkeypatch,
):
    monkeypatch.setenv("CREDO_COLLATERAL_MAX_LTV", "50")
    lead, risk = approvers
    app = _create(
        _form(customer, product_version, collateral="房产", collateral_value="500000"), owner
    )
    app = origination.application_submit(application=complete(app), actor=owner)
    assert app.status == "in_approval"  # over the maximum is a warning, not a refusal
    at_app = LtvSnapshot.objects.get(application_id=app.pk, moment="application")
    assert at_app.amount.fen == 30_000_000 and at_app.collateral_value.fen == 50_000_000
    assert at_app.ltv == Decimal("60.00") and at_app.max_ltv == Decimal("50")
    assert at_app.over_limit is True and at_app.taken_on == TODAY and at_app.taken_by == owner
    # a revaluation before the decision: the application snapshot stays as it was
    c = Collateral.objects.get(links__application_id=app.pk)
    Collateral.objects.filter(pk=c.pk).update(current_value=Money("600000"))
    _act(lead, app, comment="同意")
    _act(risk, app, comment="同意", amount=24_000_000, months=12)
    app.refresh_from_db()
    assert app.approved_amount.fen == 24_000_000
    at_approval = LtvSnapshot.objects.get(application_id=app.pk, moment="approval")
    assert at_approval.amount.fen == 24_000_000 and at_approval.collateral_value.fen == 60_000_000
    assert at_approval.ltv == Decimal("40.00") and at_approval.over_limit is False
    assert at_approval.taken_by == risk
    at_app.refresh_from_db()
    assert at_app.ltv == Decimal("60.00")
    sec = selectors.application_security(app)
    assert sec.at_application == at_app and sec.at_approval == at_approval
    assert (
        AuditEntry.objects.filter(action="collateral.ltv_snapshot", metadata__application_id=app.pk)
        .values_list("metadata__stage", flat=True)
        .count()
        == 2
    )


def test_ltv_snapshot_without_collateral_is_empty(
    owner, customer, product_version, complete, approvers
):
    app = origination.application_submit(
        application=complete(_create(_form(customer, product_version), owner)), actor=owner
    )
    snap = LtvSnapshot.objects.get(application_id=app.pk, moment="application")
    assert snap.ltv is None and snap.collateral_value.fen == 0 and snap.over_limit is False


def test_rejection_stores_no_approval_snapshot(
    owner,
    customer,
    product_version,
    complete,
    approvers,
):
    lead, _risk = approvers
    app = _create(_form(customer, product_version, collateral="房产", collateral_value="1"), owner)
    app = origination.application_submit(application=complete(app), actor=owner)
    _act(lead, app, action="reject", comment="风险高")
    assert list(
        LtvSnapshot.objects.filter(application_id=app.pk).values_list("moment", flat=True)
    ) == ["application"]


# --- release on payoff ----------------------------------------------------------------------
@pytest.fixture
def finance(org):
    from django.contrib.auth.models import Permission

    from tests.factories import RoleFactory, UserFactory

    role = RoleFactory(code="finance_c", name="财务C", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="lending",
            codename__in=["disburse_loan", "post_repayment", "backdate_disbursement"],
        )
    )
    return UserFactory(
        username="finance_c", display_name="周财务", org_unit=org["head"], roles=[role]
    )


def test_payoff_opens_release_request_at_once(
    house, owner, loan, finance, customer, django_capture_on_commit_callbacks, monkeypatch
):
    from credo.lending import services as lending
    from credo.lending.prepay import prepay, prepayment_quote

    c = house(value="500000", loan=loan)
    g = services.guarantee_create(
        actor=owner,
        guarantor=make_customer(owner, n=12, name="放款保证人有限公司"),
        contract_number="BZ-PAYOFF-1",
        kind="joint",
        amount=Money("300000"),
        loan=loan,
    )
    # the loan was booked today (wall clock): disburse and pay off on that day
    from django.utils import timezone

    from credo.core import clock

    day = timezone.localdate(loan.created_at)
    monkeypatch.setattr(clock, "today", lambda: day)
    loan = lending.loan_disburse(loan=loan, actor=finance, value_date=day)
    q = prepayment_quote(loan=loan, on_date=day)
    with django_capture_on_commit_callbacks(execute=True):
        prepay(
            loan=loan,
            amount=Money(q["payoff_amount"]),
            on_date=day,
            mode="reduce_payment",
            actor=finance,
        )
    loan.refresh_from_db()
    assert loan.status == Loan.Status.PAID_OFF
    req = ReleaseRequest.objects.get(collateral=c)
    assert req.status == "pending" and req.loan == loan and req.requested_by == loan.owner
    assert ReleaseRequest.objects.get(guarantee=g).loan == loan
    # the after-close job finds nothing left to do; release still needs the approval flow
    assert jobs.open_release_requests(day) == {"collateral_requests": 0, "guarantee_requests": 0}
    c.refresh_from_db()
    assert c.status == Collateral.Status.REGISTERED


def test_payoff_through_application_link(house, owner, loan, make_app):
    app = make_app()
    Application.objects.filter(pk=app.pk).update(loan=loan)
    c = house(value="500000", application_id=app.pk)
    paid_off(loan)
    jobs.on_loan_paid_off(loan.pk)
    assert ReleaseRequest.objects.get(collateral=c).loan == loan
    jobs.on_loan_paid_off(loan.pk)  # idempotent
    assert ReleaseRequest.objects.count() == 1


def test_collateral_still_securing_an_open_loan_is_kept(
    house, owner, loan, customer, product_version
):
    from credo.lending import services as lending

    other = lending.loan_create(
        customer=customer,
        product_version=product_version,
        principal=Money("100000"),
        annual_rate=Decimal("10"),
        months=12,
        actor=owner,
    )
    c = house(value="500000", loan=loan)
    services.collateral_link(collateral=c, actor=owner, loan=other)
    paid_off(loan)
    jobs.on_loan_paid_off(loan.pk)
    assert jobs.open_release_requests(TODAY)["collateral_requests"] == 0
    assert not ReleaseRequest.objects.exists()


def _paid_loans(n, owner, customer, product_version):
    from credo.lending import services as lending

    made = []
    for _ in range(n):
        loan = lending.loan_create(
            customer=customer,
            product_version=product_version,
            principal=Money("10000"),
            annual_rate=Decimal("10"),
            months=6,
            actor=owner,
        )
        made.append(loan.pk)
    Loan.objects.filter(pk__in=made).update(status=Loan.Status.PAID_OFF)


def _job_queries():
    with CaptureQueriesContext(connection) as ctx:
        result = jobs.open_release_requests(TODAY)
    return result, len(ctx.captured_queries)


def test_job_is_driven_by_links_not_by_the_book(house, owner, loan, customer, product_version):
    c = house(value="500000", loan=loan)
    paid_off(loan)
    # nothing pending among 3 then 30 paid-off loans without collateral: same query count
    _paid_loans(3, owner, customer, product_version)
    result, first = _job_queries()
    assert result == {"collateral_requests": 1, "guarantee_requests": 0}
    _paid_loans(30, owner, customer, product_version)
    result, idle_small = _job_queries()
    assert result == {"collateral_requests": 0, "guarantee_requests": 0}
    _paid_loans(30, owner, customer, product_version)
    result, idle_large = _job_queries()
    assert result == {"collateral_requests": 0, "guarantee_requests": 0}
    assert idle_small == idle_large <= 2  # two set-based candidate queries, nothing per loan
    assert ReleaseRequest.objects.get().collateral == c
    assert first < 20


def test_job_keeps_a_rejected_request_as_the_decision(house, owner, checker, loan):
    c = house(value="500000", loan=loan)
    paid_off(loan)
    assert jobs.open_release_requests(TODAY)["collateral_requests"] == 1
    services.release_reject(request=ReleaseRequest.objects.get(), actor=checker, note="尚有他债")
    assert jobs.open_release_requests(TODAY)["collateral_requests"] == 0
    jobs.on_loan_paid_off(loan.pk)
    assert ReleaseRequest.objects.filter(collateral=c).count() == 1


def test_replay_listener_only_on_transition_to_paid(house, loan):
    c = house(value="500000", loan=loan)
    paid_off(loan)
    jobs.on_loan_replayed(loan.pk, {"status": "paid_off"}, {"status": "paid_off"})
    assert not ReleaseRequest.objects.exists()
    jobs.on_loan_replayed(loan.pk, {"status": "overdue"}, {"status": "paid_off"})
    assert ReleaseRequest.objects.get().collateral == c


# --- shown on the credit report -------------------------------------------------------------
def test_credit_report_shows_application_security(
    client, owner, customer, product_version, manage_perms
):
    from django.urls import reverse

    guarantor = make_customer(owner, n=13, name="报告保证人有限公司")
    third = make_customer(owner, n=14, name="第三方押品人有限公司")
    form = _form(
        customer,
        product_version,
        guarantor=guarantor.pk,
        collateral="第三方厂房",
        collateral_value="800000",
        collateral_owner=third.pk,
    )
    app = _create(form, owner)
    data = selectors.customer_collateral(customer)
    assert [g.application_id for g in data["received"]] == [app.pk]
    assert [c.owner for c in data["pledged"]] == [third]
    client.force_login(owner)
    html = client.get(reverse("credit_report:page", args=[customer.pk])).content.decode()
    assert 'id="customer-security"' in html
    assert "报告保证人有限公司" in html and "第三方厂房" in html and "第三方押品" in html


def test_loan_panel_shows_the_stored_ltv(rf, owner, customer, product_version, loan, manage_perms):
    from credo.collateral.panels import loan_panel

    app = _create(
        _form(customer, product_version, collateral="房产", collateral_value="400000"), owner
    )
    Application.objects.filter(pk=app.pk).update(loan=loan)
    services.ltv_snapshot_take(application=app, stage="application", actor=owner)
    services.ltv_snapshot_take(application=app, stage="approval", actor=owner)
    sec = selectors.loan_security(loan)
    assert sec.at_application.ltv == Decimal("75.00") and sec.at_approval is not None
    request = rf.get("/")
    request.user = owner
    html = loan_panel(request, loan)
    assert 'data-role="ltv-at-application"' in html and "75.00%" in html
    assert "超过最高抵押率 70%" in html  # the default maximum: a warning only


def test_paid_off_hook_runs_after_commit_and_swallows_failures(django_capture_on_commit_callbacks):
    from credo.lending import payoff_hooks

    seen = []

    def broken(loan_id):
        raise RuntimeError("boom")

    payoff_hooks.loan_paid_off.register("test.broken", broken)
    payoff_hooks.loan_paid_off.register("test.seen", seen.append)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            payoff_hooks.notify_paid_off(42)
        assert seen == [] and len(callbacks) == 1  # nothing before the commit
        callbacks[0]()
        assert seen == [42]  # the broken listener was logged, the next one still ran
    finally:
        payoff_hooks.loan_paid_off.unregister("test.broken")
        payoff_hooks.loan_paid_off.unregister("test.seen")


def test_api_creates_records(client, owner, customer, product_version):
    import json

    from tests.lending.test_api import auth

    guarantor = make_customer(owner, n=15, name="接口保证人有限公司")
    body = {
        "product": product_version.product.code,
        "amount": "300000.00",
        "months": 12,
        "annual_rate": "12",
        "purpose": "采购",
        "customer_id": customer.pk,
        "guarantees": [
            {
                "type": "collateral",
                "kind": "pledge",
                "category": "receivable",
                "description": "应收账款质押",
                "value": "1000000",
            },
            {"type": "guarantor", "guarantor_id": guarantor.pk, "amount": "150000"},
            {"type": "guarantor", "name": "未登记的保证人"},
        ],
    }
    resp = client.post(
        "/api/v1/origination/applications",
        json.dumps(body),
        content_type="application/json",
        **auth(owner),
    )
    assert resp.status_code == 201, resp.content
    app = Application.objects.get(pk=resp.json()["id"])
    c = Collateral.objects.get(links__application_id=app.pk)
    assert (c.kind, c.category, c.current_value.fen) == ("pledge", "receivable", 100_000_000)
    g = Guarantee.objects.get(application_id=app.pk)
    assert g.guarantor == guarantor and g.amount.fen == 15_000_000 and g.kind == "joint"
    assert resp.json()["guarantees"] == [
        {"type": "guarantor", "name": "未登记的保证人", "value": None}
    ]
    # the records are in the output too: the 押品 and the 保证合同 just created
    out = resp.json()
    assert [
        (r["number"], r["category"], r["current_value"], r["status"]) for r in out["collateral"]
    ] == [(c.number, "receivable", "1000000.00", c.status)]
    assert [
        (r["contract_number"], r["guarantor_name"], r["amount"], r["kind"])
        for r in out["guarantee_contracts"]
    ] == [(g.contract_number, "接口保证人有限公司", "150000.00", "joint")]
    detail = client.get(f"/api/v1/origination/applications/{app.pk}", **auth(owner)).json()
    assert detail["collateral"] == out["collateral"]
    assert detail["guarantee_contracts"] == out["guarantee_contracts"]


def test_application_guarantees_take_effect_at_disbursement(
    owner, loan, finance, make_app, django_capture_on_commit_callbacks, monkeypatch
):
    """A 保证合同 declared on the application is 待生效 until the loan is disbursed; the
    disbursement makes it 生效中, linked to the loan, its period from the value date — so it
    is watched for expiry and offered for release at payoff."""
    from django.utils import timezone

    from credo.core import clock
    from credo.lending import services as lending

    app = make_app()
    Application.objects.filter(pk=app.pk).update(loan=loan)
    g = services.guarantee_create(
        actor=owner,
        guarantor=make_customer(owner, n=13, name="申请保证人有限公司"),
        contract_number="BZ-DISB-1",
        kind="joint",
        amount=Money("300000"),
        application_id=app.pk,
        signed=False,
    )
    assert g.status == Guarantee.Status.DRAFT and g.loan_id is None
    day = timezone.localdate(loan.created_at)
    monkeypatch.setattr(clock, "today", lambda: day)
    with django_capture_on_commit_callbacks(execute=True):
        lending.loan_disburse(loan=loan, actor=finance, value_date=day)
    g.refresh_from_db()
    assert (g.status, g.loan_id, g.period_start) == (Guarantee.Status.ACTIVE, loan.pk, day)
    assert AuditEntry.objects.filter(action="guarantee.activate", object_id=str(g.pk)).exists()
    assert jobs.on_loan_disbursed(loan.pk) == 0  # idempotent
