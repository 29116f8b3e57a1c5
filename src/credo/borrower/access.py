"""The borrower's own session, kept apart from the staff one.

Borrower pages never look at ``request.user`` or ``request.session`` (the staff login): they read
the borrower cookie (``CREDO_BORROWER_COOKIE``, path ``/b/`` so the browser does not even send it
to staff pages) and resolve it to a :class:`~credo.borrower.models.BorrowerSession`. While a
borrower view runs, ``request.user`` is anonymous and the audit context has no user, so a staff
login in the same browser can neither act as the borrower nor be recorded as the actor. Staff
pages keep using django.contrib.auth, which knows nothing of the borrower cookie.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from credo.borrower import auth, conf
from credo.borrower.services import Borrower, privacy_pending
from credo.core.context import (
    RequestInfo,
    current_request_info,
    reset_request_info,
    set_request_info,
)

View = Callable[..., HttpResponse]


def cookie_name() -> str:
    return str(conf.get("CREDO_BORROWER_COOKIE"))


def cookie_path() -> str:
    return reverse("borrower:home")


def set_session_cookie(response: HttpResponse, token: str) -> None:
    response.set_cookie(
        cookie_name(),
        token,
        max_age=int(conf.get("CREDO_BORROWER_SESSION_MAX_HOURS")) * 3600,
        path=cookie_path(),
        secure=bool(getattr(settings, "SESSION_COOKIE_SECURE", False)),
        httponly=True,
        samesite="Lax",
    )


def clear_session_cookie(response: HttpResponse) -> None:
    response.delete_cookie(cookie_name(), path=cookie_path(), samesite="Lax")


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


def _isolated(view: View, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    info = current_request_info()
    token = set_request_info(RequestInfo(user=None, ip=info.ip, request_id=info.request_id))
    request.user = AnonymousUser()  # type: ignore[assignment]
    try:
        return _private(view(request, *args, **kwargs))
    finally:
        reset_request_info(token)


def borrower_public(view: View) -> View:
    """Login pages: no borrower needed, staff identity hidden."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _isolated(view, request, *args, **kwargs)

    return wrapper


def safe_next(request: HttpRequest, default: str = "") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith(cookie_path()) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default or reverse("borrower:home")


def borrower_required(view: View | None = None, *, privacy: bool = True) -> Any:
    """A signed-in borrower (``request.borrower``); else the borrower login page. With
    ``privacy`` the privacy notice must have been accepted first."""

    def decorate(inner: View) -> View:
        @functools.wraps(inner)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            def run(req: HttpRequest, *a: Any, **kw: Any) -> HttpResponse:
                session = auth.session_resolve(req.COOKIES.get(cookie_name()))
                if session is None:
                    response = redirect(f"{reverse('borrower:login')}?next={req.path}")
                    if cookie_name() in req.COOKIES:
                        clear_session_cookie(response)
                    return response
                borrower = Borrower(session=session, customer_ids=list(session.customer_ids))
                req.borrower = borrower  # type: ignore[attr-defined]
                if privacy and privacy_pending(borrower):
                    return redirect(f"{reverse('borrower:privacy')}?next={req.path}")
                return inner(req, *a, **kw)

            return _isolated(run, request, *args, **kwargs)

        return wrapper

    if view is not None:
        return decorate(view)
    return decorate
