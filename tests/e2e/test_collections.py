"""Browser: EOD makes a loan 5 days overdue → a call case/task for the junior collector → they
log a call (接通-承诺还款) and a promise to pay → the case shows 已承诺."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from credo.collections.models import CollectionCase, ContactAttempt, PromiseToPay
from credo.core.todo.models import Todo
from credo.lending import eod
from credo.lending import services as lending_services
from tests.e2e.axe import assert_accessible
from tests.factories import RoleFactory, UserFactory
from tests.lending.conftest import (  # noqa: F401  (fixtures)
    VALUE_DATE,
    borrower,
    finance,
    make_loan,
    product_version,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_junior_collector_logs_call_and_promise(page, login, org, make_loan, finance, settings):  # noqa: F811
    settings.CREDO_COLLECTION_QUIET_HOURS = "00:00-00:00"  # the wall clock must not matter
    role = RoleFactory(code="collector_junior", name="初级催收", data_scope="own")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="collections",
            codename__in=["view_collectioncase", "contact_case"],
        )
    )
    junior = UserFactory(
        username="junior_e2e", display_name="赵催收", org_unit=org["team_b"], roles=[role]
    )
    loan = lending_services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    eod.run_eod(dt.date(2026, 2, 20))  # first installment due 2026-02-15 → 5 days overdue
    case = CollectionCase.objects.get(loan=loan)
    assert (case.dpd, case.tier, case.assignee) == (5, "call_junior", junior)
    assert Todo.objects.filter(user=junior, dedupe_key=f"collections:case:{case.pk}").exists()

    login(junior)
    page.goto(f"{page.base_url}/collections/")
    page.wait_for_selector("#case-table")
    assert loan.number in page.inner_text("#case-table")
    assert_accessible(page, "collections workbench")
    page.click(f"a[href='/collections/cases/{case.pk}/']")
    page.wait_for_selector("#contact-form")
    page.select_option("#contact-form select[name=target]", "borrower")
    page.select_option("#contact-form select[name=channel]", "call")
    page.select_option("#contact-form select[name=outcome]", "promise")
    page.fill("#contact-form textarea[name=notes]", "客户承诺下周还款")
    page.click("#contact-form button[type=submit]")
    page.wait_for_selector("#attempt-table")
    assert "接通-承诺还款" in page.inner_text("#attempt-table")
    promised = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    page.fill("#promise-form input[name=promised_date]", promised)
    page.fill("#promise-form input[name=amount]", "5000")
    page.click("#promise-form button[type=submit]")
    page.wait_for_selector("#promise-table")
    assert page.inner_text("#case-status") == "已承诺"
    assert ContactAttempt.objects.filter(case=case, outcome="promise").count() == 1
    assert PromiseToPay.objects.get(case=case).amount.fen == 500000
    assert page.console_errors == []
