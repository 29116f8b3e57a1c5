"""Issue 19 (8): /readyz, /metrics, JSON logs and the Sentry options."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from credo.core import health, metrics
from credo.core.context import RequestInfo, reset_request_info, set_request_info
from credo.core.logging_setup import (
    JsonFormatter,
    RequestContextFilter,
    logging_config,
    sentry_options,
)
from credo.core.scheduling.models import WorkerLease
from tests.lending.conftest import borrower, finance, make_loan, product_version  # noqa: F401

D = dt.date
TOKEN = "metrics-token-0123456789"


def _readyz(client: Client) -> tuple[int, dict]:
    response = client.get("/readyz")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


# --- /readyz ------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_readyz_reports_every_field_and_is_ready(client):
    from credo.lending.models import EodRun

    health.record_scheduler_heartbeat()
    run = EodRun.objects.create(business_date=D(2026, 3, 2), status="done")
    started = timezone.now() - timedelta(seconds=42)
    EodRun.objects.filter(pk=run.pk).update(
        started_at=started, finished_at=started + timedelta(seconds=12.5)
    )
    EodRun.objects.create(business_date=D(2026, 3, 1), status="done")  # older: not reported

    status, body = _readyz(client)

    assert status == 200
    assert body["status"] == "ok"
    assert body["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "task_queue": "ok",
        "scheduler": "ok",
    }
    assert 0 <= body["scheduler_heartbeat_age_seconds"] < 60
    assert body["last_close_of_business"] == {
        "business_date": "2026-03-02",
        "status": "done",
        "duration_seconds": 12.5,
    }
    assert set(body) == {
        "status",
        "checks",
        "scheduler_heartbeat_age_seconds",
        "last_close_of_business",
    }


@pytest.mark.django_db
def test_readyz_503_without_a_scheduler_heartbeat(client):
    status, body = _readyz(client)
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["scheduler"] == "no_heartbeat"
    assert body["scheduler_heartbeat_age_seconds"] is None
    assert body["checks"]["database"] == "ok"
    assert body["last_close_of_business"] is None


@pytest.mark.django_db
def test_readyz_503_when_the_scheduler_heartbeat_is_stale(client, settings):
    settings.CREDO_SCHEDULER_MAX_AGE_SECONDS = 300
    scheduler_id = health.record_scheduler_heartbeat()
    WorkerLease.objects.filter(pk=scheduler_id).update(
        heartbeat_at=timezone.now() - timedelta(seconds=301)
    )
    status, body = _readyz(client)
    assert status == 503
    assert body["checks"]["scheduler"] == "stale"
    assert body["scheduler_heartbeat_age_seconds"] >= 301


@pytest.mark.django_db
def test_a_schedule_firing_counts_as_a_sign_of_life(client):
    """A scheduler that does not beat itself still fires notify.send_due every minute."""
    from credo.core.scheduling.models import Schedule, ScheduleFiring

    schedule = Schedule.objects.create(name="t", task_path="x.y", cron="* * * * *")
    ScheduleFiring.objects.create(schedule=schedule, slot=timezone.now())
    status, body = _readyz(client)
    assert status == 200 and body["checks"]["scheduler"] == "ok"


@pytest.mark.django_db
def test_readyz_503_with_unapplied_migrations(client, monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    health.record_scheduler_heartbeat()
    monkeypatch.setattr(health, "_migrations_ok", False)
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("m", False)])
    status, body = _readyz(client)
    assert status == 503
    assert body["checks"]["migrations"] == "unapplied"
    assert body["checks"]["scheduler"] == "ok"


def test_readyz_503_when_the_database_is_down_and_reveals_nothing(client, django_db_blocker):
    from django.db import connections

    conn = connections["default"]
    if conn.vendor == "sqlite" and conn.is_in_memory_db():
        pytest.skip("an in-memory SQLite test database is never closed, so it cannot go down")
    original = conn.settings_dict.copy()
    try:
        conn.close()
        if conn.vendor == "postgresql":
            down = {"HOST": "127.0.0.1", "PORT": "1", "NAME": "secret_db", "USER": "secret_user"}
        else:  # SQLite: a file that cannot be opened
            down = {"NAME": "/nonexistent-credo-dir/secret_db.sqlite3"}
        conn.settings_dict.update(down)
        with django_db_blocker.unblock():
            response = client.get("/readyz")
    finally:
        conn.close()
        conn.settings_dict.clear()
        conn.settings_dict.update(original)
    assert response.status_code == 503
    body = response.json()
    assert body["checks"] == dict.fromkeys(
        ("database", "migrations", "task_queue", "scheduler"), "unavailable"
    )
    text = response.content.decode()
    assert "secret_" not in text and "127.0.0.1" not in text and "Error" not in text


@pytest.mark.django_db
def test_task_queue_checked_on_the_database_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    assert health.task_queue_state() == "ok"


# --- /metrics: access ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_metrics_closed_unless_configured(client, settings):
    settings.CREDO_METRICS_TOKEN = ""
    settings.CREDO_METRICS_ALLOW_CIDRS = []
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.django_db
def test_metrics_bearer_token(client, settings):
    settings.CREDO_METRICS_TOKEN = TOKEN
    settings.CREDO_METRICS_ALLOW_CIDRS = []
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 403
    ok = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert ok.status_code == 200
    assert ok["Content-Type"].startswith("text/plain; version=")


@pytest.mark.django_db
def test_metrics_allowed_networks_use_the_audited_client_address(client, settings):
    settings.CREDO_METRICS_TOKEN = ""
    settings.CREDO_METRICS_ALLOW_CIDRS = ["10.1.0.0/16"]
    settings.CREDO_TRUSTED_PROXIES = ["127.0.0.1"]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.2.0.1").status_code == 403
    # behind our proxy: the forwarded client address decides, not the proxy's
    assert (
        client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.1.9.9").status_code
        == 200
    )
    assert (
        client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="8.8.8.8").status_code
        == 403
    )
    # a client cannot claim an allowed address itself
    assert (
        client.get("/metrics", REMOTE_ADDR="8.8.8.8", HTTP_X_FORWARDED_FOR="10.1.9.9").status_code
        == 403
    )


# --- /metrics: content --------------------------------------------------------------------------
def _scrape(client: Client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    samples: dict[tuple[str, tuple], float] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


@pytest.fixture
def metrics_on(settings):
    settings.CREDO_METRICS_TOKEN = TOKEN
    settings.CREDO_METRICS_ALLOW_CIDRS = []
    return settings


@pytest.mark.django_db
def test_request_metrics_by_view_name(client, metrics_on):
    def count(samples, view, status):
        return samples.get(
            ("credo_http_requests_total", (("method", "GET"), ("status", status), ("view", view))),
            0.0,
        )

    before = _scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    client.get("/no-such-page/123")
    after = _scrape(client)
    assert count(after, "core:healthz", "200") - count(before, "core:healthz", "200") == 3
    assert count(after, "<unresolved>", "404") - count(before, "<unresolved>", "404") == 1
    key = ("credo_http_request_duration_seconds_count", (("view", "core:healthz"),))
    assert after[key] - before.get(key, 0.0) == 3
    # the path (with its id) never becomes a label
    assert not any("123" in str(labels) for _name, labels in after)


@pytest.mark.django_db
def test_business_gauges_for_a_small_dataset(client, metrics_on, make_loan, finance):  # noqa: F811
    from django_tasks_db.models import DBTaskResult, get_date_max

    from credo.collections.models import CollectionCase
    from credo.lending.models import EodRun
    from credo.monitoring.models import Alert
    from credo.notify.models import Message

    metrics_on.TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": ["default", "batch", "notify"],
        }
    }
    now = timezone.now()

    def task(queue, status, age_s=0):
        row = DBTaskResult.objects.create(
            args_kwargs={"args": [], "kwargs": {}},
            task_path="x.y",
            queue_name=queue,
            backend_name="default",
            run_after=get_date_max(),
            status=status,
        )
        DBTaskResult.objects.filter(pk=row.pk).update(enqueued_at=now - timedelta(seconds=age_s))

    task("default", "READY", 120)
    task("default", "READY", 30)
    task("batch", "READY", 5)
    task("default", "FAILED")
    task("notify", "FAILED")
    task("notify", "FAILED")
    task("notify", "RUNNING")
    task("default", "SUCCESSFUL")
    for status in ("queued", "queued", "sending", "failed", "sent", "suppressed"):
        Message.objects.create(template_code="t", kind="sms", body="b", status=status)
    loans = [make_loan(), make_loan(), make_loan()]
    for loan, status in zip(loans, ("open", "acknowledged", "closed"), strict=True):
        Alert.objects.create(
            rule_code="r",
            rule_name="r",
            severity="high",
            business_date=D(2026, 3, 2),
            due_at=now,
            owner=loan.created_by,
            loan=loan,
            customer=loan.customer,
            status=status,
        )
    for loan, status in zip(loans, ("open", "legal", "closed"), strict=True):
        CollectionCase.objects.create(
            loan=loan, customer=loan.customer, tier="sms", opened_on=D(2026, 3, 1), status=status
        )
    done = EodRun.objects.create(business_date=D(2026, 3, 2), status="done")
    EodRun.objects.filter(pk=done.pk).update(
        started_at=now - timedelta(seconds=100), finished_at=now - timedelta(seconds=70)
    )
    EodRun.objects.create(business_date=D(2026, 3, 3), status="failed")

    s = _scrape(client)

    def q(name, queue):
        return s[(name, (("queue", queue),))]

    assert q("credo_task_queue_depth", "default") == 2
    assert q("credo_task_queue_depth", "batch") == 1
    assert q("credo_task_queue_depth", "notify") == 0
    assert 119 <= q("credo_task_queue_oldest_age_seconds", "default") < 180
    assert q("credo_task_queue_oldest_age_seconds", "notify") == 0
    assert q("credo_tasks_failed", "default") == 1
    assert q("credo_tasks_failed", "notify") == 2
    assert q("credo_tasks_running", "notify") == 1

    def st(name, status):
        return s[(name, (("status", status),))]

    assert st("credo_notify_outbox_messages", "queued") == 2
    assert st("credo_notify_outbox_messages", "sending") == 1
    assert st("credo_notify_outbox_messages", "failed") == 1
    assert s[("credo_notify_outbox_pending", ())] == 3
    assert st("credo_monitoring_alerts_open", "open") == 1
    assert st("credo_monitoring_alerts_open", "acknowledged") == 1
    assert ("credo_monitoring_alerts_open", (("status", "closed"),)) not in s
    assert st("credo_collection_cases_open", "open") == 1
    assert st("credo_collection_cases_open", "legal") == 1
    assert st("credo_collection_cases_open", "promised") == 0

    midnight = timezone.make_aware(dt.datetime(2026, 3, 2))
    assert s[("credo_close_of_business_last_success_date_seconds", ())] == midnight.timestamp()
    assert s[("credo_close_of_business_last_success_duration_seconds", ())] == pytest.approx(30)
    assert s[("credo_close_of_business_last_run_failed", ())] == 1
    for name in ("task_queues", "outbox", "close_of_business", "alerts_and_cases", "audit_sealer"):
        assert s[("credo_metrics_collector_errors", (("collector", name),))] == 0


@pytest.mark.django_db
def test_audit_sealer_lag_gauges(client, metrics_on, monkeypatch):
    from credo.core.audit.services import audit_record, audit_seal

    audit_seal()  # whatever the fixtures wrote
    s = _scrape(client)
    assert s[("credo_audit_unsealed_rows", ())] == 0
    assert s[("credo_audit_oldest_unsealed_age_seconds", ())] == 0
    assert s[("credo_metrics_collector_errors", (("collector", "audit_sealer"),))] == 0

    written = timezone.now()
    for i in range(3):
        audit_record(action="test.changed", object_type="x", object_id=i)
    later = written + timedelta(seconds=90)
    monkeypatch.setattr(timezone, "now", lambda: later)
    s = _scrape(client)
    assert s[("credo_audit_unsealed_rows", ())] == 3
    assert 85 <= s[("credo_audit_oldest_unsealed_age_seconds", ())] <= 90

    monkeypatch.undo()
    audit_seal()
    s = _scrape(client)
    assert s[("credo_audit_unsealed_rows", ())] == 0
    assert s[("credo_audit_oldest_unsealed_age_seconds", ())] == 0


@pytest.mark.django_db
def test_a_failing_collector_does_not_hide_the_others(client, metrics_on, monkeypatch):
    def broken():
        raise RuntimeError("boom")
        yield  # pragma: no cover

    monkeypatch.setitem(metrics.gauge_collectors._items, "outbox", broken)
    s = _scrape(client)
    assert s[("credo_metrics_collector_errors", (("collector", "outbox"),))] == 1
    assert ("credo_notify_outbox_pending", ()) not in s
    assert ("credo_close_of_business_last_run_failed", ()) in s


def test_multiprocess_mode_adds_up_the_files_of_every_process(tmp_path, monkeypatch):
    """gunicorn's workers each write their counters to PROMETHEUS_MULTIPROC_DIR; a scrape in
    any worker reads them all."""
    import subprocess
    import sys

    code = (
        "import os, django\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'tests.settings'\n"
        "django.setup()\n"
        "from credo.core import metrics\n"
        "metrics.REQUESTS.labels('core:healthz', 'GET', '200').inc(int(os.environ['N']))\n"
    )
    for n in ("2", "5"):  # two "worker processes"
        subprocess.run(
            [sys.executable, "-c", code],
            env={**__import__("os").environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "N": n},
            check=True,
        )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setattr(metrics.gauge_collectors, "_items", {})
    text = metrics.render().decode()
    [family] = [f for f in text_string_to_metric_families(text) if f.name == "credo_http_requests"]
    values = {tuple(sorted(s.labels.items())): s.value for s in family.samples}
    assert values[(("method", "GET"), ("status", "200"), ("view", "core:healthz"))] == 7


# --- logs ---------------------------------------------------------------------------------------
def _record(message: str = "hello %s", args=("world",), exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("credo.test", logging.WARNING, __file__, 1, message, args, exc_info)


def test_json_log_line_format():
    class U:
        pk = 42

    token = set_request_info(RequestInfo(user=U(), ip="10.0.0.1", request_id="req-1"))
    try:
        record = _record()
        RequestContextFilter().filter(record)
    finally:
        reset_request_info(token)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry == {
        "time": entry["time"],
        "level": "WARNING",
        "logger": "credo.test",
        "message": "hello world",
        "request_id": "req-1",
        "user_id": 42,
    }
    assert dt.datetime.fromisoformat(entry["time"]).tzinfo is not None


def test_json_log_of_an_exception_is_still_one_line():
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        import sys

        record = _record("failed", (), sys.exc_info())
    RequestContextFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] == "" and entry["user_id"] is None
    assert "ValueError: bad\nthing" in entry["exception"]


def test_logging_config_json_end_to_end():
    import logging.config

    config = logging_config("json", "INFO")
    stream = io.StringIO()
    config["handlers"]["console"]["stream"] = stream
    config["root"]["handlers"] = ["console"]
    logging.config.dictConfig(config)
    try:
        logging.getLogger("credo.x").info("同步完成 %d", 3)
        entry = json.loads(stream.getvalue().strip())
        assert (entry["message"], entry["level"], entry["logger"]) == (
            "同步完成 3",
            "INFO",
            "credo.x",
        )
    finally:
        from django.conf import settings

        logging.config.dictConfig(settings.LOGGING)


def test_unknown_log_format_names_the_variable():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="CREDO_LOG_FORMAT"):
        logging_config("xml", "INFO")


def test_sentry_never_sends_personal_data():
    options = sentry_options(
        "https://k@sentry.example/1", environment="production", traces_sample_rate=0
    )
    assert options["send_default_pii"] is False
    assert options["max_request_body_size"] == "never"
    assert options["include_local_variables"] is False
    assert options["environment"] == "production"


def test_sentry_not_imported_without_a_dsn(monkeypatch):
    import sys

    from credo.core.logging_setup import init_sentry

    monkeypatch.setitem(sys.modules, "sentry_sdk", None)  # importing it would fail
    assert init_sentry("", environment="production") is False


# --- the Redis (RQ) task backend ----------------------------------------------------------------
@pytest.fixture
def rq_backend(settings):
    import os

    import redis

    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    url = f"redis://127.0.0.1:6379/{9 + (int(worker[2:]) if worker[2:].isdigit() else 0) % 7}"
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no local Redis")

    def clean():
        keys = list(client.scan_iter("rq:*"))
        if keys:
            client.delete(*keys)

    clean()
    queues = ["default", "batch", "notify"]
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": queues}}
    settings.RQ_QUEUES = {name: {"URL": url, "DEFAULT_TIMEOUT": 600} for name in queues}
    yield settings
    clean()
    client.close()


@pytest.mark.django_db
def test_queue_gauges_and_readiness_on_the_redis_backend(client, metrics_on, rq_backend):
    from credo.core.tasks import purge_import_files

    purge_import_files.using(queue_name="batch").enqueue()
    purge_import_files.using(queue_name="batch").enqueue()
    assert health.task_queue_state() == "ok"
    s = _scrape(client)
    assert s[("credo_task_queue_depth", (("queue", "batch"),))] == 2
    assert s[("credo_task_queue_depth", (("queue", "default"),))] == 0
    assert s[("credo_tasks_failed", (("queue", "batch"),))] == 0
    assert s[("credo_task_queue_oldest_age_seconds", (("queue", "batch"),))] < 60
    assert s[("credo_metrics_collector_errors", (("collector", "task_queues"),))] == 0
