from __future__ import annotations


class AccountsError(Exception):
    """A user/role/org-unit change that is not allowed; ``message`` is shown to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)
