"""Reads of applications. Every list goes through the user's data scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from credo.accounts.scope import get_with_access, scope_queryset
from credo.core.audit.services import audit_record
from credo.customers.models import CustomerEvent
from credo.origination.models import Application, Document


def applications_for(user: Any) -> QuerySet[Application]:
    return scope_queryset(Application.objects.all(), user)


def application_list(user: Any, params: Mapping[str, Any] | None = None) -> QuerySet[Application]:
    """Filters: ``status``, ``q`` (number or customer name), ``product`` (code), ``mine``,
    ``stuck`` (days without a change, open statuses only)."""
    params = params or {}
    qs = applications_for(user).select_related("customer", "owner", "product_version__product")
    status = params.get("status")
    if status in Application.Status.values:
        qs = qs.filter(status=status)
    q = str(params.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(number__icontains=q) | Q(customer__name__icontains=q))
    product = str(params.get("product") or "").strip()
    if product:
        qs = qs.filter(product_version__product__code=product)
    if params.get("mine") in ("1", "on", "true", True):
        qs = qs.filter(owner=user)
    stuck = str(params.get("stuck") or "")
    if stuck.isdecimal() and 0 < int(stuck) <= 3650:  # the 工作台's "停滞的申请" card
        qs = qs.filter(stuck_q(int(stuck)))
    return qs.order_by("-id")


#: Application statuses still moving towards a loan (a stuck one has not changed for days).
OPEN_STATUSES = (
    Application.Status.DRAFT,
    Application.Status.SUBMITTED,
    Application.Status.IN_APPROVAL,
    Application.Status.RETURNED,
    Application.Status.APPROVED,
    Application.Status.CONTRACT_SENT,
    Application.Status.SIGNED,
    Application.Status.LOAN_CREATED,
)


def stuck_q(days: int) -> Q:
    """Open applications untouched for ``days`` days (``updated_at`` moves on every change)."""
    since = timezone.now() - dt.timedelta(days=days)
    return Q(status__in=OPEN_STATUSES, updated_at__lt=since)


def application_get(user: Any, pk: Any) -> Application:
    """The application if inside the user's scope; otherwise 404 (the attempt is audited)."""
    return _application_get(
        user,
        pk,
        Application.objects.select_related(
            "customer", "owner", "team", "branch", "product_version__product", "loan", "created_by"
        ),
    )


def application_for_approval(user: Any, pk: Any) -> Application:
    """``application_get`` for the approval task page's panel, in one query: with what the
    panel shows (the customer, the product, the manager, the admission model's name — not the
    evaluation's record or the model's JDM content) and ``customer_in_scope``, whether the user
    may open the customer (and so its credit report)."""
    from credo.customers.selectors import customers_for

    qs = (
        Application.objects.select_related(
            "customer", "owner", "product_version__product", "admission_evaluation__version__model"
        )
        .defer(
            "admission_evaluation__input",
            "admission_evaluation__output",
            "admission_evaluation__reasons",
            "admission_evaluation__version__content",
        )
        .annotate(customer_in_scope=Exists(customers_for(user).filter(pk=OuterRef("customer_id"))))
    )
    return _application_get(user, pk, qs)


def _application_get(user: Any, pk: Any, qs: QuerySet[Application]) -> Application:
    try:
        # the scope check in the row's own query (see accounts.scope.get_with_access)
        app, allowed = get_with_access(qs, user, int(pk))
    except (Application.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not allowed and not is_approver(app, user):
        with transaction.atomic():
            audit_record(
                action="application.access_denied",
                actor=user,
                obj=app,
                object_repr=f"application #{app.pk}",
            )
        raise Http404
    return app


def is_approver(app: Application, user: Any) -> bool:
    """Approvers see the application they are (or were) asked to decide, whatever their data
    scope: a branch manager of another team must still be able to read what they approve."""
    if not getattr(user, "is_authenticated", False):
        return False
    from credo.approvals.models import ApprovalTask

    mine = Q(assignee=user) | Q(decided_by=user)
    codes: set[str] = getattr(user, "role_codes", set())
    if codes:
        mine |= Q(assignee__isnull=True, role__in=codes)
    return ApprovalTask.objects.filter(
        mine,
        instance__subject_type="origination.application",
        instance__subject_id=str(app.pk),
    ).exists()


def document_get(user: Any, pk: Any) -> Document:
    try:
        doc = Document.objects.select_related("application").get(pk=int(pk))
    except (Document.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    application_get(user, doc.application_id)
    return doc


def application_events(app: Application) -> QuerySet[CustomerEvent]:
    return (
        app.customer.events.filter(
            source="origination", object_type="origination.application", object_id=str(app.pk)
        )
        .select_related("actor")
        .order_by("-occurred_at", "-id")
    )


def open_notice(app: Application) -> Any:
    return app.notices.filter(resolved_at__isnull=True).order_by("-id").first()
