"""Login lockout: per username (django-axes) and per client address (failed-login rate).

Axes locks a username after ``CREDO_LOGIN_FAILURE_LIMIT`` failures. That does not stop one
password being tried on many usernames from one address, so failed logins are also counted per
client address (``credo.core.middleware.client_ip``) and an address over
``CREDO_LOGIN_IP_FAILURE_LIMIT`` within the window may not try again until the window ends.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from credo.core.middleware import client_ip
from credo.core.ratelimit import Rate, rate_count, rate_hit

LOGIN_BUCKET = "login_failures"


def login_ip_rate() -> Rate:
    return Rate(settings.CREDO_LOGIN_IP_FAILURE_LIMIT, settings.CREDO_LOGIN_IP_WINDOW_MINUTES * 60)


def login_failure_count(request: HttpRequest) -> int:
    """Count one failed login of the request's client address."""
    return rate_hit(LOGIN_BUCKET, client_ip(request) or "unknown", login_ip_rate())


def login_ip_blocked(request: HttpRequest) -> bool:
    """True when the client address used up its failed logins for the current window."""
    return rate_count(LOGIN_BUCKET, client_ip(request) or "unknown") >= login_ip_rate().limit


def user_locked_out(user: Any, request: HttpRequest) -> bool:
    """Whether axes currently locks ``user``'s username (failures within the cool-off)."""
    if not getattr(settings, "AXES_ENABLED", True):
        return False
    from axes.handlers.proxy import AxesProxyHandler

    return bool(AxesProxyHandler.is_locked(request, {"username": user.get_username()}))
