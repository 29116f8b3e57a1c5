"""Every write to customers: keyword-only, one transaction, audited, on the timeline.

Submodules: ``records`` (create, update, custom fields, reassign, duplicates), ``parties``
(contacts, relations) and ``risk`` (risk flags, authorizations). This package re-exports the
public services.
"""

from __future__ import annotations

from credo.customers.services.parties import (
    PERSON_ONLY_FROM,
    SPOUSE_KINDS,
    contact_add,
    relation_add,
    relation_remove,
)
from credo.customers.services.records import (
    AUDITED_FIELDS,
    customer_create,
    customer_reassign,
    customer_update,
    customer_update_custom,
    find_duplicate,
)
from credo.customers.services.risk import RISK_FLAGS, authorization_record, risk_flag_set

__all__ = [
    "AUDITED_FIELDS",
    "PERSON_ONLY_FROM",
    "RISK_FLAGS",
    "SPOUSE_KINDS",
    "authorization_record",
    "contact_add",
    "customer_create",
    "customer_reassign",
    "customer_update",
    "customer_update_custom",
    "find_duplicate",
    "relation_add",
    "relation_remove",
    "risk_flag_set",
]
