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


class ConflictOfInterest(NotAllowed):
    """Segregation of duties: the actor (or a transfer target) may not act on the task because
    of who they are in the instance (``reason``: owner / creator / submitter / earlier_step /
    same_step, see ``selectors.approval_conflicts``)."""

    code = "conflict_of_interest"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.details = {"reason": reason}
