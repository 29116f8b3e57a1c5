"""Pages: the self-hosted API reference and API token management."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from credo.api.api import api
from credo.api.errors import ApiError
from credo.api.forms import TokenCreateForm
from credo.api.models import SCOPES, ApiToken
from credo.api.selectors import api_endpoints, tokens_visible_to
from credo.api.services import token_create, token_revoke

PAGE_SIZE = 50


@login_required
def docs(request: HttpRequest) -> HttpResponse:
    schema = api.get_openapi_schema()
    return render(
        request,
        "apiui/docs.html",
        {
            "schema": schema,
            "endpoints": api_endpoints(schema),
            "openapi_url": f"{api.get_root_path({})}openapi.json",
            "scopes": SCOPES,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    created: tuple[ApiToken, str] | None = None
    form = TokenCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_in_days=form.cleaned_expiry(),
                actor=request.user,
            )
        except ApiError as exc:
            form.add_error(None, exc.message)
        else:
            form = TokenCreateForm()
    page = Paginator(tokens_visible_to(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    response = render(
        request,
        "apiui/token_list.html",
        {
            "form": form,
            "page": page,
            "created": created[0] if created else None,
            "plaintext": created[1] if created else "",
            "show_owner": request.user.has_perm("accounts.manage_users"),
            "scopes": SCOPES,
        },
    )
    if created:
        response["Cache-Control"] = "no-store"  # the plaintext must not linger in caches
    return response


@login_required
@require_http_methods(["GET", "POST"])
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(tokens_visible_to(request.user), pk=pk)
    if token.revoked_at is not None:
        raise Http404
    if request.method == "POST":
        token_revoke(token=token, actor=request.user)
        messages.success(request, _("令牌“%(name)s”已吊销") % {"name": token.name})
        return redirect("apiui:token_list")
    return render(request, "apiui/token_revoke.html", {"token": token})


def api_not_found(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    """JSON 404 for unknown /api/ paths (wire after ``api.urls``: ``re_path(r"^api/", ...)``)."""
    from django.http import JsonResponse

    from credo.api.errors import default_error, error_body

    code, message = default_error(404)
    return JsonResponse(
        error_body(code, message), status=404, json_dumps_params={"ensure_ascii": False}
    )
