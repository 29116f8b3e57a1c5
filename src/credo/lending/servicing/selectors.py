"""Reads of the servicing approvals: request lists (in the user's data scope) and the class
history of a loan."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from credo.accounts.scope import scope_queryset
from credo.lending.servicing.models import ClassificationRequest, RequestStatus, WaiverRequest

SCOPE = {"owner_field": "loan__owner", "team_field": "loan__team", "branch_field": "loan__branch"}


def _filtered(qs: QuerySet[Any], user: Any, params: Mapping[str, Any]) -> QuerySet[Any]:
    qs = scope_queryset(qs, user, **SCOPE).select_related(
        "loan__customer", "requested_by", "decided_by"
    )
    status = params.get("status", RequestStatus.REQUESTED)
    if status in RequestStatus.values:
        qs = qs.filter(status=status)
    q = str(params.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(loan__number__icontains=q) | Q(loan__customer__name__icontains=q))
    if params.get("mine") in ("1", "on", "true"):
        qs = qs.filter(requested_by=user)
    return qs.order_by("-id")


def waiver_requests(user: Any, params: Mapping[str, Any] | None = None) -> QuerySet[WaiverRequest]:
    """Filters: ``status`` (default 待审批; ``all`` for every status), ``q`` (loan number or
    customer name), ``mine`` (requested by the user)."""
    return _filtered(WaiverRequest.objects.all(), user, params or {})


def class_requests(
    user: Any, params: Mapping[str, Any] | None = None
) -> QuerySet[ClassificationRequest]:
    return _filtered(ClassificationRequest.objects.all(), user, params or {})


def _get(model: Any, user: Any, pk: Any) -> Any:
    try:
        return (
            scope_queryset(model.objects.all(), user, **SCOPE)
            .select_related("loan__customer", "requested_by", "decided_by")
            .get(pk=int(pk))
        )
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def waiver_request_get(user: Any, pk: Any) -> WaiverRequest:
    return _get(WaiverRequest, user, pk)  # type: ignore[no-any-return]


def class_request_get(user: Any, pk: Any) -> ClassificationRequest:
    return _get(ClassificationRequest, user, pk)  # type: ignore[no-any-return]


def history_model() -> Any | None:
    try:
        return apps.get_model("lending", "LoanClassHistory")
    except LookupError:
        return None


def reason_label(value: str) -> str:
    labels = {
        "auto": _("自动"),
        "manual": _("人工"),
        "restructure": _("重组"),
        "recompute": _("重算"),
        "replay": _("重算"),
    }
    return labels.get(value, value)


def class_history(loan: Any) -> QuerySet[Any] | list[Any]:
    """The loan's five-level class changes, newest first ([] until the history model exists)."""
    model = history_model()
    if model is None:
        return []
    return model.objects.filter(loan=loan).order_by("-date", "-id")
