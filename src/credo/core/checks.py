"""Configuration checks: ``credo check`` prints them all; the cheap ones also run as Django
system checks at start-up (``runserver``, ``migrate``, ...), so a misconfigured deployment
fails early with a message naming the variable to fix.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks

from credo.core.registry import Registry
from credo.env import source

ERROR, WARNING, OK = "error", "warning", "ok"
INSECURE_SECRET_MARKERS = ("django-insecure", "test-secret-key", "changeme", "change-me")


@dataclass(frozen=True)
class Finding:
    level: str  # error / warning / ok
    code: str
    variable: str
    message: str


def _production() -> bool:
    return bool(settings.ENVIRONMENT == "production")


def check_secret_key() -> list[Finding]:
    key = settings.SECRET_KEY
    if any(marker in key.lower() for marker in INSECURE_SECRET_MARKERS) and _production():
        return [
            Finding(
                ERROR,
                "credo.E001",
                "CREDO_SECRET_KEY",
                "CREDO_SECRET_KEY is a development/test placeholder; generate a new one.",
            )
        ]
    if len(set(key)) < 10:
        return [Finding(ERROR, "credo.E002", "CREDO_SECRET_KEY", "CREDO_SECRET_KEY is not random.")]
    return [Finding(OK, "credo.I001", "CREDO_SECRET_KEY", "secret key set")]


def check_encryption_keys() -> list[Finding]:
    from django.core.exceptions import ImproperlyConfigured

    from credo.core.crypto import parse_keys

    try:
        ring = parse_keys(settings.ENCRYPTION_KEYS)
    except ImproperlyConfigured as exc:
        return [Finding(ERROR, "credo.E010", "CREDO_ENCRYPTION_KEYS", str(exc))]
    found = [
        Finding(
            OK,
            "credo.I010",
            "CREDO_ENCRYPTION_KEYS",
            f"{len(ring.keys)} key(s); '{ring.primary}' encrypts new values",
        )
    ]
    if _production():
        for var in ("CREDO_ENCRYPTION_KEYS", "CREDO_SECRET_KEY", "CREDO_BLIND_INDEX_KEY"):
            if source(var) == "env":
                found.append(
                    Finding(
                        WARNING,
                        "credo.W011",
                        var,
                        f"{var} holds key material in plain environment (visible in process "
                        f"listings and crash reports); use {var}_FILE pointing at a file "
                        "readable only by the Credo user.",
                    )
                )
        if source("CREDO_BLIND_INDEX_KEY") == "unset":
            found.append(
                Finding(
                    WARNING,
                    "credo.W012",
                    "CREDO_BLIND_INDEX_KEY",
                    "CREDO_BLIND_INDEX_KEY is not set and falls back to the secret key; set a "
                    "separate key before storing data (changing it later rebuilds indexes).",
                )
            )
    return found


def check_secret_files() -> list[Finding]:
    found = []
    for var, path in sorted(os.environ.items()):
        if not var.endswith("_FILE") or not var.startswith(("CREDO_", "DATABASE_", "REDIS_")):
            continue
        try:
            mode = Path(path).stat().st_mode
        except OSError as exc:
            found.append(Finding(ERROR, "credo.E020", var, f"{var}: cannot read {path}: {exc}"))
            continue
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            found.append(
                Finding(
                    ERROR if _production() else WARNING,
                    "credo.E021",
                    var,
                    f"{var}: {path} is readable by group/others; chmod 600 it.",
                )
            )
    return found


def check_debug(deploy: bool = False) -> list[Finding]:
    if settings.DEBUG and (deploy or _production()):
        return [
            Finding(
                ERROR,
                "credo.E030",
                "CREDO_DEBUG",
                "CREDO_DEBUG is on in production: error pages would leak data. Set it to false.",
            )
        ]
    return []


def check_database_engine() -> list[Finding]:
    engine = settings.DATABASES["default"]["ENGINE"]
    if _production() and engine.endswith("sqlite3"):
        return [
            Finding(
                WARNING,
                "credo.W040",
                "DATABASE_URL",
                "SQLite in production: use PostgreSQL for concurrent users and row locks.",
            )
        ]
    return []


def check_database_reachable() -> list[Finding]:
    from django.db import connections

    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 — report any driver error
        return [
            Finding(
                ERROR,
                "credo.E041",
                "DATABASE_URL",
                f"database not reachable with DATABASE_URL: {type(exc).__name__}: {exc}".strip(),
            )
        ]
    return [Finding(OK, "credo.I041", "DATABASE_URL", "database reachable")]


def check_redis() -> list[Finding]:
    url = settings.REDIS_URL
    if not url:
        return []
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        return [Finding(WARNING, "credo.W050", "REDIS_URL", f"Redis not reachable: {exc}")]
    return [Finding(OK, "credo.I050", "REDIS_URL", "Redis reachable")]


def check_hosts() -> list[Finding]:
    if _production() and set(settings.ALLOWED_HOSTS) <= {"127.0.0.1", "localhost"}:
        return [
            Finding(
                WARNING,
                "credo.W060",
                "CREDO_ALLOWED_HOSTS",
                "CREDO_ALLOWED_HOSTS only allows localhost; set the server's host name.",
            )
        ]
    return []


def check_region_data() -> list[Finding]:
    from credo.core.regions import DATA_FILE

    if not DATA_FILE.exists():
        return [
            Finding(
                ERROR,
                "credo.E070",
                "",
                "region code data missing: run `make assets` (scripts/build_regions.py).",
            )
        ]
    return []


def check_lender_identity(deploy: bool = False) -> list[Finding]:
    """Contracts print the lender's legal name, USCC and address: a deployment without them
    would sign contracts naming no lender."""
    from credo.core.lender import problems

    level = ERROR if deploy or _production() else WARNING
    found = [
        Finding(level, "credo.E080", var, f"{var}: {message}; contracts need it.")
        for var, message in problems()
    ]
    return found or [Finding(OK, "credo.I080", "CREDO_ORG_NAME", "lender identity set")]


# --- deployment-only checks (``credo check --deploy``) ------------------------------------------
# They look at business configuration that a server can start without but must not go live
# with. Other apps' tables are reached through the app registry (core imports no app).
def check_hsts() -> list[Finding]:
    if int(getattr(settings, "SECURE_HSTS_SECONDS", 0) or 0) <= 0:
        return [
            Finding(
                ERROR,
                "credo.E090",
                "CREDO_HSTS_SECONDS",
                "HSTS is off (CREDO_HSTS_SECONDS=0, or secure cookies off): browsers may be "
                "downgraded to plain HTTP. Serve over TLS with CREDO_SECURE_COOKIES=true.",
            )
        ]
    return [Finding(OK, "credo.I090", "CREDO_HSTS_SECONDS", "HSTS on")]


def check_esign_provider() -> list[Finding]:
    """The simulated e-signature provider lets staff mark contracts signed: never in production."""
    code = str(getattr(settings, "CREDO_ESIGN_PROVIDER", "") or "simulated")
    if code == "simulated":
        return [
            Finding(
                ERROR,
                "credo.E091",
                "CREDO_ESIGN_PROVIDER",
                "CREDO_ESIGN_PROVIDER is the simulated provider: staff could mark contracts "
                "signed without a signature. Configure the lender's e-signature provider.",
            )
        ]
    # A real vendor's settings are checked by the contracts app (it registers
    # ``esign_config`` in ``deploy_checks``: core may not import it).
    return [Finding(OK, "credo.I091", "CREDO_ESIGN_PROVIDER", f"e-signature provider '{code}'")]


def check_sms_channel() -> list[Finding]:
    """SMS (repayment reminders, collection notices) must reach a real gateway: an enabled
    SMS HTTP channel. Without one, SMS go to an enabled simulated channel that stands in for
    SMS, or — with CREDO_NOTIFY_SIMULATE — to an automatically created one, or fail."""
    from django.apps import apps
    from django.db import DatabaseError

    try:
        channel = apps.get_model("notify", "Channel")
    except LookupError:
        return []
    where = "通知渠道 (system → notification channels)"
    try:
        if channel.objects.filter(engine="sms_http", enabled=True).exists():
            return [Finding(OK, "credo.I092", "", "an SMS gateway channel is configured")]
        sims = [
            c.name
            for c in channel.objects.filter(engine="simulated", enabled=True).order_by("id")
            if not c.simulates or "sms" in c.simulates
        ]
        any_simulated = channel.objects.filter(engine="simulated").exists()
    except DatabaseError:
        return []  # reported by the database check
    if sims:
        message = (
            f"SMS go to the simulated channel '{sims[0]}' (nothing reaches customers); add an "
            f"SMS HTTP gateway channel under {where} and disable the simulated one."
        )
    elif bool(getattr(settings, "CREDO_NOTIFY_SIMULATE", False)) and not any_simulated:
        message = (
            "CREDO_NOTIFY_SIMULATE is on and no SMS gateway is configured: SMS would only be "
            f"recorded. Add an SMS HTTP gateway channel under {where}."
        )
    else:
        message = (
            "no SMS gateway is configured: repayment reminders and collection SMS would fail. "
            f"Add an SMS HTTP gateway channel under {where}."
        )
    return [Finding(ERROR, "credo.E092", "CREDO_NOTIFY_SIMULATE", message)]


#: Deployment checks; an app may register more (``fn() -> list[Finding]``).
deploy_checks: Registry[Callable[[], list[Finding]]] = Registry(
    "deployment checks", on_duplicate="keep"
)
deploy_checks.register("hsts", check_hsts)
deploy_checks.register("esign_provider", check_esign_provider)
deploy_checks.register("sms_channel", check_sms_channel)


STARTUP_CHECKS: list[Callable[[], list[Finding]]] = [
    check_secret_key,
    check_encryption_keys,
    check_secret_files,
    check_debug,
    check_database_engine,
    check_hosts,
    check_region_data,
]
REPORT_CHECKS = [*STARTUP_CHECKS, check_database_reachable, check_redis]


def config_report(*, deploy: bool = False) -> list[Finding]:
    """Every finding; ``deploy`` (``credo check --deploy``) makes deployment-only gaps errors."""
    findings: list[Finding] = []
    for check in REPORT_CHECKS:
        if check is check_debug:
            findings.extend(check_debug(deploy))
        else:
            findings.extend(check())
    findings.extend(check_lender_identity(deploy))
    if deploy:
        for deploy_check in deploy_checks:
            findings.extend(deploy_check())
    return findings


@checks.register("credo")
def credo_system_checks(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    for check in STARTUP_CHECKS:
        for f in check():
            if f.level == ERROR:
                messages.append(checks.Error(f.message, id=f.code))
            elif f.level == WARNING:
                messages.append(checks.Warning(f.message, id=f.code))
    return messages
