"""The decision-version transition table (issue 17): draft → published → retired, listed
literally; every other pair refused; a refused publish changes nothing."""

from __future__ import annotations

import pytest

from credo.core import fsm
from credo.core.audit.models import AuditEntry
from credo.rules import services
from credo.rules.errors import InvalidState
from credo.rules.models import DecisionVersion
from credo.rules.states import DECISION_VERSION_MACHINE
from tests.fsm_tables import assert_table

ALLOWED = {("draft", "published"), ("published", "retired")}


def test_table_is_exactly_the_listed_transitions():
    assert set(DECISION_VERSION_MACHINE.pairs()) == ALLOWED
    assert DECISION_VERSION_MACHINE.initial == frozenset({"draft", "published"})
    assert fsm.machine_for(DecisionVersion) is DECISION_VERSION_MACHINE


def test_every_pair_allowed_or_refused():
    assert_table(DECISION_VERSION_MACHINE, DecisionVersion.Status.values, ALLOWED)


@pytest.mark.django_db
def test_publishing_a_published_version_refused_nothing_changed(spec, owner):
    version = services.published_version(spec.key)
    audits = AuditEntry.objects.count()
    with pytest.raises(InvalidState, match="只有草稿可以发布。"):
        services.version_publish(version=version, actor=owner)
    version.refresh_from_db()
    assert version.status == DecisionVersion.Status.PUBLISHED
    assert version.model.versions.filter(status="retired").count() == 0
    assert AuditEntry.objects.count() == audits
