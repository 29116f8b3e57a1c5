"""Errors of the scorecard app; messages are shown to users as they are."""

from __future__ import annotations


class ScorecardError(Exception):
    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = str(message)


class InvalidInput(ScorecardError):
    """Bad training request (missing file, target column, parameters out of range)."""


class InvalidState(ScorecardError):
    """The version is not in a state that allows the action."""


class NotAllowed(ScorecardError):
    """The user lacks the permission."""


class StaleVersion(ScorecardError):
    """Someone changed the scorecard since the page was loaded."""
