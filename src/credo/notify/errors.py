from __future__ import annotations


class NotifyError(Exception):
    code = "notify_error"
    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidTemplate(NotifyError):
    code = "invalid_template"


class InvalidRecipient(NotifyError):
    code = "invalid_recipient"


class InvalidState(NotifyError):
    code = "invalid_state"
    status = 409


class GatewayError(Exception):
    """A delivery failed. ``permanent`` errors (configuration, 4xx) are not retried."""

    def __init__(self, message: str, *, permanent: bool = False, response: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.response = response
