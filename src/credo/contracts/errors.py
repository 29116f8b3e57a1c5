from __future__ import annotations


class ContractError(Exception):
    """A refused contract operation; ``message`` is shown to the user (Chinese)."""

    code = "contract_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidTerms(ContractError):
    code = "invalid_terms"


class TemplateInvalid(ContractError):
    code = "template_invalid"


class InvalidState(ContractError):
    code = "invalid_state"


class InvalidSignature(ContractError):
    code = "invalid_signature"


class UnknownContract(ContractError):
    code = "unknown_contract"
