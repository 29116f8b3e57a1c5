"""Prometheus metrics: ``/metrics`` in the Prometheus text format.

Two kinds of numbers:

* **Request metrics** (count and latency by view name, method and status), recorded by
  :class:`RequestMetricsMiddleware` in the web processes. gunicorn runs several worker
  processes; with ``PROMETHEUS_MULTIPROC_DIR`` set (``credo deploy`` sets it, and its gunicorn
  config empties the directory at start and marks dead workers) every process writes its
  numbers there and a scrape adds them up across processes. Without it (``runserver``, one
  process) each process reports its own numbers.
* **Business gauges** computed from the database at scrape time with a few grouped queries on
  indexed columns: task queue depth, oldest waiting task and failed tasks per queue, the
  notification outbox, the last successful close of business, open alerts and collection cases,
  and the audit sealer's lag (unsealed audit rows and the age of the oldest).

The endpoint is closed unless ``CREDO_METRICS_TOKEN`` (``Authorization: Bearer …``) or
``CREDO_METRICS_ALLOW_CIDRS`` (client address, as the audit log sees it) is configured: 404
when neither is, 403 to a client that matches neither.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from credo.core.registry import Registry

logger = logging.getLogger("credo.metrics")

#: Request metrics live in their own registry (never the global one, which other libraries
#: fill); in multiprocess mode their values go to files in PROMETHEUS_MULTIPROC_DIR.
REQUEST_REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "credo_http_requests",
    "HTTP requests by view name, method and status code.",
    ["view", "method", "status"],
    registry=REQUEST_REGISTRY,
)
LATENCY = Histogram(
    "credo_http_request_duration_seconds",
    "Time from the first middleware to the response, by view name.",
    ["view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REQUEST_REGISTRY,
)
UNRESOLVED = "<unresolved>"


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


class RequestMetricsMiddleware:
    """Counts every request and its latency under the URL pattern's name (``customers:list``),
    never the path (unbounded label values: ids, tokens)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match is not None else "") or UNRESOLVED
        method = request.method if request.method in _METHODS else "OTHER"
        try:
            REQUESTS.labels(view, method, str(response.status_code)).inc()
            LATENCY.labels(view).observe(time.perf_counter() - started)
        except Exception:  # noqa: BLE001 — metrics never break a request
            logger.exception("request metrics not recorded")
        return response


_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


# --- business gauges ----------------------------------------------------------------------------
#: Collectors of business gauges: ``name → fn() -> iterable of metric families``. Apps above
#: core may register their own; the built-in ones below reach other apps' tables through the
#: app registry (``apps.get_model``), never an import, so core stays at the bottom layer.
gauge_collectors: Registry[Callable[[], Iterator[Metric]]] = Registry(
    "metrics gauge collectors", on_duplicate="replace"
)


def _model(label: str, name: str) -> Any:
    from django.apps import apps

    try:
        return apps.get_model(label, name)
    except LookupError:
        return None


def _age(now: dt.datetime, then: dt.datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


def _db_queue_stats(now: dt.datetime) -> dict[str, dict[str, float]]:
    from django.db.models import Count, Min
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    stats: dict[str, dict[str, float]] = {}
    for row in (
        DBTaskResult.objects.ready()
        .order_by()
        .values("queue_name")
        .annotate(n=Count("pk"), oldest=Min("enqueued_at"))
    ):
        stats.setdefault(row["queue_name"], {}).update(
            depth=row["n"], oldest=_age(now, row["oldest"])
        )
    for counted in (
        DBTaskResult.objects.filter(status__in=[TaskResultStatus.FAILED, TaskResultStatus.RUNNING])
        .order_by()
        .values("queue_name", "status")
        .annotate(n=Count("pk"))
    ):
        key = "failed" if counted["status"] == TaskResultStatus.FAILED else "running"
        stats.setdefault(counted["queue_name"], {})[key] = counted["n"]
    return stats


def _rq_queue_stats(backend: Any, now: dt.datetime) -> dict[str, dict[str, float]]:
    stats: dict[str, dict[str, float]] = {}
    for queue in backend._get_queues():
        oldest = 0.0
        first = queue.get_jobs(0, 1)
        if first and first[0].enqueued_at is not None:
            enqueued = first[0].enqueued_at
            if timezone.is_naive(enqueued):
                enqueued = timezone.make_aware(enqueued, dt.UTC)
            oldest = _age(now, enqueued)
        stats[queue.name] = {
            "depth": queue.count,
            "oldest": oldest,
            "failed": queue.failed_job_registry.count,
            "running": queue.started_job_registry.count,
        }
    return stats


def collect_task_queues() -> Iterator[Metric]:
    from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends

    backend: Any = task_backends[DEFAULT_TASK_BACKEND_ALIAS]  # the backend, not its proxy
    now = timezone.now()
    if hasattr(backend, "_get_queues"):
        stats = _rq_queue_stats(backend, now)
    elif type(backend).__module__.startswith("django_tasks_db"):
        stats = _db_queue_stats(now)
    else:
        return
    configured = settings.TASKS.get("default", {}).get("QUEUES") or ["default"]
    for name in configured:
        stats.setdefault(name, {})
    depth = GaugeMetricFamily(
        "credo_task_queue_depth", "Tasks waiting to run now, per queue.", labels=["queue"]
    )
    oldest = GaugeMetricFamily(
        "credo_task_queue_oldest_age_seconds",
        "Age of the oldest task waiting to run, per queue (0 when none waits).",
        labels=["queue"],
    )
    running = GaugeMetricFamily(
        "credo_tasks_running", "Tasks being run by a worker, per queue.", labels=["queue"]
    )
    failed = GaugeMetricFamily(
        "credo_tasks_failed", "Failed tasks kept in the task store, per queue.", labels=["queue"]
    )
    for name in sorted(stats):
        values = stats[name]
        depth.add_metric([name], values.get("depth", 0))
        oldest.add_metric([name], values.get("oldest", 0.0))
        running.add_metric([name], values.get("running", 0))
        failed.add_metric([name], values.get("failed", 0))
    yield from (depth, oldest, running, failed)


def _status_counts(model: Any, statuses: list[str]) -> dict[str, int]:
    from django.db.models import Count

    counts = dict.fromkeys(statuses, 0)
    for row in (
        model.objects.filter(status__in=statuses)
        .order_by()
        .values("status")
        .annotate(n=Count("pk"))
    ):
        counts[row["status"]] = row["n"]
    return counts


def _by_status(name: str, documentation: str, counts: dict[str, int]) -> Metric:
    family = GaugeMetricFamily(name, documentation, labels=["status"])
    for status, n in counts.items():
        family.add_metric([status], n)
    return family


def collect_outbox() -> Iterator[Metric]:
    message = _model("notify", "Message")
    if message is None:
        return
    counts = _status_counts(message, ["queued", "sending", "failed"])
    yield _by_status(
        "credo_notify_outbox_messages",
        "Outbox messages waiting (queued, sending) or failed after their last attempt.",
        counts,
    )
    yield GaugeMetricFamily(
        "credo_notify_outbox_pending",
        "Outbox messages not yet sent (queued + sending).",
        value=counts["queued"] + counts["sending"],
    )


def collect_close_of_business() -> Iterator[Metric]:
    run_model = _model("lending", "EodRun")
    if run_model is None:
        return
    done = (
        run_model.objects.filter(status="done")
        .order_by("-business_date")
        .values("business_date", "started_at", "finished_at")
        .first()
    )
    latest = run_model.objects.order_by("-business_date").values("status").first()
    date_value, duration = 0.0, 0.0
    if done is not None:
        midnight = dt.datetime.combine(done["business_date"], dt.time())
        date_value = timezone.make_aware(midnight).timestamp()
        duration = _age(done["finished_at"], done["started_at"]) if done["finished_at"] else 0.0
    yield GaugeMetricFamily(
        "credo_close_of_business_last_success_date_seconds",
        "Business date of the last successful close of business (Unix time of its midnight in "
        "the business time zone; 0: none yet).",
        value=date_value,
    )
    yield GaugeMetricFamily(
        "credo_close_of_business_last_success_duration_seconds",
        "Wall time of the last successful close of business.",
        value=duration,
    )
    yield GaugeMetricFamily(
        "credo_close_of_business_last_run_failed",
        "1 when the newest close-of-business run failed.",
        value=1.0 if latest is not None and latest["status"] == "failed" else 0.0,
    )


#: (app, model, metric, help, the statuses that count as not closed)
_OPEN_BY_STATUS = (
    (
        "monitoring",
        "Alert",
        "credo_monitoring_alerts_open",
        "Monitoring alerts not closed, by status.",
        ["open", "acknowledged", "in_progress", "escalated"],
    ),
    (
        "collections",
        "CollectionCase",
        "credo_collection_cases_open",
        "Collection cases not closed, by status.",
        ["open", "promised", "escalated", "legal"],
    ),
)


def collect_alerts_and_cases() -> Iterator[Metric]:
    for app_label, model_name, metric, documentation, statuses in _OPEN_BY_STATUS:
        model = _model(app_label, model_name)
        if model is not None:
            yield _by_status(metric, documentation, _status_counts(model, statuses))


def collect_audit_sealer() -> Iterator[Metric]:
    from credo.core.audit.services import audit_lag

    lag = audit_lag()
    yield GaugeMetricFamily(
        "credo_audit_unsealed_rows",
        "Audit rows written but not yet chained by the sealer (audit.seal).",
        value=lag.unsealed,
    )
    yield GaugeMetricFamily(
        "credo_audit_oldest_unsealed_age_seconds",
        "Age of the oldest audit row not yet chained by the sealer (0 when none waits).",
        value=lag.oldest_seconds or 0.0,
    )


gauge_collectors.register("task_queues", collect_task_queues)
gauge_collectors.register("outbox", collect_outbox)
gauge_collectors.register("close_of_business", collect_close_of_business)
gauge_collectors.register("alerts_and_cases", collect_alerts_and_cases)
gauge_collectors.register("audit_sealer", collect_audit_sealer)


class BusinessCollector:
    """Runs every registered gauge collector; one that fails is logged and reported in
    ``credo_metrics_collector_errors`` without hiding the others."""

    def collect(self) -> Iterator[Metric]:
        errors = GaugeMetricFamily(
            "credo_metrics_collector_errors",
            "1 for a gauge collector that failed during this scrape.",
            labels=["collector"],
        )
        for name, collector in gauge_collectors.items():
            try:
                families = list(collector())
            except Exception:  # noqa: BLE001
                logger.exception("metrics collector %s failed", name)
                errors.add_metric([name], 1)
                continue
            errors.add_metric([name], 0)
            yield from families
        yield errors


def render() -> bytes:
    """The whole exposition: request metrics (all processes) + business gauges."""
    requests_registry: Any = REQUEST_REGISTRY
    path = multiprocess_dir()
    if path:
        from prometheus_client import multiprocess

        requests_registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(requests_registry, path=path)
    business = CollectorRegistry(auto_describe=False)
    business.register(BusinessCollector())  # type: ignore[arg-type]
    return generate_latest(requests_registry) + generate_latest(business)


# --- access -------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _allowed_networks(cidrs: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(ipaddress.ip_network(c, strict=False) for c in cidrs)


def access(request: HttpRequest) -> str:
    """ "allowed", "forbidden" or "disabled" (neither a token nor networks configured)."""
    from credo.core.middleware import client_ip

    token = str(getattr(settings, "CREDO_METRICS_TOKEN", "") or "")
    cidrs = tuple(getattr(settings, "CREDO_METRICS_ALLOW_CIDRS", []) or [])
    if not token and not cidrs:
        return "disabled"
    if token:
        scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
            return "allowed"
    if cidrs:
        ip = client_ip(request)
        try:
            address = ipaddress.ip_address(ip or "")
        except ValueError:
            return "forbidden"
        if any(
            address.version == net.version and address in net for net in _allowed_networks(cidrs)
        ):
            return "allowed"
    return "forbidden"


def metrics_view(request: HttpRequest) -> HttpResponse:
    verdict = access(request)
    if verdict == "disabled":
        raise Http404
    if verdict == "forbidden":
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)
