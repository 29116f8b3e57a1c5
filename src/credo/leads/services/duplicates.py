"""Duplicate detection: an earlier lead, an existing customer."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from credo.core.crypto import blind_index
from credo.customers.models import Customer
from credo.leads.models import Lead
from credo.leads.services.common import (
    DUPLICATE_WINDOW,
)


# --- duplicates ----------------------------------------------------------------------------------
def find_original(
    *,
    phone: str = "",
    uscc: str = "",
    exclude_pk: int | None = None,
    now: dt.datetime | None = None,
) -> Lead | None:
    """The earliest non-duplicate lead of the last 90 days with the same phone or USCC."""
    cond = Q()
    if phone:
        cond |= Q(phone_bidx=blind_index(phone, kind="phone"))
    if uscc:
        cond |= Q(uscc=uscc)
    if not cond:
        return None
    since = (now or timezone.now()) - DUPLICATE_WINDOW
    qs = Lead.objects.filter(cond, created_at__gte=since, is_duplicate=False)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.order_by("id").first()


def find_customer(lead: Lead) -> Customer | None:
    """The customer that already holds this lead's USCC or phone (the converted one first)."""
    if lead.customer_id:
        return lead.customer
    if lead.uscc:
        found = Customer.objects.filter(uscc=lead.uscc).first()
        if found is not None:
            return found
    if lead.phone:
        return Customer.objects.filter(phone_bidx=blind_index(lead.phone, kind="phone")).first()
    return None
