from __future__ import annotations


class RuleError(Exception):
    """A decision model could not be saved, published or evaluated; ``message`` is for users."""

    code = "rule_error"
    status = 422

    def __init__(self, message: str, *, details: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidModel(RuleError):
    code = "invalid_model"


class TestsFailed(RuleError):
    __test__ = False  # not a pytest class

    code = "tests_failed"
    status = 409


class NotPublished(RuleError):
    code = "not_published"
    status = 409


class InvalidState(RuleError):
    code = "invalid_state"
    status = 409
