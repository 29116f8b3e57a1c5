"""Shared fixtures: an organisation and the three standard users.

* ``owner`` — account manager in team A (branch 1); owns the records under test.
* ``colleague`` — another account manager in team A: same team, not the owner.
* ``outsider`` — account manager in team C of branch 2: must never see team A's records.
"""

from __future__ import annotations

import pytest
from hypothesis import settings

from credo.accounts.models import DataScope, OrgUnit
from tests.factories import OrgUnitFactory, RoleFactory, UserFactory

# Property tests check results, never timings (performance is measured in bench/): Hypothesis's
# default 200 ms per-example deadline failed a pure-Python test on a busy 2-core machine.
settings.register_profile("credo", deadline=None)
settings.load_profile("credo")


@pytest.fixture
def org(db):
    head = OrgUnitFactory(code="hq", name="总部", kind=OrgUnit.Kind.HEAD_OFFICE)
    b1 = OrgUnitFactory(code="ty", name="太原分公司", kind=OrgUnit.Kind.BRANCH, parent=head)
    b2 = OrgUnitFactory(code="dt", name="大同分公司", kind=OrgUnit.Kind.BRANCH, parent=head)
    team_a = OrgUnitFactory(code="ty-a", name="太原一组", kind=OrgUnit.Kind.TEAM, parent=b1)
    team_b = OrgUnitFactory(code="ty-b", name="太原二组", kind=OrgUnit.Kind.TEAM, parent=b1)
    team_c = OrgUnitFactory(code="dt-a", name="大同一组", kind=OrgUnit.Kind.TEAM, parent=b2)
    return {"head": head, "b1": b1, "b2": b2, "team_a": team_a, "team_b": team_b, "team_c": team_c}


@pytest.fixture
def manager_role(db):
    return RoleFactory(code="test_account_manager", name="测试客户经理", data_scope=DataScope.OWN)


@pytest.fixture
def owner(org, manager_role):
    return UserFactory(
        username="owner", display_name="张经理", org_unit=org["team_a"], roles=[manager_role]
    )


@pytest.fixture
def colleague(org, manager_role):
    return UserFactory(
        username="colleague", display_name="李经理", org_unit=org["team_a"], roles=[manager_role]
    )


@pytest.fixture
def outsider(org, manager_role):
    return UserFactory(
        username="outsider", display_name="王经理", org_unit=org["team_c"], roles=[manager_role]
    )


@pytest.fixture(scope="session", autouse=True)
def _audit_guard_lifted_during_flush():
    """Transactional tests (the browser tests) end with ``flush``, which the append-only audit
    trigger rightly rejects once a test wrote audit rows. Lift the guard for the flush only."""
    from django.core.management.commands import flush
    from django.db import connections

    from credo.core.audit.db import install_guard, remove_guard

    original = flush.Command.handle

    def handle(self, **options):
        connection = connections[options.get("database") or "default"]
        remove_guard(connection)
        try:
            return original(self, **options)
        finally:
            install_guard(connection)

    flush.Command.handle = handle
    yield
    flush.Command.handle = original


@pytest.fixture
def individual_data_factory():
    """``make(n)`` → valid input for a new individual customer with a unique ID number."""
    import datetime as dt

    from credo.core.validators import id_check_char

    def make(n: int) -> dict:
        body = f"140105{dt.date(1980, 1, 1) + dt.timedelta(days=n):%Y%m%d}{n % 1000:03d}"
        return {
            "kind": "individual",
            "name": f"客户{n}",
            "id_number": body + id_check_char(body),
            "phone": f"1390000{n:04d}",
        }

    return make


_WORLD = None


def _make_world():
    """Objects set up by pytest fixtures for a hypothesis state machine (see tests/lending)."""
    assert _WORLD is not None, "state machine run outside its fixture"
    # Each example starts from a fresh book: remove the previous example's loan (and what the
    # close-of-business listeners built on it: collection cases protect their loan).
    from django.apps import apps

    from credo.lending.models import (
        EodChunk,
        EodRun,
        Installment,
        JournalEntry,
        JournalLine,
        Loan,
        Posting,
    )

    for label in ("collections", "creditreport", "fieldwork"):
        if apps.is_installed(f"credo.{label}"):
            for model in apps.get_app_config(label).get_models():
                model.objects.all().delete()
    # month-end work of the previous example: provision runs (their postings protect their
    # entries), closed periods (they would refuse this example's postings), accrual batches
    for name in (
        "ProvisionPosting",
        "ProvisionLine",
        "ProvisionRun",
        "AccrualBatch",
        "PeriodBalance",
        "AccountingPeriod",
        "LedgerDaySeal",
        "LedgerDayTotal",
    ):
        apps.get_model("lending", name).objects.all().delete()
    EodChunk.objects.all().delete()
    EodRun.objects.all().delete()
    Posting.objects.all().delete()
    JournalLine.objects.all().delete()
    JournalEntry.objects.filter(reverses__isnull=False).delete()
    JournalEntry.objects.all().delete()
    Installment.objects.all().delete()
    Loan.objects.all().delete()
    return _WORLD


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits and other cached counters never leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
