"""Issue 16 item 5: deleting the newest audit rows (and moving the chain head back) is detected
through keyed checkpoints kept in the database and in an external, append-only anchor file."""

from __future__ import annotations

import json
import os
import stat
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from credo.core.audit.db import install_guard, remove_guard
from credo.core.audit.models import AuditChainHead, AuditEntry
from credo.core.audit.services import audit_record, audit_seal, audit_verify

pytestmark = pytest.mark.django_db


@contextmanager
def tampering():
    remove_guard(connection)
    try:
        yield
    finally:
        install_guard(connection)


@pytest.fixture
def anchor_file(settings, tmp_path):
    path = tmp_path / "anchors" / "audit-anchors.log"
    settings.AUDIT_ANCHOR_FILE = str(path)
    return path


def _chain(n: int) -> list[AuditEntry]:
    """n rows, sealed (the chain positions the attacks below aim at)."""
    rows = [
        audit_record(action="test.changed", object_type="x", object_id=i, changes={"n": i})
        for i in range(n)
    ]
    audit_seal()
    return rows


def _verify_ok(capture) -> None:
    with capture(execute=True):
        out = StringIO()
        call_command("audit", "verify", stdout=out)
    assert "audit chain OK" in out.getvalue()


def _truncate(keep: int) -> None:
    """The attack of the issue: delete the newest rows and move the head back."""
    last = AuditEntry.objects.get(seq=keep)
    with tampering():
        AuditEntry.objects.filter(seq__gt=keep).delete()
    AuditChainHead.objects.filter(pk=1).update(seq=last.seq, hash=last.hash)


def test_truncated_tail_with_moved_head_fails_verify_naming_the_anchor(
    anchor_file, django_capture_on_commit_callbacks
):
    _chain(5)
    _verify_ok(django_capture_on_commit_callbacks)
    _truncate(keep=3)
    with pytest.raises(CommandError) as err:
        call_command("audit", "verify", stdout=StringIO(), stderr=StringIO())
    message = str(err.value)
    assert "truncated" in message and "seq=3" in message and "anchored seq=5" in message
    assert "anchor" in message and ("database checkpoint" in message or str(anchor_file) in message)


def test_truncation_detected_from_the_file_when_checkpoint_rows_are_deleted_too(
    anchor_file, django_capture_on_commit_callbacks
):
    from credo.core.audit.models import AuditCheckpoint

    _chain(4)
    _verify_ok(django_capture_on_commit_callbacks)
    _truncate(keep=2)
    AuditCheckpoint.objects.all().delete()  # the attacker has full database access
    result = audit_verify(checkpoint=False)
    assert not result.ok and result.bad_seq == 3
    assert result.anchor == f"anchor file {anchor_file} line 1"
    with pytest.raises(CommandError, match=r"anchor file .*audit-anchors\.log line 1"):
        call_command("audit", "verify", stdout=StringIO(), stderr=StringIO())


def test_truncated_then_regrown_chain_differs_from_the_anchor(
    anchor_file, django_capture_on_commit_callbacks
):
    _chain(4)
    _verify_ok(django_capture_on_commit_callbacks)
    _truncate(keep=2)
    _chain(3)  # the application goes on writing: seq 3, 4, 5 are new rows
    result = audit_verify(checkpoint=False)
    assert not result.ok and result.bad_seq == 4 and "differs from anchor" in result.reason


def test_checkpoint_with_wrong_mac_is_reported(anchor_file, django_capture_on_commit_callbacks):
    from credo.core.audit.models import AuditCheckpoint

    _chain(3)
    _verify_ok(django_capture_on_commit_callbacks)
    cp = AuditCheckpoint.objects.get()
    AuditCheckpoint.objects.filter(pk=cp.pk).update(mac="0" * 64)
    with pytest.raises(CommandError, match=rf"MAC wrong: database checkpoint id={cp.pk}"):
        call_command("audit", "verify", stdout=StringIO(), stderr=StringIO())


def test_forged_file_line_and_other_anchor_key_are_reported(
    anchor_file, settings, django_capture_on_commit_callbacks
):
    _chain(3)
    _verify_ok(django_capture_on_commit_callbacks)
    line = json.loads(anchor_file.read_text().splitlines()[0])
    # An attacker who can write the file but has no anchor key cannot make a valid anchor.
    forged = {**line, "seq": 2, "count": 2, "hash": AuditEntry.objects.get(seq=2).hash}
    with anchor_file.open("a") as fh:
        fh.write(json.dumps(forged) + "\n")
    result = audit_verify(checkpoint=False)
    assert not result.ok and "MAC wrong" in result.reason
    assert result.anchor == f"anchor file {anchor_file} line 2"
    settings.AUDIT_ANCHOR_KEY = "another-anchor-key-0123456789abcdef"
    result = audit_verify(checkpoint=False)
    assert not result.ok and all("MAC wrong" in p for p in result.problems)


def test_missing_anchor_file_is_reported(anchor_file, django_capture_on_commit_callbacks):
    _chain(2)
    _verify_ok(django_capture_on_commit_callbacks)
    anchor_file.unlink()
    result = audit_verify(checkpoint=False)
    assert not result.ok and "anchor file missing" in result.reason


def test_anchor_file_is_private_and_append_only(anchor_file, django_capture_on_commit_callbacks):
    _chain(2)
    _verify_ok(django_capture_on_commit_callbacks)
    _chain(1)
    _verify_ok(django_capture_on_commit_callbacks)
    assert stat.S_IMODE(os.stat(anchor_file).st_mode) == 0o600
    lines = [json.loads(x) for x in anchor_file.read_text().splitlines()]
    assert [(x["seq"], x["count"], x["source"]) for x in lines] == [
        (2, 2, "verify"),
        (3, 3, "verify"),
    ]
    assert lines[1]["hash"] == AuditEntry.objects.get(seq=3).hash and len(lines[1]["mac"]) == 64


def test_scheduled_checkpoint_is_registered_and_anchors_the_tail(
    anchor_file, django_capture_on_commit_callbacks
):
    from credo.core.audit.models import AuditCheckpoint
    from credo.core.audit.tasks import checkpoint
    from credo.core.scheduling.registry import registered_schedules

    [spec] = [s for s in registered_schedules() if s.name == "audit.checkpoint"]
    assert spec.task_path == "credo.core.audit.tasks.checkpoint"
    _chain(3)
    with django_capture_on_commit_callbacks(execute=True):
        checkpoint.call()
    cp = AuditCheckpoint.objects.get()
    assert (cp.seq, cp.count, cp.source) == (3, 3, "schedule")
    assert json.loads(anchor_file.read_text())["seq"] == 3
    _truncate(keep=1)
    assert not audit_verify(checkpoint=False).ok


def test_anchor_key_comes_from_its_own_variable_or_the_secret_key(settings):
    from credo.core.audit.anchor import anchor_key

    settings.AUDIT_ANCHOR_KEY = ""
    derived = anchor_key()
    assert len(derived) == 32 and derived != settings.SECRET_KEY.encode()[:32]
    settings.AUDIT_ANCHOR_KEY = "dedicated-anchor-key-0123456789abcdef"
    assert anchor_key() != derived


def test_intact_chain_and_empty_log_still_verify(anchor_file, django_capture_on_commit_callbacks):
    assert audit_verify().ok  # empty: nothing to anchor
    assert not anchor_file.exists()
    _chain(3)
    _verify_ok(django_capture_on_commit_callbacks)
    _chain(2)  # growing is fine
    _verify_ok(django_capture_on_commit_callbacks)
