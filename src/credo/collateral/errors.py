from __future__ import annotations


class CollateralError(Exception):
    code = "collateral_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(CollateralError):
    code = "not_allowed"


class InvalidCollateral(CollateralError):
    code = "validation_error"


class InvalidState(CollateralError):
    code = "invalid_state"
