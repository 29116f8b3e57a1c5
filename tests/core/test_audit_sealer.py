"""Issue 19 item 3: audit rows are appended without a shared row and chained by a sealer."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction

from credo.core.audit.db import install_guard, remove_guard
from credo.core.audit.models import AuditChainHead, AuditEntry
from credo.core.audit.services import (
    GENESIS,
    audit_lag,
    audit_record,
    audit_seal,
    audit_verify,
    content_hash,
    legacy_hash,
)

pg_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent transactions: PostgreSQL only"
)


@contextmanager
def tampering():
    """An attacker with DDL rights: lift the append-only trigger, then restore it."""
    remove_guard(connection)
    try:
        yield
    finally:
        install_guard(connection)


def _write(n: int, start: int = 0) -> list[AuditEntry]:
    return [
        audit_record(action="test.changed", object_type="x", object_id=i, changes={"n": i})
        for i in range(start, start + n)
    ]


@pytest.mark.django_db
def test_a_write_touches_no_shared_row_and_stays_unsealed_until_the_sealer_runs():
    rows = _write(3)
    assert not AuditChainHead.objects.exists()  # writers never create, lock or move the head
    assert all(r.seq is None and r.hash is None and r.prev_hash is None for r in rows)
    assert all(r.content_hash == content_hash(r) for r in rows)
    assert audit_lag().unsealed == 3

    result = audit_seal()
    assert (result.sealed, result.altered) == (3, ())
    sealed = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in sealed] == [1, 2, 3]
    assert [e.pk for e in sealed] == [r.pk for r in rows]  # id order within a batch
    assert sealed[0].prev_hash == GENESIS
    assert [e.prev_hash for e in sealed[1:]] == [e.hash for e in sealed[:-1]]
    head = AuditChainHead.objects.get()
    assert (head.seq, head.hash) == (3, sealed[-1].hash)
    assert audit_lag().unsealed == 0 and audit_lag().oldest_seconds is None
    assert audit_seal().sealed == 0  # nothing left


@pytest.mark.django_db
def test_batches_continue_the_chain():
    _write(5)
    assert audit_seal(batch=2, max_batches=1).sealed == 2
    assert audit_lag().unsealed == 3
    result = audit_seal(batch=2)
    assert (result.sealed, result.batches) == (3, 2)
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3, 4, 5]
    assert audit_verify(checkpoint=False).ok


@pytest.mark.django_db
def test_verify_seals_first_and_reports_rows_sealed_and_unsealed():
    _write(4)
    result = audit_verify(checkpoint=False)
    assert result.ok and result.checked == 4 and result.sealed_now == 4
    assert result.lag.unsealed == 0
    _write(2)
    result = audit_verify(checkpoint=False, seal=False)
    assert result.ok and result.checked == 4  # the two new rows are not chained yet
    assert result.lag.unsealed == 2 and result.lag.oldest_seconds is not None
    assert str(result.lag).startswith("2 条未封存，最早 ")


@pytest.mark.django_db
def test_verify_command_prints_the_lag():
    _write(3)
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert "3 rows verified" in out.getvalue()
    assert "0 条未封存（本次封存 3 条）" in out.getvalue()
    out = StringIO()
    call_command("audit", "seal", stdout=out)
    assert "sealed 0 row(s)" in out.getvalue()


@pytest.mark.django_db
def test_an_edit_before_sealing_is_detected():
    rows = _write(3)
    with tampering():
        AuditEntry.objects.filter(pk=rows[1].pk).update(actor_name="mallory")
    result = audit_seal()
    assert result.sealed == 3 and result.altered == (rows[1].pk,)
    verify = audit_verify(checkpoint=False)
    assert not verify.ok and verify.bad_seq == 2 and "封存前被改动" in verify.reason
    with pytest.raises(CommandError, match="seq=2"):
        call_command("audit", "verify", stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db
def test_an_edit_before_sealing_that_also_drops_the_content_hash_is_detected():
    rows = _write(2)
    with tampering():
        AuditEntry.objects.filter(pk=rows[0].pk).update(action="forged", content_hash="")
    assert audit_seal().altered == (rows[0].pk,)
    result = audit_verify(checkpoint=False)
    assert not result.ok and result.bad_seq == 1 and "封存前被改动" in result.reason


@pytest.mark.django_db
def test_an_edit_after_sealing_is_detected():
    rows = _write(3)
    audit_seal()
    with tampering():
        AuditEntry.objects.filter(pk=rows[2].pk).update(changes={"n": 99})
    result = audit_verify(checkpoint=False)
    assert not result.ok and result.bad_seq == 3 and "被篡改" in result.reason


@pytest.mark.django_db
def test_the_trigger_allows_only_the_sealing_update():
    rows = _write(2)
    unsealed = AuditEntry.objects.filter(pk=rows[0].pk)
    with pytest.raises(DatabaseError), transaction.atomic():
        unsealed.update(action="forged")  # content of an unsealed row: refused
    with pytest.raises(DatabaseError), transaction.atomic():
        unsealed.update(seq=1, prev_hash=GENESIS, hash="f" * 64, actor_name="x")  # seal + edit
    with pytest.raises(DatabaseError), transaction.atomic():
        unsealed.delete()
    audit_seal()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(seq=1).update(seq=7, hash="e" * 64)  # re-sealing: refused
    assert audit_verify(checkpoint=False).ok


@pytest.mark.django_db
def test_rows_sealed_at_insert_before_the_sealer_still_verify_and_the_chain_goes_on():
    """Existing data: every row was sealed at insert with the old formula (no content hash)."""
    from django.utils import timezone

    prev = GENESIS
    with tampering():  # write history the way the old audit_record did
        for seq in (1, 2):
            entry = AuditEntry(
                seq=seq,
                created_at=timezone.now(),
                action="old.change",
                object_type="x",
                object_id=str(seq),
                changes={"n": seq},
                prev_hash=prev,
            )
            entry.hash = legacy_hash(entry)
            entry.save(force_insert=True)
            prev = entry.hash
    AuditChainHead.objects.create(pk=1, seq=2, hash=prev)
    _write(2)
    result = audit_verify(checkpoint=False)
    assert result.ok and result.checked == 4 and result.sealed_now == 2
    assert AuditEntry.objects.get(seq=3).prev_hash == prev
    with tampering():
        AuditEntry.objects.filter(seq=1).update(action="forged")
    result = audit_verify(checkpoint=False)
    assert not result.ok and result.bad_seq == 1


@pytest.mark.django_db
def test_a_missing_head_is_recreated_at_the_sealed_tail():
    _write(2)
    audit_seal()
    AuditChainHead.objects.all().delete()
    _write(1)
    assert audit_seal().sealed == 1
    assert AuditChainHead.objects.get().seq == 3
    assert audit_verify(checkpoint=False).ok


@pytest.mark.django_db
def test_seal_task_is_scheduled_every_minute_and_seals():
    from credo.core.audit.tasks import seal
    from credo.core.scheduling.registry import registered_schedules

    [spec] = [s for s in registered_schedules() if s.name == "audit.seal"]
    assert (spec.task_path, spec.cron) == ("credo.core.audit.tasks.seal", "* * * * *")
    _write(3)
    assert seal.call() == 3
    assert audit_lag().unsealed == 0


@pytest.mark.django_db
def test_audit_page_labels_unsealed_rows_and_shows_the_lag(client, owner):
    from django.contrib.auth.models import Permission

    owner.user_permissions.add(Permission.objects.get(codename="view_audit_log"))
    client.force_login(owner)
    [first] = _write(1)
    audit_seal()
    [second] = _write(1, start=1)
    resp = client.get("/audit/")
    html = resp.content.decode()
    assert resp.context["lag"].unsealed == 1
    assert "1 条未封存，最早" in html and "未封存" in html
    assert f"/audit/entry/{second.pk}/" in html and f"/audit/entry/{first.pk}/" in html
    detail = client.get(f"/audit/entry/{second.pk}/")
    assert detail.status_code == 200 and "未封存" in detail.content.decode()
    first.refresh_from_db()
    old_link = client.get(f"/audit/{first.seq}/")  # a chain position still resolves
    assert old_link.status_code == 302 and old_link.url == f"/audit/entry/{first.pk}/"


# --- concurrency (PostgreSQL) ---------------------------------------------------------------------


def _in_thread(fn, errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 — asserted by the test
            errors.append(exc)
        finally:
            connections.close_all()

    return threading.Thread(target=run, daemon=True)


@pg_only
@pytest.mark.django_db(transaction=True)
def test_a_row_committed_later_with_a_lower_id_is_sealed_in_a_later_batch():
    inserted, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    holder: dict[str, int] = {}

    def slow_writer() -> None:
        with transaction.atomic():
            holder["pk"] = audit_record(action="test.slow", object_type="x").pk
            inserted.set()
            assert release.wait(60)

    t = _in_thread(slow_writer, errors)
    t.start()
    assert inserted.wait(60)
    fast = audit_record(action="test.fast", object_type="x")  # autocommit: visible now
    assert fast.pk > holder["pk"]
    assert audit_seal().sealed == 1  # the uncommitted lower id is invisible to the sealer
    release.set()
    t.join(60)
    assert not errors, errors
    assert audit_seal().sealed == 1
    seqs = dict(AuditEntry.objects.values_list("action", "seq"))
    assert seqs == {"test.fast": 1, "test.slow": 2}  # commit-visibility order, not id order
    assert audit_verify(checkpoint=False).ok


@pg_only
@pytest.mark.django_db(transaction=True)
def test_a_scheduled_seal_skips_while_another_sealer_holds_the_head():
    _write(1)
    audit_seal()  # the head exists
    _write(2)
    locked, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def sealer_holding_the_head() -> None:
        with transaction.atomic():
            AuditChainHead.objects.select_for_update().get(pk=1)
            locked.set()
            assert release.wait(60)

    t = _in_thread(sealer_holding_the_head, errors)
    t.start()
    assert locked.wait(60)
    assert audit_seal(wait=False).busy
    release.set()
    t.join(60)
    assert not errors, errors
    assert audit_seal(wait=False).sealed == 2


@pg_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_sealers_give_one_intact_chain():
    writers, per_writer = 6, 15
    start = threading.Barrier(writers + 2)
    errors: list[BaseException] = []
    stop = threading.Event()

    def write(w: int) -> None:
        start.wait(60)
        for i in range(per_writer):
            with transaction.atomic():
                audit_record(action="test.concurrent", object_type="w", object_id=f"{w}-{i}")

    def seal_loop() -> None:
        start.wait(60)
        while not stop.is_set():
            audit_seal(batch=7)

    threads = [_in_thread(lambda w=w: write(w), errors) for w in range(writers)]
    sealers = [_in_thread(seal_loop, errors) for _ in range(2)]
    for t in threads + sealers:
        t.start()
    for t in threads:
        t.join(120)
    stop.set()
    for t in sealers:
        t.join(120)
    assert not errors, errors
    result = audit_verify(checkpoint=False)
    total = writers * per_writer
    assert result.ok and result.checked == total and result.lag.unsealed == 0
    seqs = sorted(AuditEntry.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, total + 1))


@pytest.mark.django_db
def test_a_sealer_behind_its_bound_is_flagged_in_verify_and_on_the_page(client, owner, monkeypatch):
    import datetime as dt

    from django.contrib.auth.models import Permission
    from django.utils import timezone

    from credo.core.audit.services import LAG_BOUND_SECONDS, SealLag

    assert not SealLag(0, None).behind and not SealLag(3, 10.0).behind
    assert SealLag(3, LAG_BOUND_SECONDS + 1.0).behind
    _write(2)
    assert not audit_lag().behind
    later = timezone.now() + dt.timedelta(seconds=LAG_BOUND_SECONDS + 60)
    monkeypatch.setattr(timezone, "now", lambda: later)  # the sealer did not run for 6 minutes
    lag = audit_lag()
    assert lag.unsealed == 2 and lag.behind
    assert "封存任务可能未运行" in str(lag)
    result = audit_verify(checkpoint=False, seal=False)
    assert result.ok and result.lag.behind  # the sealed chain is fine; the lag is reported
    owner.user_permissions.add(Permission.objects.get(codename="view_audit_log"))
    client.force_login(owner)
    html = client.get("/audit/").content.decode()
    assert "alert-warning" in html and "封存已落后超过 5 分钟" in html
    audit_seal()
    assert audit_lag().unsealed == 0 and not audit_lag().behind


@pytest.mark.django_db
def test_a_write_is_one_insert_and_leaves_the_chain_fields_null(django_assert_num_queries):
    with django_assert_num_queries(1):  # no read before it, no shared row, no second statement
        [row] = _write(1)
    stored = AuditEntry.objects.get(pk=row.pk)
    assert (stored.seq, stored.prev_hash, stored.hash) == (None, None, None)
    assert stored.content_hash == content_hash(stored) == row.content_hash
