"""Log format and error reporting, configured from settings.

* ``CREDO_LOG_FORMAT=plain`` (default): ``time level logger message`` lines for a terminal.
* ``CREDO_LOG_FORMAT=json``: one JSON object per line — ``time`` (ISO 8601, UTC), ``level``,
  ``logger``, ``message``, ``request_id`` and ``user_id`` of the request being served (empty
  outside a request), ``exception`` when there is one — for journald/Loki/ELK.
* ``CREDO_SENTRY_DSN``: errors go to Sentry (``pip install 'credo[sentry]'``). The SDK is
  imported only when the DSN is set; personal data is never sent (``send_default_pii=False``,
  no request bodies, cookies or headers beyond what the SDK always scrubs).

This module must stay importable from ``settings.py``: no Django models, no app imports at
module level.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from django.core.exceptions import ImproperlyConfigured

LOG_FORMATS = ("plain", "json")


class RequestContextFilter(logging.Filter):
    """Puts the current request's id and user id on every record (for both formats)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from credo.core.context import current_request_info

        info = current_request_info()
        if not hasattr(record, "request_id"):
            record.request_id = info.request_id or ""
        if not hasattr(record, "user_id"):
            user = info.user
            record.user_id = getattr(user, "pk", None) if user is not None else None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; never multi-line (a traceback is one escaped string)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
            "user_id": getattr(record, "user_id", None),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    if log_format not in LOG_FORMATS:
        raise ImproperlyConfigured(
            f"Environment variable CREDO_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, "
            f"got {log_format!r}."
        )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": "credo.core.logging_setup.RequestContextFilter"}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            "json": {"()": "credo.core.logging_setup.JsonFormatter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                "filters": ["request"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"axes": {"level": "WARNING"}},
    }


def sentry_options(dsn: str, *, environment: str, traces_sample_rate: float) -> dict[str, Any]:
    """What ``sentry_sdk.init`` is given: no personal data, no request bodies, no local
    variables in stack frames (they hold decrypted customer data)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = f"credo@{version('credo')}"
    except PackageNotFoundError:
        release = "credo@unknown"
    return {
        "dsn": dsn,
        "environment": environment,
        "release": release,
        "send_default_pii": False,
        "max_request_body_size": "never",
        "include_local_variables": False,
        "traces_sample_rate": traces_sample_rate,
    }


def init_sentry(dsn: str, *, environment: str, traces_sample_rate: float = 0.0) -> bool:
    """Initialise Sentry when a DSN is configured; the SDK is imported only then."""
    if not dsn:
        return False
    try:
        import sentry_sdk
        from sentry_sdk.integrations.django import DjangoIntegration
    except ImportError as exc:
        raise ImproperlyConfigured(
            "CREDO_SENTRY_DSN is set but sentry-sdk is not installed: pip install 'credo[sentry]'."
        ) from exc
    options = sentry_options(dsn, environment=environment, traces_sample_rate=traces_sample_rate)
    sentry_sdk.init(integrations=[DjangoIntegration()], **options)
    return True
