from __future__ import annotations


class BorrowerError(Exception):
    code = "borrower_error"
    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(BorrowerError):
    code = "validation_error"


class InvalidCode(BorrowerError):
    code = "invalid_code"
    status = 400


class Throttled(BorrowerError):
    code = "throttled"
    status = 429


class LockedOut(BorrowerError):
    code = "locked_out"
    status = 429


class NotAllowed(BorrowerError):
    code = "not_allowed"
    status = 403


class InvalidState(BorrowerError):
    code = "invalid_state"
    status = 409
