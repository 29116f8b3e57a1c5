"""Contract reads, scoped through the customer's data scope."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.accounts.scope import can_access, scope_queryset
from credo.contracts.models import Contract, ContractTemplate
from credo.core.audit.services import audit_record


def contract_for(subject: Any) -> Contract | None:
    """The latest contract of a business object (not scoped: the caller already checked the
    subject)."""
    meta = subject._meta
    return (
        Contract.objects.filter(
            subject_type=f"{meta.app_label}.{meta.model_name}", subject_id=str(subject.pk)
        )
        .select_related("customer", "template")
        .order_by("-id")
        .first()
    )


def loan_value_date_floors(loan: Any, origin: Any) -> list[Any]:
    """Lending hook: a loan originated from a contract's subject (the application) may not be
    value-dated before the contract was signed."""
    from credo.lending.selectors import ValueDateFloor

    if origin is None:
        return []
    meta = origin._meta
    signed_at = (
        Contract.objects.filter(
            subject_type=f"{meta.app_label}.{meta.model_name}",
            subject_id=str(origin.pk),
            signed_at__isnull=False,
        )
        .order_by("-signed_at")
        .values_list("signed_at", flat=True)
        .first()
    )
    if signed_at is None:
        return []
    return [ValueDateFloor(timezone.localdate(signed_at), _("合同签署日"))]


def contracts_for(user: Any) -> QuerySet[Contract]:
    return scope_queryset(
        Contract.objects.select_related("customer", "template"),
        user,
        owner_field="customer__owner",
        team_field="customer__team",
        branch_field="customer__branch",
    )


def contract_get(user: Any, pk: Any) -> Contract:
    """The contract if its customer is inside ``user``'s scope; otherwise 404 (audited)."""
    try:
        contract = Contract.objects.select_related("customer", "template").get(pk=int(pk))
    except (Contract.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not can_access(contract.customer, user):
        with transaction.atomic():
            audit_record(action="contracts.access_denied", actor=user, obj=contract)
        raise Http404
    return contract


def template_list() -> QuerySet[ContractTemplate]:
    return ContractTemplate.objects.filter(is_current=True).order_by("code")


def template_versions(code: str) -> QuerySet[ContractTemplate]:
    return ContractTemplate.objects.filter(code=code).order_by("-version")
