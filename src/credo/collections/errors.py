from __future__ import annotations


class CollectionsError(Exception):
    code = "collections_error"
    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(CollectionsError):
    code = "invalid_input"


class InvalidState(CollectionsError):
    code = "invalid_state"
    status = 409


class GuardrailViolation(CollectionsError):
    """A contact refused by a compliance rule (already logged when raised)."""

    code = "guardrail_violation"
    status = 409

    def __init__(self, message: str, *, rule: str) -> None:
        super().__init__(message)
        self.rule = rule
