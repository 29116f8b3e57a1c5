from __future__ import annotations

from typing import Any


class AutomationError(Exception):
    """An automation could not be saved, tested or published; ``message`` is for users and
    ``field_errors`` names the problem per field (``trigger.event``, ``actions.1.title`` …)."""

    code = "automation_error"
    status = 422

    def __init__(self, message: str, *, field_errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors = dict(field_errors or {})
