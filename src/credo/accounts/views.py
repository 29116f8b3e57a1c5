from __future__ import annotations

from typing import Any

from django.contrib.auth import logout
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST


class CredoLoginView(LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("accounts:login")


def lockout_response(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    return render(request, "accounts/locked.html", status=403)


def otp_verify(request: HttpRequest) -> HttpResponse:  # filled by the accounts work
    return redirect("core:home")


def otp_setup(request: HttpRequest) -> HttpResponse:
    return redirect("core:home")
