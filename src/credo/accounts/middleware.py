"""Session idle timeout and (optional) mandatory two-factor login."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

IDLE_KEY = "credo_last_seen"
IDLE_WRITE_SECONDS = 60


class SessionIdleTimeoutMiddleware:
    """Log out a session that has been idle longer than CREDO_SESSION_IDLE_MINUTES."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            last = request.session.get(IDLE_KEY)
            if last is not None and now - int(last) > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                return redirect(f"{reverse(settings.LOGIN_URL)}?next={request.path}&expired=1")
            # Written at most once a minute: a session save on every page was a database
            # write (UPDATE django_session) per request; the timeout is exact to a minute.
            if last is None or now - int(last) >= IDLE_WRITE_SECONDS:
                request.session[IDLE_KEY] = now
        return self.get_response(request)


class OTPRequiredMiddleware:
    """When 2FA is required (globally, or because the user enrolled a device), a password-only
    session may reach only the 2FA pages, login/logout and static files (not the user
    administration or profile pages, which also live under /accounts/)."""

    EXEMPT_PREFIXES = (
        "/accounts/login/",
        "/accounts/logout/",
        "/accounts/2fa/",
        "/static/",
        "/i18n/",
        "/api/",
        "/healthz",
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(self.EXEMPT_PREFIXES)
            and not user.is_verified()
        ):
            from credo.accounts.usercache import authz

            if authz(user)["otp"]:  # user_has_device, cached with the user's permissions
                return redirect(f"{reverse('accounts:otp_verify')}?next={request.path}")
            if settings.CREDO_REQUIRE_2FA:
                return redirect(reverse("accounts:otp_setup"))
        return self.get_response(request)
