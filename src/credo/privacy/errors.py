"""Errors of the privacy app (messages are shown to the privacy officer)."""

from __future__ import annotations


class PrivacyError(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class NotPermitted(PrivacyError):
    pass


class InvalidRequest(PrivacyError):
    pass
