from __future__ import annotations


class LeadError(Exception):
    """A refused lead operation; ``message`` is shown to the user (Chinese)."""

    code = "lead_error"
    status = 409

    def __init__(self, message: str, *, field_errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class InvalidLead(LeadError):
    code = "validation_error"
    status = 422


class InvalidTransition(LeadError):
    code = "invalid_transition"
    status = 409
