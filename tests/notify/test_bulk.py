"""notify_many(): the batch path gives exactly what notify() gives, one notice at a time, with
set-based queries, one audit row per batch for suppressions and one sender kick."""

from __future__ import annotations

import contextlib
import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from credo.core.audit.models import AuditEntry
from credo.customers import services as customer_services
from credo.customers.models import Customer, CustomerEvent
from credo.notify import services
from credo.notify.models import Message, NotifyPreference
from credo.notify.services import (
    BulkResult,
    Notice,
    bulk_guardrails,
    bulk_write,
    notify,
    notify_many,
)
from tests.notify.conftest import at
from tests.notify.test_services import CTX  # registers test.reminder / test.staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(owner, individual_data_factory):
    """Four borrowers: a plain one, one opted out of marketing, one do-not-contact, one
    without a phone."""
    made = [
        customer_services.customer_create(actor=owner, data=individual_data_factory(n))
        for n in (11, 12, 13, 14)
    ]
    services.preference_set(customer=made[1], opted_out=["marketing"], actor=owner)
    made[2].risk_flags = ["do_not_contact"]
    made[2].save(update_fields=["risk_flags"])
    made[3].phone = ""
    made[3].save()
    return [Customer.objects.only("id", "phone", "risk_flags").get(pk=c.pk) for c in made]


def snapshot(after_id: int) -> list[tuple]:
    """What the outbox holds for messages after ``after_id`` (ids/times of creation aside)."""
    rows = Message.objects.filter(id__gt=after_id).order_by("id")
    return [
        (
            m.customer_id,
            m.user_id,
            m.kind,
            m.category,
            m.status,
            m.suppressed_reason,
            m.scheduled_at,
            m.next_attempt_at,
            m.dedupe_key,
            m.body,
            m.address_masked,
        )
        for m in rows
    ]


def timeline(after_id: int) -> list[tuple]:
    return [
        (e.customer_id, e.kind, e.title, e.detail["status"], e.detail["reason"])
        for e in CustomerEvent.objects.filter(source="notify", id__gt=after_id).order_by("id")
    ]


def last_ids() -> tuple[int, int]:
    m = Message.objects.order_by("-id").values_list("id", flat=True).first() or 0
    e = CustomerEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return m, e


def reset(ids: tuple[int, int]) -> None:
    Message.objects.filter(id__gt=ids[0]).delete()
    CustomerEvent.objects.filter(id__gt=ids[1]).delete()


def run_both(notices, *, category, now, batch_size=2000):
    """The same notices once through notify() in order, once through notify_many: returns both
    outbox snapshots, both timelines and the bulk result."""
    ids = last_ids()
    for n in notices:
        notify(
            template=n.template,
            context=dict(n.context),
            customer=n.customer,
            user=n.user,
            channel=n.channel,
            dedupe_key=n.dedupe_key,
            category=category,
            send_after=n.send_after,
            now=now,
        )
    one, one_tl = snapshot(ids[0]), timeline(ids[1])
    reset(ids)
    result = notify_many(notices, category=category, now=now, batch_size=batch_size)
    return one, one_tl, snapshot(ids[0]), timeline(ids[1]), result


def N(customer, **kw) -> Notice:  # noqa: N802 — reads like a constructor
    return Notice(template="test.reminder", context=CTX, customer=customer, **kw)


SCENARIOS = {
    # name: (notices from people, category, hour, batch size, expected reasons)
    "opted_out": (lambda p: [N(p[0]), N(p[1])], "marketing", 10, 2000, {"opted_out": 1}),
    "do_not_contact": (lambda p: [N(p[2]), N(p[0])], "service", 10, 2000, {"do_not_contact": 1}),
    "no_address": (lambda p: [N(p[3])], "service", 10, 2000, {"no_address": 1}),
    "quiet_hours_deferral": (lambda p: [N(p[0]), N(p[1])], "collection", 23, 2000, {}),
    "quiet_hours_service_not_deferred": (lambda p: [N(p[0])], "service", 23, 2000, {}),
    "cap_within_batch": (lambda p: [N(p[0])] * 5, "collection", 10, 2000, {"daily_cap": 2}),
    "cap_across_batches": (lambda p: [N(p[0])] * 5, "collection", 10, 2, {"daily_cap": 2}),
    "cap_deferred_counts_next_day": (
        lambda p: [N(p[0])] * 4 + [N(p[0], send_after=at(9, day=11))],
        "collection",
        23,
        3,
        {"daily_cap": 2},
    ),
    "dedupe_repeated_in_batch": (
        lambda p: [N(p[0], dedupe_key="k1"), N(p[1], dedupe_key="k1"), N(p[0], dedupe_key="k2")],
        "service",
        10,
        2000,
        {},
    ),
    "mixed": (
        lambda p: [N(c, dedupe_key=f"m:{i % 5}") for i, c in enumerate(p * 3)],
        "collection",
        10,
        3,
        {"do_not_contact": 1, "no_address": 1},
    ),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_guardrails_identical_to_notify(name, people):
    make, category, hour, batch_size, reasons = SCENARIOS[name]
    one, one_tl, many, many_tl, result = run_both(
        make(people), category=category, now=at(hour), batch_size=batch_size
    )
    assert many == one and many_tl == one_tl
    assert result.suppressed_by_reason == reasons
    assert result.created == len(many) == len(result.message_ids)
    assert result.queued + result.suppressed + result.sent + result.failed == result.created


def test_cap_counts_messages_already_in_the_outbox(people):
    for hour in (8, 9):
        notify(
            template="test.reminder",
            context=CTX,
            customer=people[0],
            category="collection",
            now=at(hour),
        )
    one, _tl, many, _mtl, result = run_both(
        [N(people[0]), N(people[0]), N(people[1])], category="collection", now=at(10)
    )
    assert many == one
    assert [row[4] for row in many] == ["queued", "suppressed", "queued"]
    assert result.suppressed_by_reason == {"daily_cap": 1}


def test_dedupe_key_already_in_the_outbox(people):
    [first] = notify(
        template="test.reminder", context=CTX, customer=people[0], dedupe_key="x", now=at(9)
    )
    result = notify_many([N(people[0], dedupe_key="x"), N(people[1], dedupe_key="y")], now=at(10))
    assert result.deduplicated == 1 and result.created == 1
    assert Message.objects.filter(dedupe_key="x").get() == first


def test_rerun_with_dedupe_keys_is_idempotent(people):
    notices = [N(c, dedupe_key=f"r:{c.pk}") for c in people]
    first = notify_many(notices, category="collection", now=at(10))
    counts = (Message.objects.count(), CustomerEvent.objects.filter(source="notify").count())
    again = notify_many(notices, category="collection", now=at(11))
    assert first.created == 4 and again.created == 0 and again.deduplicated == 4
    assert again.message_ids == []
    assert (
        Message.objects.count(),
        CustomerEvent.objects.filter(source="notify").count(),
    ) == counts


def test_one_audit_row_per_batch_for_suppressions(people, owner):
    notices = [N(people[2]), N(people[3]), N(people[2]), N(people[0])]
    result = notify_many(notices, actor=owner, category="service", now=at(10))
    assert result.suppressed == 3 and result.queued == 1
    [entry] = AuditEntry.objects.filter(action="notify.suppressed_batch")
    assert not AuditEntry.objects.filter(action="notify.suppressed").exists()
    assert entry.metadata["count"] == 3
    assert entry.metadata["by_reason"] == {"do_not_contact": 2, "no_address": 1}
    assert entry.metadata["template"] == "test.reminder"
    assert entry.metadata["category"] == "service"
    suppressed = Message.objects.filter(status="suppressed").order_by("id")
    assert entry.metadata["message_ids"] == [m.pk for m in suppressed]
    assert entry.actor_id == owner.pk


def test_timeline_rows_for_every_customer_message(people):
    result = notify_many([N(c) for c in people], category="collection", now=at(10))
    events = CustomerEvent.objects.filter(source="notify").order_by("id")
    assert [(e.customer_id, e.object_id, e.kind) for e in events] == [
        (c.pk, str(pk), "collection") for c, pk in zip(people, result.message_ids, strict=True)
    ]
    assert "已拦截" in events[2].title and events[2].detail["status"] == "suppressed"


def test_one_sender_kick_no_task_per_message(
    people, monkeypatch, django_capture_on_commit_callbacks
):
    per_message: list[int] = []
    monkeypatch.setattr(bulk_write, "enqueue_send", per_message.append)
    notices = [N(people[0]), N(people[1]), N(people[0], channel="email")]
    with django_capture_on_commit_callbacks() as callbacks:
        result = notify_many(notices, category="service")
    assert len(callbacks) == 1 and result.queued == 2
    callbacks[0]()  # the immediate task backend runs send_due right here
    assert per_message == []
    sent = Message.objects.filter(pk__in=result.message_ids, status="sent").count()
    assert sent == 2


def test_one_kick_per_batch(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        notify_many([N(people[0]), N(people[1]), N(people[0]), N(people[1])], batch_size=2)
    assert len(callbacks) == 2


def test_rejected_notices_do_not_stop_the_batch(people, owner):
    notices = [
        N(people[0]),
        Notice(template="test.reminder", context=CTX, customer=people[0], user=owner),
        Notice(template="nope", context={}, customer=people[1]),
        N(people[1], channel="fax"),
        N(people[1]),
    ]
    result = notify_many(notices, now=at(10))
    assert result.created == 2 and result.rejected == 3
    assert [i for i, _reason in result.errors] == [1, 2, 3]


def test_unknown_category_rejects_everything(people):
    result = notify_many([N(people[0])], category="spam")
    assert result == BulkResult(rejected=1, errors=result.errors) and Message.objects.count() == 0


def test_staff_and_group_notices(owner, colleague):
    owner.email = "owner@example.com"
    owner.save()
    notices = [
        Notice(template="test.staff", context={"title": "a"}, user=owner),
        Notice(template="test.staff", context={"title": "b"}, user=colleague),
        Notice(template="notify.test", context={"name": "x"}, channel="wecom"),
    ]
    result = notify_many(notices, now=at(10))
    kinds = sorted(Message.objects.values_list("kind", "status"))
    assert kinds == [("email", "queued"), ("inapp", "sent"), ("inapp", "sent"), ("wecom", "queued")]
    assert result.sent == 2 and result.queued == 2


def test_queries_per_batch_do_not_grow_with_the_batch(owner, individual_data_factory):
    made = [
        customer_services.customer_create(actor=owner, data=individual_data_factory(100 + n))
        for n in range(12)
    ]
    customers = list(
        Customer.objects.only("id", "phone", "risk_flags").filter(pk__in=[c.pk for c in made])
    )
    notify_many([N(customers[0])], category="collection", now=at(9))  # templates installed

    def queries(cs, hour):
        with CaptureQueriesContext(connection) as ctx:
            notify_many([N(c) for c in cs], category="collection", now=at(hour))
        return len(ctx.captured_queries)

    assert queries(customers[1:3], 10) == queries(customers[3:12], 11)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_respect_the_cap(settings, owner, individual_data_factory, monkeypatch):
    settings.CREDO_NOTIFY_DAILY_CAPS = {"collection": 1}
    made = [
        customer_services.customer_create(actor=owner, data=individual_data_factory(200 + n))
        for n in range(6)
    ]
    customers = list(
        Customer.objects.only("id", "phone", "risk_flags").filter(pk__in=[c.pk for c in made])
    )
    # Existing preference rows, channel and template (creating any of them would serialize the
    # batches on a unique index, hiding the race).
    NotifyPreference.objects.bulk_create([NotifyPreference(customer=c) for c in customers])
    services.channel_for("sms")
    services.template_get("test.reminder")
    # Widen the race: a batch that has counted the day's messages waits (up to 3 s) for the
    # other batch to count too. Without the preference row locks both would count 0 and both
    # queue; with them the second batch cannot count before the first commits (the wait times
    # out and the first goes on).
    counted = threading.Barrier(2)
    original = bulk_guardrails.apply_caps

    def apply_caps_then_wait(plans, zone, *, category):
        original(plans, zone, category=category)
        with contextlib.suppress(threading.BrokenBarrierError):
            counted.wait(timeout=3)

    monkeypatch.setattr(bulk_guardrails, "apply_caps", apply_caps_then_wait)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(order):
        try:
            start.wait()
            notify_many([N(c) for c in order], category="collection", now=at(10))
        except BaseException as exc:  # pragma: no cover - surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=worker, args=(customers,)),
        threading.Thread(target=worker, args=(customers[::-1],)),  # no deadlock either
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for c in customers:
        statuses = sorted(Message.objects.filter(customer=c).values_list("status", flat=True))
        # one went out (queued, or already sent by the sender kick), the other over the cap
        assert statuses[1:] == ["suppressed"] and statuses[0] in ("queued", "sent")


@hsettings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    picks=st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from([None, "a", "b", "c"])), max_size=12
    ),
    batch_size=st.integers(1, 5),
    category=st.sampled_from(["collection", "marketing", "service"]),
)
def test_batch_splitting_gives_the_same_outbox(people, picks, batch_size, category):
    notices = [N(people[i], dedupe_key=key) for i, key in picks]
    ids = last_ids()
    whole = notify_many(notices, category=category, now=at(10))
    expected = snapshot(ids[0])
    reset(ids)
    split = notify_many(notices, category=category, now=at(10), batch_size=batch_size)
    assert snapshot(ids[0]) == expected
    assert (split.created, split.suppressed_by_reason, split.deduplicated) == (
        whole.created,
        whole.suppressed_by_reason,
        whole.deduplicated,
    )
    reset(ids)


def test_preference_with_only_an_address_is_used(people, owner):
    # people[3] has no phone; a preference that only sets a mobile is not a default row
    services.preference_set(customer=people[3], mobile="13700000003", actor=owner)
    one, _tl, many, _mtl, result = run_both([N(people[3])], category="collection", now=at(10))
    assert many == one and result.queued == 1
    assert Message.objects.get(pk=result.message_ids[0]).address == "13700000003"


def test_notify_returns_the_instances_it_was_given(people):
    [m] = notify(template="test.reminder", context=CTX, customer=people[0], now=at(10))
    assert m.customer is people[0] and m.pk is not None
