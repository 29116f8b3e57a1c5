"""Who may use OCR: whoever may create or edit customers (customer form) or create
applications (application form). The request log is for administrators."""

from __future__ import annotations

from typing import Any

from credo.accounts.roles import register_role_permissions

PURPOSE_PERMS: dict[str, tuple[str, ...]] = {
    "customer": ("customers.add_customer", "customers.change_customer"),
    "application": ("origination.add_application",),
}

register_role_permissions("admin", ["ocr.view_ocrrequest"])


def can_use_ocr(user: Any, purpose: str) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return any(user.has_perm(p) for p in PURPOSE_PERMS.get(purpose, ()))
