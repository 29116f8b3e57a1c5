from __future__ import annotations


class LendingError(Exception):
    code = "lending_error"
    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidLoan(LendingError):
    code = "validation_error"


class InvalidState(LendingError):
    code = "invalid_state"
    status = 409


class MakerChecker(LendingError):
    code = "maker_checker"
    status = 403


class IdempotencyConflict(LendingError):
    code = "idempotency_conflict"
    status = 409


class NotPermitted(LendingError):
    code = "forbidden"
    status = 403


class InvalidValueDate(InvalidLoan):
    """A disbursement value date outside the allowed window (back-dated or in the future)."""

    code = "invalid_value_date"
