"""Issue 19 #5: the busy pages run a fixed number of SQL queries whatever the number of rows
(no N+1), and with a shared cache the per-request user data (permissions, roles, 2FA devices,
the session) costs no query at all.

Each test renders a page for a small world, grows the world, and requires the same query count.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from credo.accounts import usercache
from credo.accounts.models import Role
from credo.customers.models import Contact, Customer
from credo.lending import services as lending_services
from tests.approvals.conftest import (  # noqa: F401 (fixtures)
    approvers,
    context,
    start,
    subject,
)
from tests.reports.conftest import (  # noqa: F401 (fixtures)
    borrower,
    finance,
    make_loan,
    portfolio,
    product_version,
    viewers,
)

pytestmark = pytest.mark.django_db


def _queries(client: Client, url: str) -> int:
    client.get(url)  # warm: per-process caches, the session's first write
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _customers(owner, n: int, first: int = 0) -> list[Customer]:
    return Customer.objects.bulk_create(
        [
            Customer(
                kind="individual",
                name=f"客户{first + i}",
                owner=owner,
                team=owner.team,
                branch=owner.branch,
                region_code="140105",
            )
            for i in range(n)
        ]
    )


def _disbursed(make_loan, finance, n: int) -> list:  # noqa: F811
    return [
        lending_services.loan_disburse(
            loan=make_loan(principal="100000"), actor=finance, value_date=dt.date(2026, 1, 15)
        )
        for _ in range(n)
    ]


def test_customer_list_queries_do_not_grow_with_rows(owner, viewers):  # noqa: F811
    _customers(owner, 3)
    c = _client(owner)
    url = reverse("customers:list")
    few = _queries(c, url)
    _customers(owner, 40, first=3)
    assert _queries(c, url) == few
    assert _queries(c, url + "?page=2") == few


def test_customer_360_queries_do_not_grow_with_rows(owner, viewers, make_loan, finance):  # noqa: F811
    [loan] = _disbursed(make_loan, finance, 1)
    customer = Customer.objects.get(pk=loan.customer_id)
    c = _client(owner)
    url = reverse("customers:detail", args=[customer.pk])
    few = _queries(c, url)
    _disbursed(make_loan, finance, 4)
    Contact.objects.bulk_create(
        [Contact(customer=customer, name=f"联系人{i}", phone="13800000000") for i in range(5)]
    )
    assert _queries(c, url) == few


def test_loan_page_queries_do_not_grow_with_rows(owner, viewers, make_loan, finance):  # noqa: F811
    from credo.core.money import Money

    [loan] = _disbursed(make_loan, finance, 1)
    c = _client(owner)
    url = reverse("lending:loan_detail", args=[loan.pk])
    few = _queries(c, url)
    for day in (dt.date(2026, 2, 15), dt.date(2026, 3, 15), dt.date(2026, 4, 15)):
        lending_services.repayment_post(
            loan=loan, amount=Money("9000"), received_on=day, actor=finance, reference="t"
        )
    assert _queries(c, url) == few


def test_approval_task_page_queries_do_not_grow_with_the_trail(start, approvers):  # noqa: F811
    from credo.approvals import services

    first = start()
    lead = approvers["lead"]
    c = _client(lead)
    task = first.tasks.get(assignee=lead)
    few = _queries(c, reverse("approvals:task_detail", args=[task.pk]))
    # a second instance one step further on: a longer trail, an earlier decision
    second = start(subj=approvers["gm"])
    services.approval_act(
        task=second.tasks.get(assignee=lead), actor=lead, action="approve", comment="同意"
    )
    risk = approvers["risk"]
    task2 = second.tasks.get(assignee=risk)
    many = _queries(_client(risk), reverse("approvals:task_detail", args=[task2.pk]))
    assert many <= few + 1  # the decided step's decider: one more select, not one per row


def test_dashboard_and_home_queries_do_not_grow_with_loans(
    owner,
    portfolio,  # noqa: F811
    make_loan,  # noqa: F811
    finance,  # noqa: F811
):
    c = _client(owner)
    dashboard = _queries(c, reverse("reports:dashboard"))
    home = _queries(c, reverse("core:home"))
    _disbursed(make_loan, finance, 5)
    _customers(owner, 10)
    assert _queries(c, reverse("reports:dashboard")) == dashboard
    assert _queries(c, reverse("core:home")) == home


#: issue 21 #1: the whole 工作台 of a user holding every business role (each section's panels),
#: measured with a warm per-process cache (28 queries on 2026-12-04). Every panel runs a fixed
#: handful of grouped queries.
HOME_ALL_ROLES_MAX_QUERIES = 32


def test_role_workbench_queries_do_not_grow_with_rows(
    org,
    owner,
    portfolio,  # noqa: F811
    make_loan,  # noqa: F811
    finance,  # noqa: F811
):
    from tests.core.test_workbench_roles import lead, role
    from tests.factories import UserFactory

    boss = UserFactory(
        username="boss",
        display_name="全角色",
        org_unit=org["team_a"],
        roles=[
            role(code)
            for code in (
                "account_manager",
                "team_lead",
                "risk_manager",
                "finance",
                "collector_junior",
                "management",
            )
        ],
    )
    c = _client(boss)
    url = reverse("core:home")
    few = _queries(c, url)
    html = c.get(url).content.decode()
    for key in ("account_manager", "team_lead", "risk", "finance", "collector", "management"):
        assert f'data-section="{key}"' in html, key
    today = dt.date.today()
    for i in range(6):
        lead(owner, f"线索{i}", follow_up=today - dt.timedelta(days=i))
        lead(boss, f"我的线索{i}", follow_up=today)
    _disbursed(make_loan, finance, 3)
    _customers(owner, 5)
    assert _queries(c, url) == few
    assert few <= HOME_ALL_ROLES_MAX_QUERIES, few


# --- the per-request user data ----------------------------------------------------------------
@pytest.fixture
def shared_cache(settings):
    """The cache behaves as shared (Redis in production): cross-request caching on."""
    settings.CREDO_CACHE_SHARED = True
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    return settings


def test_shell_costs_one_query_with_a_shared_cache(owner, viewers, shared_cache):  # noqa: F811
    c = _client(owner)
    url = reverse("core:search")
    with CaptureQueriesContext(connection) as first:
        c.get(url)
    with CaptureQueriesContext(connection) as again:
        response = c.get(url)
    assert response.status_code == 200
    sql = [q["sql"] for q in again.captured_queries]
    # the user row only; no session, permission, role, device or unread-badge query (the
    # badge's count is cached per user, see notify.selectors.unread_count)
    assert len(sql) == 1, sql
    assert "notify_message" not in sql[0]
    assert not any("django_session" in s or "auth_permission" in s for s in sql)
    assert not any("accounts_role" in s or "otp_" in s for s in sql)
    assert len(first.captured_queries) > len(sql)


def test_cached_permissions_follow_role_changes(owner, manager_role, shared_cache):
    c = _client(owner)
    url = reverse("customers:list")
    assert c.get(url).status_code == 403
    perm = Permission.objects.get(content_type__app_label="customers", codename="view_customer")
    manager_role.permissions.add(perm)  # another process's change: the version token moves
    assert c.get(url).status_code == 200
    manager_role.permissions.remove(perm)
    assert c.get(url).status_code == 403
    other = Role.objects.create(code="viewer_t", name="查看", data_scope="all")
    other.permissions.add(perm)
    owner.roles.add(other)
    assert c.get(url).status_code == 200
    assert c.get(url).status_code == 200  # served from the cache, still right
    owner.roles.remove(other)
    assert c.get(url).status_code == 403


def test_cached_roles_and_scope_follow_changes(owner, manager_role, shared_cache):
    from credo.accounts.models import User

    assert usercache.authz(User.objects.get(pk=owner.pk))["roles"][0][0] == manager_role.code
    manager_role.data_scope = "all"
    manager_role.save()
    assert User.objects.get(pk=owner.pk).data_scope == "all"


def test_a_new_2fa_device_is_seen_by_an_open_session(owner, viewers, shared_cache):  # noqa: F811
    from django_otp.plugins.otp_totp.models import TOTPDevice

    c = _client(owner)
    url = reverse("customers:list")
    assert c.get(url).status_code == 200
    TOTPDevice.objects.create(user=owner, name="phone", confirmed=True)
    response = c.get(url)
    assert response.status_code == 302 and "/accounts/2fa/" in response["Location"]


def test_session_idle_mark_is_written_at_most_once_a_minute(owner, viewers):  # noqa: F811
    from credo.accounts.middleware import IDLE_KEY

    c = _client(owner)
    url = reverse("customers:list")
    c.get(url)
    with CaptureQueriesContext(connection) as ctx:
        c.get(url)
    assert not any(q["sql"].startswith("UPDATE") for q in ctx.captured_queries)
    session = c.session
    session[IDLE_KEY] = int(session[IDLE_KEY]) - 61
    session.save()
    with CaptureQueriesContext(connection) as ctx:
        c.get(url)
    assert any(
        q["sql"].startswith("UPDATE") and "django_session" in q["sql"] for q in ctx.captured_queries
    )


# --- cached figures (dashboard, home) ---------------------------------------------------------
def test_cached_figures_are_recomputed_after_a_repayment(owner, portfolio, finance):  # noqa: F811
    from credo.core import figcache
    from credo.core.money import Money

    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert figcache.cached(owner, "t", compute) == 1
    assert figcache.cached(owner, "t", compute) == 1  # unchanged data: served from the cache
    lending_services.repayment_post(
        loan=portfolio[0],
        amount=Money("1000"),
        received_on=dt.date(2026, 2, 15),
        actor=finance,
        reference="t",
    )
    assert figcache.cached(owner, "t", compute) == 2  # a new journal entry: a new version
    assert figcache.cached(owner, "t", compute) == 2
    assert figcache.cached(finance, "t", compute) == 3  # per user (scope, permissions)


def test_home_figures_follow_a_new_loan(owner, portfolio, make_loan, finance):  # noqa: F811
    c = _client(owner)
    html = c.get(reverse("core:home")).content.decode()
    assert "在贷 4 笔" in html
    _disbursed(make_loan, finance, 1)
    assert "在贷 5 笔" in c.get(reverse("core:home")).content.decode()
