from __future__ import annotations


class ApprovalError(Exception):
    """An approval action was refused or a flow definition is invalid; ``message`` is for users."""

    code = "approval_error"
    status = 422

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status


class InvalidDefinition(ApprovalError):
    code = "invalid_definition"


class NotAllowed(ApprovalError):
    code = "forbidden"
    status = 403


class InvalidState(ApprovalError):
    code = "invalid_state"
    status = 409
