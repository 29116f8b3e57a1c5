from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection

from credo.core.audit.models import AuditEntry
from credo.core.scheduling import registry
from credo.core.scheduling.cron import cron_error, latest_slot
from credo.core.scheduling.models import Schedule, ScheduleFiring
from credo.core.scheduling.registry import register_schedule, registered_schedules, sync_schedules
from credo.core.scheduling.scheduler import tick
from credo.core.scheduling.services import SchedulingError, schedule_update
from tests.scheduling import tasks

SH = ZoneInfo("Asia/Shanghai")
TASK = "tests.scheduling.tasks.record"


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def make_schedule(cron: str = "10 3 * * *", created: datetime | None = None, **kw) -> Schedule:
    s = Schedule.objects.create(name=kw.pop("name", "s1"), task_path=TASK, cron=cron, **kw)
    if created is not None:
        Schedule.objects.filter(pk=s.pk).update(created_at=created)
        s.refresh_from_db()
    return s


@pytest.mark.parametrize(
    "expr,ok",
    [
        ("10 3 * * *", True),
        ("*/15 * * * *", True),
        ("0 9 * * 1-5", True),
        ("61 3 * * *", False),
        ("* * *", False),
        ("0 0 0 * * *", False),
        ("hello", False),
        ("", False),
    ],
)
def test_cron_validation(expr, ok):
    error = cron_error(expr)
    assert (error is None) is ok
    if not ok:
        assert "Cron" in error


def test_latest_slot():
    assert latest_slot("10 3 * * *", at(2026, 1, 2, 3, 10)) == at(2026, 1, 2, 3, 10)
    assert latest_slot("10 3 * * *", at(2026, 1, 2, 3, 9, 59)) == at(2026, 1, 1, 3, 10)
    assert latest_slot("10 3 * * *", at(2026, 1, 2, 12, 0)) == at(2026, 1, 2, 3, 10)


@pytest.mark.django_db
def test_new_schedule_does_not_fire_for_slots_before_it_existed():
    make_schedule(created=at(2026, 1, 2, 12, 0))
    assert tick(at(2026, 1, 2, 12, 0, 30)) == []
    fired = tick(at(2026, 1, 3, 3, 10, 5))
    assert [f.slot for f in fired] == [at(2026, 1, 3, 3, 10)]
    assert tasks.CALLS == [{}]


@pytest.mark.django_db
def test_same_slot_enqueues_once_across_two_schedulers():
    s = make_schedule(created=at(2026, 1, 1, 0, 0), kwargs={"x": 1})
    first = tick(at(2026, 1, 2, 3, 10, 1))
    # A second scheduler that read the schedule before the first one updated last_slot:
    Schedule.objects.filter(pk=s.pk).update(last_slot=None)
    second = tick(at(2026, 1, 2, 3, 10, 2))
    assert len(first) == 1 and second == []
    assert tasks.CALLS == [{"x": 1}]
    firing = ScheduleFiring.objects.get()
    assert firing.slot == at(2026, 1, 2, 3, 10)
    assert firing.task_result_id == first[0].task_result_id != ""


@pytest.mark.django_db
def test_missed_slots_fire_once_after_downtime():
    s = make_schedule("*/15 * * * *", created=at(2026, 1, 1, 0, 0))
    tick(at(2026, 1, 1, 0, 0, 5))
    assert len(tasks.CALLS) == 1
    # scheduler down for 5 hours: 20 slots missed, only the latest fires
    fired = tick(at(2026, 1, 1, 5, 7))
    assert [f.slot for f in fired] == [at(2026, 1, 1, 5, 0)]
    assert len(tasks.CALLS) == 2
    s.refresh_from_db()
    assert s.last_slot == at(2026, 1, 1, 5, 0)
    assert tick(at(2026, 1, 1, 5, 14)) == []


@pytest.mark.django_db
def test_disabled_schedule_does_not_fire():
    make_schedule("* * * * *", created=at(2026, 1, 1, 0, 0), enabled=False)
    assert tick(at(2026, 1, 1, 1, 0)) == []
    assert tasks.CALLS == []


@pytest.mark.django_db
def test_bad_task_path_does_not_break_the_tick():
    past = at(2020, 1, 1, 0, 0)
    make_schedule("* * * * *", name="broken", created=past)
    Schedule.objects.filter(name="broken").update(task_path="no.such.task")
    make_schedule("* * * * *", name="good", created=past)
    fired = tick()
    assert {f.schedule for f in fired} == {"broken", "good"}
    assert len(tasks.CALLS) == 1


@pytest.mark.django_db
def test_sync_creates_missing_and_keeps_admin_edits():
    register_schedule("test.sync", TASK, "0 1 * * *", kwargs={"a": 1})
    assert any(s.name == "test.sync" for s in registered_schedules())
    sync_schedules()
    s = Schedule.objects.get(name="test.sync")
    assert (s.cron, s.kwargs, s.enabled) == ("0 1 * * *", {"a": 1}, True)
    Schedule.objects.filter(pk=s.pk).update(cron="0 2 * * *", enabled=False)
    assert sync_schedules() == 0
    s.refresh_from_db()
    assert (s.cron, s.enabled) == ("0 2 * * *", False)
    registry.schedules.unregister("test.sync")


@pytest.mark.django_db
def test_builtin_purge_schedule_registered():
    sync_schedules()
    s = Schedule.objects.get(name="api.purge_idempotency_keys")
    assert (s.task_path, s.cron) == ("credo.api.tasks.purge_idempotency_keys", "10 3 * * *")


def test_register_rejects_bad_cron():
    with pytest.raises(ValueError):
        register_schedule("test.bad", TASK, "99 * * * *")


@pytest.mark.django_db
def test_schedule_update_validates_and_audits(owner):
    s = make_schedule()
    with pytest.raises(SchedulingError) as exc:
        schedule_update(schedule=s, actor=owner, cron="not cron")
    assert "Cron" in exc.value.message
    schedule_update(schedule=s, actor=owner, cron="0  4 * * *", enabled=False)
    s.refresh_from_db()
    assert (s.cron, s.enabled) == ("0 4 * * *", False)
    entry = AuditEntry.objects.get(action="schedule.update")
    assert entry.changes["cron"] == {"before": "10 3 * * *", "after": "0 4 * * *"}


@pytest.mark.django_db
def test_scheduler_command_once(capsys):
    make_schedule("* * * * *", name="every-minute", created=at(2020, 1, 1, 0, 0))
    call_command("scheduler", "--once")
    assert Schedule.objects.filter(name="api.purge_idempotency_keys").exists()
    assert len(tasks.CALLS) == 1
    assert "every-minute" in capsys.readouterr().out


def test_concurrent_schedulers_on_postgres(django_db_setup, django_db_blocker):
    """Four schedulers tick the same slot at once on real, committed rows: one enqueues.

    (Not a transactional test case: its flush would TRUNCATE the append-only audit table.)"""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for real concurrent transactions")
    with django_db_blocker.unblock():
        s = make_schedule("* * * * *", name="concurrent", created=datetime(2020, 1, 1, tzinfo=SH))
        try:
            now = datetime.now(SH)
            barrier = threading.Barrier(4)
            results: list[int] = []
            errors: list[BaseException] = []

            def run():
                from django.db import connection as conn

                try:
                    barrier.wait()
                    results.append(len(tick(now)))
                except BaseException as exc:  # surfaced below
                    errors.append(exc)
                finally:
                    conn.close()

            threads = [threading.Thread(target=run) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert errors == []
            assert sorted(results) == [0, 0, 0, 1]
            assert ScheduleFiring.objects.filter(schedule=s).count() == 1
            assert len(tasks.CALLS) == 1
        finally:
            ScheduleFiring.objects.filter(schedule=s).delete()
            s.delete()
            connection.close()  # else the test database cannot be dropped at the end
