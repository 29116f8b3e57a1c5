"""Field-level permissions for sensitive fields (ID numbers, phones, bank accounts, ...).

Every field in :func:`credo.core.sensitive.sensitive_fields` is masked unless one of the user's
roles has a :class:`~credo.accounts.models.FieldPermission` row for it. Showing a clear value is
audited (``sensitive.read``).
"""

from __future__ import annotations

import contextlib
from typing import Any, Literal

from django.db.models import Model

from credo.accounts.models import FieldPermission
from credo.core.audit.services import audit_record
from credo.core.masking import mask
from credo.core.sensitive import field_key as make_field_key
from credo.core.sensitive import get_sensitive_field

Access = Literal["edit", "view", "masked"]

EDIT: Access = "edit"
VIEW: Access = "view"
MASKED: Access = "masked"

_CACHE_ATTR = "_credo_field_access"


def _grants(user: Any) -> dict[str, Access]:
    """All explicit grants of the user's roles, loaded once per user object (= per request)."""
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    grants: dict[str, Access] = {}
    rows = FieldPermission.objects.filter(role__users=user).values_list(
        "field_key", "can_view", "can_edit"
    )
    for key, can_view, can_edit in rows:
        if can_edit:
            grants[key] = EDIT
        elif can_view and grants.get(key) != EDIT:
            grants[key] = VIEW
    with contextlib.suppress(AttributeError):  # exotic user objects without __dict__
        setattr(user, _CACHE_ATTR, grants)
    return grants


def clear_cache(user: Any) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def field_access(user: Any, field_key: str) -> Access:
    """``"edit"``, ``"view"`` or ``"masked"`` for ``field_key`` ("app.model.field").

    Non-sensitive fields are always ``"edit"``; sensitive ones are masked unless granted. A
    superuser sees and edits everything; an anonymous or inactive user sees masks only.
    """
    if get_sensitive_field(field_key) is None:
        return EDIT
    if user is None or not getattr(user, "is_authenticated", False):
        return MASKED
    if not getattr(user, "is_active", False):
        return MASKED
    if getattr(user, "is_superuser", False):
        return EDIT
    return _grants(user).get(field_key, MASKED)


def can_view_clear(user: Any, field_key: str) -> bool:
    return field_access(user, field_key) in (EDIT, VIEW)


def can_edit_field(user: Any, field_key: str) -> bool:
    return field_access(user, field_key) == EDIT


def masked_value(obj: Model, field_name: str) -> str:
    """The masked form of a sensitive value, whatever the user may see (lists, hints, exports
    without permission). The mask kind comes from the field's registration."""
    value = getattr(obj, field_name, None)
    text = "" if value is None else str(value)
    sensitive = get_sensitive_field(make_field_key(obj, field_name))
    return mask(sensitive.mask_kind, text) if sensitive is not None else text


def display_value(user: Any, obj: Model, field_name: str, *, purpose: str = "view") -> str:
    """The value to show ``user``: masked, or clear (and then audited as ``sensitive.read``)."""
    key = make_field_key(obj, field_name)
    value = getattr(obj, field_name, None)
    text = "" if value is None else str(value)
    sensitive = get_sensitive_field(key)
    if sensitive is None:
        return text
    if field_access(user, key) == MASKED:
        return mask(sensitive.mask_kind, text)
    if text:
        audit_record(
            action="sensitive.read",
            actor=user,
            obj=obj,
            metadata={"field": key, "purpose": purpose},
        )
    return text
