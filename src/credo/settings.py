"""Credo settings. Every value comes from an environment variable; see docs/configuration.md."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from credo.core.crypto import parse_keys
from credo.env import env_bool, env_choice, env_float, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("CREDO_DATA_DIR", str(Path.cwd() / "var"))).resolve()

ENVIRONMENT = env_choice("CREDO_ENVIRONMENT", ("production", "development", "test"), "production")
DEBUG = env_bool("CREDO_DEBUG", False)
SECRET_KEY = env_str("CREDO_SECRET_KEY")
if len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("CREDO_SECRET_KEY must be at least 32 characters long.")

# "kid:base64-32-byte-key,kid2:..." — the first key encrypts, all keys decrypt (rotation).
ENCRYPTION_KEYS = env_str("CREDO_ENCRYPTION_KEYS")
try:
    parse_keys(ENCRYPTION_KEYS)  # fail at start-up, naming the variable, on a malformed key list
except ImproperlyConfigured as _exc:
    # The message names the variable and what is wrong; a traceback after it (through Django's
    # settings loader) only buries it and invites pasting key material into tickets.
    raise SystemExit(f"Configuration error: {_exc}") from None
# Separate key for blind indexes so rotating encryption keys does not rebuild every index.
BLIND_INDEX_KEY = env_str("CREDO_BLIND_INDEX_KEY", SECRET_KEY)
# Audit-log anchoring: keyed checkpoints (row seq + hash + count) of the hash chain, written
# hourly and at every `credo audit verify`, kept in the database AND appended to a file the
# database user cannot rewrite, so deleting the newest rows is detected. The MAC key is derived
# (HKDF) from CREDO_AUDIT_ANCHOR_KEY, or from the secret key when unset — never stored in the DB.
AUDIT_ANCHOR_KEY = env_str("CREDO_AUDIT_ANCHOR_KEY", "")
# "off" disables the file; the test environment defaults to off (each test has its own chain).
AUDIT_ANCHOR_FILE = env_str(
    "CREDO_AUDIT_ANCHOR_FILE",
    "off" if ENVIRONMENT == "test" else str(DATA_DIR / "audit-anchors.log"),
)
AUDIT_ANCHOR_SYSLOG = env_bool("CREDO_AUDIT_ANCHOR_SYSLOG", False)
# Uploaded import files and import previews (personal data) are deleted after this many hours.
IMPORT_FILE_TTL_HOURS = env_int("CREDO_IMPORT_FILE_TTL_HOURS", 24, minimum=1)
# 个人信息保护法: marketing (incl. renewal) messages only to customers who consented; withdrawal is
# always honoured. Years personal data is kept after the last loan is settled (then deleted on
# request or by the retention policies); see docs/privacy.md.
CREDO_MARKETING_CONSENT_REQUIRED = env_bool("CREDO_MARKETING_CONSENT_REQUIRED", True)
CREDO_PRIVACY_RETENTION_YEARS = env_int("CREDO_PRIVACY_RETENTION_YEARS", 5, minimum=1)
# 一年期 LPR (percent) for the 4 × LPR warning when the LPR table has no row yet.
CREDO_LPR_ONE_YEAR_FALLBACK = env_float("CREDO_LPR_ONE_YEAR_FALLBACK", 3.0, minimum=0.0)

ALLOWED_HOSTS = env_list("CREDO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env_list("CREDO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "template_partials",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "credo.core",
    "credo.core.audit",
    "credo.core.events",
    "credo.core.scheduling",
    "credo.core.todo",
    "credo.core.customfields",
    "credo.accounts",
    "credo.api",
    "credo.customers",
    "credo.lending",
    "credo.collateral",
    "credo.rules",
    "credo.leads",
    "credo.approvals",
    "credo.origination",
    "credo.contracts",
    "credo.notify",
    "credo.monitoring",
    "credo.collections",
    "credo.reports",
    "credo.scorecard",
    "credo.privacy",
    "credo.creditreport",
    "credo.borrower",
    "credo.fieldwork",
    "credo.records",
    "credo.webhooks",
    "credo.imapps",
    "credo.ocr",
    "credo.automations",
]

MIDDLEWARE = [
    "credo.core.metrics.RequestMetricsMiddleware",  # first: the whole request's latency
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "credo.core.middleware.DefaultChineseLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "credo.core.badinput.BadInputMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "credo.accounts.middleware.SessionIdleTimeoutMiddleware",
    "credo.accounts.middleware.OTPRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "credo.core.middleware.RequestContextMiddleware",
    "credo.core.ratelimit.PublicRateLimitMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "credo.urls"
WSGI_APPLICATION = "credo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "credo.core.ui.context_processors.ui",
            ],
        },
    }
]

# Database: sqlite:///path (evaluation) or postgres://user@host:port/name (production, CI).
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'credo.sqlite3'}")
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("CREDO_DB_CONN_MAX_AGE", 0))
except ValueError as exc:  # unknown scheme, malformed URL
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web process, the worker and the scheduler share one file.
    _db.setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DATABASES: dict[str, dict[str, Any]] = {"default": dict(_db)}
# A read replica (PostgreSQL streaming replica) for the heavy reads of reports, exports and the
# dashboard: used only inside `credo.core.dbrouter.read_replica()` / `@uses_replica`; every write,
# and every read outside that context, goes to "default". Unset: everything runs on "default".
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    try:
        _replica = dj_database_url.parse(
            DATABASE_REPLICA_URL, conn_max_age=env_int("CREDO_DB_CONN_MAX_AGE", 0)
        )
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"DATABASE_REPLICA_URL is not a valid database URL: {exc}"
        ) from exc
    if _replica["ENGINE"] != _db["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must use the same engine as DATABASE_URL.")
    # Tests (and `credo check`) treat it as a mirror of default: no separate test database.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = dict(_replica)
DATABASE_ROUTERS = ["credo.core.dbrouter.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# With one cache shared by every web process (Redis): sessions are read from it (written through
# to the database), and each user's permissions/roles are cached across requests
# (credo.accounts.usercache; invalidated on every change). A per-process cache cannot be
# invalidated across gunicorn workers, so without Redis both stay per request.
CREDO_CACHE_SHARED = bool(REDIS_URL)
if CREDO_CACHE_SHARED:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Task queue: "database" (django-tasks-db, the default: no extra service) or "rq" (Redis, through
# django-tasks-rq; `credo worker` then runs RQ workers) — or a backend's dotted path.
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
}
_task_backend = env_str("CREDO_TASK_BACKEND", "database")
TASK_QUEUES = ["default", "batch", "notify"]
_task_backend_path = _TASK_BACKENDS.get(_task_backend, _task_backend)
TASKS = {"default": {"BACKEND": _task_backend_path, "QUEUES": TASK_QUEUES}}
if _task_backend_path.startswith("django_tasks_rq."):
    # The task Redis must not evict keys (maxmemory-policy noeviction): a cache Redis with an LRU
    # policy would silently drop queued jobs, so it may be a separate instance.
    CREDO_TASK_REDIS_URL = env_str("CREDO_TASK_REDIS_URL", REDIS_URL)
    if not CREDO_TASK_REDIS_URL:
        raise ImproperlyConfigured("CREDO_TASK_BACKEND=rq needs REDIS_URL or CREDO_TASK_REDIS_URL.")
    INSTALLED_APPS.append("django_rq")
    # RQ kills a job running longer than this (its work-horse process) and fails it.
    CREDO_RQ_JOB_TIMEOUT = env_int("CREDO_RQ_JOB_TIMEOUT", 3600, minimum=60)
    RQ_QUEUES = {
        name: {"URL": CREDO_TASK_REDIS_URL, "DEFAULT_TIMEOUT": CREDO_RQ_JOB_TIMEOUT}
        for name in TASK_QUEUES
    }
# A claimed task (or EOD chunk) stays its worker's while the worker renews its lease (`credo
# worker` heartbeats every lease/5 s); a claim not renewed for this long is reaped: re-queued, at
# most CREDO_TASK_MAX_ATTEMPTS claims in all, then failed with the reason.
CREDO_TASK_LEASE_SECONDS = env_int("CREDO_TASK_LEASE_SECONDS", 600, minimum=30)
CREDO_TASK_MAX_ATTEMPTS = env_int("CREDO_TASK_MAX_ATTEMPTS", 3, minimum=1, maximum=20)
# Threads of an inline close of business (`credo eod`, the runs page without a task worker):
# its chunks, then its after-close jobs, run this many at a time on PostgreSQL (0: one per CPU
# core, at most 4). Queued runs use the task workers instead.
CREDO_EOD_WORKERS = env_int("CREDO_EOD_WORKERS", 0, minimum=0, maximum=8)

# --- accounts and login security -------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "credo.accounts.backends.RoleBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env_int("CREDO_PASSWORD_MIN_LENGTH", 10, minimum=8)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "credo.accounts.validators.CharacterClassValidator"},
]
AXES_FAILURE_LIMIT = env_int("CREDO_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("CREDO_LOGIN_LOCKOUT_MINUTES", 30, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "credo.accounts.views.lockout_response"
AXES_VERBOSE = False
# Axes, the audit log and the rate limits all see the client through one function.
AXES_CLIENT_IP_CALLABLE = "credo.core.middleware.client_ip"
# Password spraying (one password tried on many usernames) from one address: after this many
# failed logins within the window that address may not try again until the window ends. Far
# above one user's typos, so a branch sharing one NAT address is not locked out by them.
CREDO_LOGIN_IP_FAILURE_LIMIT = env_int("CREDO_LOGIN_IP_FAILURE_LIMIT", 20, minimum=1)
CREDO_LOGIN_IP_WINDOW_MINUTES = env_int("CREDO_LOGIN_IP_WINDOW_MINUTES", 15, minimum=1)
# Requests per client address per minute to the login-free pages (lead web form, customer
# portal) and to the unauthenticated webhooks (e-signature callback).
CREDO_PUBLIC_RATE_PER_MINUTE = env_int("CREDO_PUBLIC_RATE_PER_MINUTE", 60, minimum=1)
CREDO_WEBHOOK_RATE_PER_MINUTE = env_int("CREDO_WEBHOOK_RATE_PER_MINUTE", 300, minimum=1)
# Exact searches by a sensitive value (phone, ID number) per user per hour for users whose field
# permission masks that field; each one is audited (sensitive.lookup, value masked). 0 (the
# default): such users cannot search by the sensitive value at all, only by name/USCC.
CREDO_SENSITIVE_LOOKUPS_PER_HOUR = env_int("CREDO_SENSITIVE_LOOKUPS_PER_HOUR", 0, minimum=0)
# The client address behind a reverse proxy: the header is believed only when the connection
# comes from one of the trusted proxies (IPs or CIDRs); otherwise REMOTE_ADDR is the client.
CREDO_TRUSTED_PROXY_HEADER = env_str("CREDO_TRUSTED_PROXY_HEADER", "X-Forwarded-For")
CREDO_TRUSTED_PROXIES = env_list("CREDO_TRUSTED_PROXIES", [])
for _proxy in CREDO_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"Environment variable CREDO_TRUSTED_PROXIES: {_proxy!r} is not an IP address or CIDR."
        ) from exc
SESSION_IDLE_TIMEOUT = env_int("CREDO_SESSION_IDLE_MINUTES", 30, minimum=1) * 60  # seconds
SESSION_COOKIE_AGE = env_int("CREDO_SESSION_MAX_HOURS", 12, minimum=1) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CREDO_REQUIRE_2FA = env_bool("CREDO_REQUIRE_2FA", False)
OTP_TOTP_ISSUER = env_str("CREDO_OTP_ISSUER", "Credo")

SECURE_COOKIES = env_bool("CREDO_SECURE_COOKIES", ENVIRONMENT == "production")
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("CREDO_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HSTS: browsers refuse plain HTTP to this host for a year once they saw it over HTTPS. On by
# default in production with secure cookies (i.e. served over TLS); off in development/test.
SECURE_HSTS_SECONDS = env_int(
    "CREDO_HSTS_SECONDS",
    31536000 if ENVIRONMENT == "production" and SECURE_COOKIES else 0,
    minimum=0,
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("CREDO_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("CREDO_HSTS_PRELOAD", False)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env_str("CREDO_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Uploaded documents live outside the web root and are served only through permission checks.
MEDIA_ROOT = DATA_DIR / "files"

# --- API ------------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 20
API_IDEMPOTENCY_TTL_HOURS = env_int("CREDO_IDEMPOTENCY_TTL_HOURS", 24, minimum=1)
# Longest lifetime of a new API token (days); tokens that never expire cannot be created.
CREDO_API_TOKEN_MAX_DAYS = env_int("CREDO_API_TOKEN_MAX_DAYS", 365, minimum=1, maximum=3650)

# --- logs, error reporting, health and metrics (docs/deployment.md "健康检查与监控指标") --------
# CREDO_LOG_FORMAT=json: one JSON object per line (time, level, logger, message, request_id,
# user_id). CREDO_SENTRY_DSN: errors to Sentry (extra `credo[sentry]`), no personal data.
from credo.core.logging_setup import init_sentry, logging_config  # noqa: E402

LOGGING = logging_config(env_str("CREDO_LOG_FORMAT", "plain"), env_str("CREDO_LOG_LEVEL", "INFO"))
CREDO_SENTRY_DSN = env_str("CREDO_SENTRY_DSN", "")
init_sentry(
    CREDO_SENTRY_DSN,
    environment=env_str("CREDO_SENTRY_ENVIRONMENT", ENVIRONMENT),
    traces_sample_rate=env_float("CREDO_SENTRY_TRACES_SAMPLE_RATE", 0.0, minimum=0.0),
)
# /metrics: closed (404) unless a bearer token or client networks are configured.
CREDO_METRICS_TOKEN = env_str("CREDO_METRICS_TOKEN", "")
CREDO_METRICS_ALLOW_CIDRS = env_list("CREDO_METRICS_ALLOW_CIDRS", [])
for _cidr in CREDO_METRICS_ALLOW_CIDRS:
    try:
        ipaddress.ip_network(_cidr, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"Environment variable CREDO_METRICS_ALLOW_CIDRS: {_cidr!r} is not an IP or CIDR."
        ) from exc
# /readyz answers 503 when the scheduler's last sign of life is older than this.
CREDO_SCHEDULER_MAX_AGE_SECONDS = env_int("CREDO_SCHEDULER_MAX_AGE_SECONDS", 600, minimum=30)

# Axes locks by username only: branch staff usually share one NAT address, so locking by IP
# would lock a whole branch out after one person's typos.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# --- Business operations ---------------------------------------------------------------------
# The lender's identity printed on contracts, letters and notices: legal name, 统一社会信用代码
# and registered address. `credo check --deploy` fails until all three are set.
CREDO_ORG_NAME = env_str("CREDO_ORG_NAME", "")
CREDO_ORG_USCC = env_str("CREDO_ORG_USCC", "")
CREDO_ORG_ADDRESS = env_str("CREDO_ORG_ADDRESS", "")
# Application documents, contracts and letters: private files, outside the web root, served
# only through permission-checked, audited views.
CREDO_DOCUMENT_ROOT = Path(env_str("CREDO_DOCUMENT_ROOT", str(DATA_DIR / "documents"))).resolve()
# Uploaded images larger than this (width × height) are refused before decoding: a small PNG can
# declare billions of pixels (a decompression bomb).
CREDO_MAX_IMAGE_PIXELS = env_int("CREDO_MAX_IMAGE_MEGAPIXELS", 40, minimum=1) * 1_000_000
CREDO_ESIGN_PROVIDER = env_str("CREDO_ESIGN_PROVIDER", "simulated")  # simulated|esign|fadada
# HMAC secret of the simulated provider's callbacks (derived from the secret key when unset).
CREDO_ESIGN_SECRET = env_str("CREDO_ESIGN_SECRET", "")
# Real vendors (docs/integrations.md 电子签章): e签宝 V3 and 法大大 FASC 5.x; secrets also *_FILE.
CREDO_ESIGN_NOTIFY_URL = env_str("CREDO_ESIGN_NOTIFY_URL", "")
CREDO_ESIGN_TIMEOUT = env_int("CREDO_ESIGN_TIMEOUT", 10, minimum=1, maximum=120)
CREDO_ESIGN_CALLBACK_MAX_AGE = env_int("CREDO_ESIGN_CALLBACK_MAX_AGE", 86400, minimum=0)
CREDO_EQB_APP_ID = env_str("CREDO_EQB_APP_ID", "")
CREDO_EQB_APP_SECRET = env_str("CREDO_EQB_APP_SECRET", "")
CREDO_EQB_BASE_URL = env_str("CREDO_EQB_BASE_URL", "https://openapi.esign.cn")
CREDO_FADADA_APP_ID = env_str("CREDO_FADADA_APP_ID", "")
CREDO_FADADA_APP_SECRET = env_str("CREDO_FADADA_APP_SECRET", "")
CREDO_FADADA_OPEN_CORP_ID = env_str("CREDO_FADADA_OPEN_CORP_ID", "")
CREDO_FADADA_BASE_URL = env_str("CREDO_FADADA_BASE_URL", "https://api.fadada.com/api/v5")
# 证照识别 OCR: provider (simulated = demo only), credentials, endpoint (tests: a local fake),
# timeout (s), recognitions per user per minute, largest image (MB).
CREDO_OCR_PROVIDER = env_choice(
    "CREDO_OCR_PROVIDER",
    ("simulated", "tencent", "aliyun", "off"),
    "off" if ENVIRONMENT == "production" else "simulated",
)
CREDO_OCR_SECRET_ID = env_str("CREDO_OCR_SECRET_ID", "")
CREDO_OCR_SECRET_KEY = env_str("CREDO_OCR_SECRET_KEY", "")
CREDO_OCR_ENDPOINT = env_str("CREDO_OCR_ENDPOINT", "")
CREDO_OCR_REGION = env_str("CREDO_OCR_REGION", "ap-guangzhou")
CREDO_OCR_TIMEOUT = env_int("CREDO_OCR_TIMEOUT", 10, minimum=1, maximum=60)
CREDO_OCR_RATE_PER_MINUTE = env_int("CREDO_OCR_RATE_PER_MINUTE", 20, minimum=1)
CREDO_OCR_MAX_MB = env_int("CREDO_OCR_MAX_MB", 5, minimum=1, maximum=10)
CREDO_CONTRACT_EXPIRE_DAYS = env_int("CREDO_CONTRACT_EXPIRE_DAYS", 15, minimum=1)
CREDO_BUREAU_REUSE_DAYS = env_int("CREDO_BUREAU_REUSE_DAYS", 30, minimum=0)
# Lending: a disbursement may be value-dated at most this many days before today (0 = today
# only); further back needs the lending.backdate_disbursement permission, and never before the
# contract signature / application approval (a direct loan: its creation date).
CREDO_DISBURSE_BACKDATE_DAYS = env_int("CREDO_DISBURSE_BACKDATE_DAYS", 0, minimum=0)


def _caps(name: str, default: dict[str, int]) -> dict[str, int]:
    raw = env_list(name, [])
    if not raw:
        return default
    caps: dict[str, int] = {}
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit():
            raise ImproperlyConfigured(
                f"Environment variable {name} must look like collection=3,marketing=2, got {item!r}."
            )
        caps[key.strip()] = int(value)
    return caps


# Notifications: quiet hours (deferred, not dropped) apply to these categories; daily caps per
# recipient and category; retries with back-off (minutes) before a message is marked failed.
CREDO_NOTIFY_QUIET_HOURS = env_str("CREDO_NOTIFY_QUIET_HOURS", "22:00-08:00")
CREDO_NOTIFY_QUIET_CATEGORIES = env_list(
    "CREDO_NOTIFY_QUIET_CATEGORIES", ["marketing", "collection"]
)
CREDO_NOTIFY_DAILY_CAPS = _caps("CREDO_NOTIFY_DAILY_CAPS", {"collection": 3, "marketing": 2})
CREDO_NOTIFY_MAX_ATTEMPTS = env_int("CREDO_NOTIFY_MAX_ATTEMPTS", 5, minimum=1, maximum=20)
CREDO_NOTIFY_BACKOFF_MINUTES = [
    int(v) for v in env_list("CREDO_NOTIFY_BACKOFF_MINUTES", ["1", "5", "25", "125"]) if v.isdigit()
]
# Without a configured channel, record what would be sent (default outside production).
CREDO_NOTIFY_SIMULATE = env_bool("CREDO_NOTIFY_SIMULATE", ENVIRONMENT != "production")
# Outbound webhooks: defaults of a new endpoint (timeout s, attempts, auto-disable) and back-off.
CREDO_WEBHOOK_TIMEOUT = env_int("CREDO_WEBHOOK_TIMEOUT", 10, minimum=1, maximum=60)
CREDO_WEBHOOK_MAX_ATTEMPTS = env_int("CREDO_WEBHOOK_MAX_ATTEMPTS", 6, minimum=1, maximum=20)
CREDO_WEBHOOK_DISABLE_AFTER = env_int("CREDO_WEBHOOK_DISABLE_AFTER", 10, minimum=1, maximum=1000)
CREDO_WEBHOOK_BACKOFF_MINUTES = [
    int(v)
    for v in env_list("CREDO_WEBHOOK_BACKOFF_MINUTES", ["1", "5", "30", "120", "720"])
    if v.isdigit()
]
# Collections compliance guardrails (催收合规): no contact in this window; calls per number per day.
CREDO_COLLECTION_QUIET_HOURS = env_str("CREDO_COLLECTION_QUIET_HOURS", "22:00-08:00")
CREDO_COLLECTION_DAILY_CAP = env_int("CREDO_COLLECTION_DAILY_CAP", 6, minimum=1)
# Monitoring: alerts close themselves when a later run no longer sees the condition; external
# events (litigation, negative news) count as "new" for this many days.
CREDO_MONITORING_AUTO_CLOSE = env_bool("CREDO_MONITORING_AUTO_CLOSE", True)
CREDO_MONITORING_EXTERNAL_DAYS = env_int("CREDO_MONITORING_EXTERNAL_DAYS", 30, minimum=1)

# --- borrower self-service (/b/, credo.borrower; docs: borrower section) -------------------
CREDO_BORROWER_OTP_TTL_SECONDS = env_int("CREDO_BORROWER_OTP_TTL_SECONDS", 300, minimum=60)
CREDO_BORROWER_OTP_MAX_ATTEMPTS = env_int("CREDO_BORROWER_OTP_MAX_ATTEMPTS", 5, minimum=1)
CREDO_BORROWER_OTP_RESEND_SECONDS = env_int("CREDO_BORROWER_OTP_RESEND_SECONDS", 60, minimum=1)
CREDO_BORROWER_OTP_PER_NUMBER_HOUR = env_int("CREDO_BORROWER_OTP_PER_NUMBER_HOUR", 5, minimum=1)
CREDO_BORROWER_OTP_PER_IP_HOUR = env_int("CREDO_BORROWER_OTP_PER_IP_HOUR", 20, minimum=1)
CREDO_BORROWER_VERIFY_PER_IP_HOUR = env_int("CREDO_BORROWER_VERIFY_PER_IP_HOUR", 60, minimum=1)
CREDO_BORROWER_LOCKOUT_FAILURES = env_int("CREDO_BORROWER_LOCKOUT_FAILURES", 10, minimum=1)
CREDO_BORROWER_LOCKOUT_MINUTES = env_int("CREDO_BORROWER_LOCKOUT_MINUTES", 30, minimum=1)
CREDO_BORROWER_SESSION_IDLE_MINUTES = env_int("CREDO_BORROWER_SESSION_IDLE_MINUTES", 15, minimum=1)
CREDO_BORROWER_SESSION_MAX_HOURS = env_int("CREDO_BORROWER_SESSION_MAX_HOURS", 2, minimum=1)
CREDO_BORROWER_COOKIE = env_str("CREDO_BORROWER_COOKIE", "credo_borrower")
CREDO_BORROWER_PRIVACY_VERSION = env_str("CREDO_BORROWER_PRIVACY_VERSION", "2026-01")
CREDO_BORROWER_REPAY_ACCOUNT_NAME = env_str("CREDO_BORROWER_REPAY_ACCOUNT_NAME", "")
CREDO_BORROWER_REPAY_BANK = env_str("CREDO_BORROWER_REPAY_BANK", "")
CREDO_BORROWER_REPAY_ACCOUNT_NO = env_str("CREDO_BORROWER_REPAY_ACCOUNT_NO", "")
CREDO_BORROWER_REPAY_QR = env_str("CREDO_BORROWER_REPAY_QR", "")  # text/link shown as a QR code
CREDO_BORROWER_SERVICE_PHONE = env_str("CREDO_BORROWER_SERVICE_PHONE", "")

# --- scorecard ------------------------------------------------------------------------------
# Monthly PSI of application scores above this → alert; largest training CSV accepted (MB).
CREDO_SCORECARD_PSI_ALERT = env_float("CREDO_SCORECARD_PSI_ALERT", 0.25, minimum=0.0)
CREDO_SCORECARD_MAX_UPLOAD_MB = env_int("CREDO_SCORECARD_MAX_UPLOAD_MB", 200, minimum=1)
