from __future__ import annotations


class ImAppError(Exception):
    """A platform call or an imapps action failed; ``message`` is shown to the user (Chinese).
    ``transient``: a timeout or connection problem worth retrying."""

    def __init__(
        self, message: str, *, transient: bool = False, errcode: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.errcode = errcode
