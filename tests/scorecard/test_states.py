"""The scorecard version transition table (issue 17): every allowed transition listed
literally, every other pair refused, and a refused transition in a service changes nothing."""

from __future__ import annotations

import pytest

from credo.core import fsm
from credo.core.audit.models import AuditEntry
from credo.scorecard import services
from credo.scorecard.errors import InvalidState
from credo.scorecard.models import Scorecard
from credo.scorecard.states import SCORECARD_MACHINE
from tests.fsm_tables import assert_table

ALLOWED = {
    ("training", "draft"),
    ("training", "failed"),
    ("failed", "retired"),
    ("draft", "published"),
    ("draft", "retired"),
    ("published", "retired"),
}


def test_table_is_exactly_the_listed_transitions():
    assert set(SCORECARD_MACHINE.pairs()) == ALLOWED
    assert SCORECARD_MACHINE.initial == frozenset({"training"})
    assert fsm.machine_for(Scorecard) is SCORECARD_MACHINE
    assert SCORECARD_MACHINE.states == frozenset(Scorecard.Status.values)


def test_every_pair_allowed_or_refused():
    assert_table(SCORECARD_MACHINE, Scorecard.Status.values, ALLOWED)


@pytest.mark.django_db
def test_retiring_a_retired_version_is_refused_and_changes_nothing(risk_manager):
    card = Scorecard.objects.create(
        number=1, name="v1", source="demo", status=Scorecard.Status.RETIRED, version=3
    )
    audits = AuditEntry.objects.count()
    with pytest.raises(InvalidState, match="该评分卡当前状态不能停用。"):
        services.scorecard_retire(scorecard=card, actor=risk_manager)
    card.refresh_from_db()
    assert (card.status, card.version, card.retired_at) == ("retired", 3, None)
    assert AuditEntry.objects.count() == audits


@pytest.mark.django_db
def test_publishing_a_training_version_is_refused(risk_manager):
    card = Scorecard.objects.create(number=2, name="v2", source="demo")
    with pytest.raises(InvalidState, match="只有草稿状态的评分卡可以发布"):
        services.scorecard_publish(scorecard=card, actor=risk_manager)
    card.refresh_from_db()
    assert card.status == "training" and card.published_at is None
