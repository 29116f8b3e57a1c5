from __future__ import annotations

from typing import Any

from django.db import transaction

from credo.core.audit.services import audit_record
from credo.core.customfields.models import CustomField

SNAPSHOT = [
    "entity",
    "key",
    "label",
    "field_type",
    "options",
    "required",
    "min_value",
    "max_value",
    "regex",
    "group",
    "order",
    "filterable",
    "show_in_list",
    "is_active",
]


def _snap(field: CustomField) -> dict[str, Any]:
    return {k: getattr(field, k) for k in SNAPSHOT}


@transaction.atomic
def custom_field_save(*, form: Any, actor: Any) -> CustomField:
    """Create or update a definition from a validated form (values in entities untouched)."""
    before = _snap(form.instance) if form.instance.pk else {}
    created = form.instance.pk is None
    field = form.save()
    after = _snap(field)
    audit_record(
        action="customfield.create" if created else "customfield.update",
        actor=actor,
        obj=field,
        changes={k: [before.get(k), v] for k, v in after.items() if before.get(k) != v},
    )
    return field


def has_values(field: CustomField) -> bool:
    """Whether any record stores a value for this field (then its type is frozen)."""
    from django.apps import apps

    model_by_entity = {"customer": "customers.Customer"}
    label = model_by_entity.get(field.entity)
    if label is None:
        return False
    model = apps.get_model(label)
    return model.objects.filter(**{"custom__has_key": field.key}).exists()
