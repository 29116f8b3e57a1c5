from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from credo.accounts.models import DataScope
from credo.accounts.scope import can_access, scope_queryset
from tests.factories import UserFactory
from tests.testapp.models import ScopedRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(org, owner, colleague, outsider):
    def rec(name, user):
        return ScopedRecord.objects.create(
            name=name, owner=user, team=user.team, branch=user.branch
        )

    b_user = UserFactory(username="teamb", org_unit=org["team_b"])
    return {
        "mine": rec("mine", owner),
        "colleague": rec("colleague", colleague),
        "team_b": rec("team_b", b_user),
        "outside": rec("outside", outsider),
    }


def names(qs):
    return set(qs.values_list("name", flat=True))


def test_own_scope_sees_only_own_records(records, owner):
    assert names(scope_queryset(ScopedRecord.objects.all(), owner)) == {"mine"}
    assert can_access(records["mine"], owner)
    assert not can_access(records["colleague"], owner)


def test_team_scope(records, org, scope_role):
    lead = UserFactory(username="lead", org_unit=org["team_a"], roles=[scope_role(DataScope.TEAM)])
    assert names(scope_queryset(ScopedRecord.objects.all(), lead)) == {"mine", "colleague"}
    assert not can_access(records["team_b"], lead)


def test_team_scope_without_team_falls_back_to_own(records, org, scope_role):
    lead = UserFactory(username="lead", org_unit=org["b1"], roles=[scope_role(DataScope.TEAM)])
    ScopedRecord.objects.create(name="leads", owner=lead, branch=org["b1"])
    assert names(scope_queryset(ScopedRecord.objects.all(), lead)) == {"leads"}


def test_branch_scope(records, org, scope_role):
    analyst = UserFactory(
        username="analyst", org_unit=org["team_b"], roles=[scope_role(DataScope.BRANCH)]
    )
    assert names(scope_queryset(ScopedRecord.objects.all(), analyst)) == {
        "mine",
        "colleague",
        "team_b",
    }
    assert not can_access(records["outside"], analyst)


def test_all_scope_and_superuser(records, org, all_role):
    boss = UserFactory(username="boss", org_unit=org["head"], roles=[all_role])
    root = UserFactory(username="root", is_superuser=True)
    assert names(scope_queryset(ScopedRecord.objects.all(), boss)) == set(
        r.name for r in records.values()
    )
    assert scope_queryset(ScopedRecord.objects.all(), root).count() == 4
    assert can_access(records["outside"], boss)


def test_outsider_sees_nothing_of_team_a(records, outsider):
    assert names(scope_queryset(ScopedRecord.objects.all(), outsider)) == {"outside"}
    assert not can_access(records["mine"], outsider)
    assert not can_access(records["colleague"], outsider)


def test_widest_role_wins(records, owner, scope_role):
    owner.roles.add(scope_role(DataScope.TEAM))
    assert names(scope_queryset(ScopedRecord.objects.all(), owner)) == {"mine", "colleague"}


def test_inactive_and_anonymous_see_nothing(records, owner, all_role):
    owner.roles.add(all_role)
    owner.is_active = False
    owner.save()
    assert scope_queryset(ScopedRecord.objects.all(), owner).count() == 0
    assert not can_access(records["mine"], owner)
    assert scope_queryset(ScopedRecord.objects.all(), AnonymousUser()).count() == 0
    assert scope_queryset(ScopedRecord.objects.all(), None).count() == 0
