from __future__ import annotations


class WebhookError(Exception):
    """A refused webhook action; ``message`` is shown to the user (Chinese)."""

    code = "webhook_error"
    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EndpointDisabled(WebhookError):
    code = "endpoint_disabled"
    status = 409
