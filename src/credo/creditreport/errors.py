"""Errors of the credit-reporting app (messages are shown to the user as they are)."""

from __future__ import annotations


class CreditReportError(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class NotPermitted(CreditReportError):
    pass


class InvalidState(CreditReportError):
    pass


class InvalidInput(CreditReportError):
    pass
