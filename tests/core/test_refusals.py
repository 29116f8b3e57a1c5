"""core.audit.refusals: a refusal raised inside a service's transaction is audited after the
rollback, so the record survives while the service's own writes do not."""

from __future__ import annotations

import pytest

from credo.core.audit.models import AuditEntry
from credo.core.audit.refusals import atomic_with_refusals, refuse
from credo.core.todo.models import Todo

pytestmark = pytest.mark.django_db(transaction=True)


class Refused(Exception):
    pass


def _write_then_refuse(owner):
    Todo.objects.create(user=owner, title="would be rolled back", source="test", dedupe_key="x")
    refuse(Refused("no"), action="test.denied", actor=owner, metadata={"permission": "p"})


def test_refusal_inside_the_transaction_is_recorded_after_the_rollback(owner):
    service = atomic_with_refusals(_write_then_refuse)
    with pytest.raises(Refused):
        service(owner)
    assert not Todo.objects.exists()  # the service's write rolled back
    entry = AuditEntry.objects.get(action="test.denied")
    assert entry.metadata == {"permission": "p"}


def test_nested_scopes_record_once_after_the_outer_rollback(owner):
    inner = atomic_with_refusals(_write_then_refuse)
    outer = atomic_with_refusals(lambda: inner(owner))
    with pytest.raises(Refused):
        outer()
    assert AuditEntry.objects.filter(action="test.denied").count() == 1
    assert not Todo.objects.exists()


def test_refusal_outside_a_scope_is_recorded_at_once(owner):
    with pytest.raises(Refused):
        refuse(Refused("no"), action="test.denied", actor=owner)
    assert AuditEntry.objects.filter(action="test.denied").count() == 1
