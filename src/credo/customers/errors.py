from __future__ import annotations

from typing import Any


class CustomerError(Exception):
    """A refused customer operation; ``message`` is shown to the user (Chinese)."""

    code = "customer_error"

    def __init__(self, message: str, *, field_errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class InvalidCustomer(CustomerError):
    code = "validation_error"


class DuplicateCustomer(CustomerError):
    """The legal identifier already belongs to ``existing`` (the user may not see it)."""

    code = "duplicate_customer"

    def __init__(self, message: str, *, existing: Any, field: str) -> None:
        super().__init__(message, field_errors={field: message})
        self.existing = existing


class StaleCustomer(CustomerError):
    code = "stale_version"


class AuthorizationMissing(CustomerError):
    code = "authorization_missing"
