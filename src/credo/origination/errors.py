from __future__ import annotations


class OriginationError(Exception):
    code = "origination_error"
    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidApplication(OriginationError):
    code = "validation_error"


class InvalidState(OriginationError):
    code = "invalid_state"
    status = 409


class StaleVersion(OriginationError):
    code = "stale_version"
    status = 409


class InvalidDocument(OriginationError):
    code = "invalid_document"


class PortalLinkInvalid(OriginationError):
    """Unknown, expired or revoked link; ``status`` 404 (unknown) or 410 (gone)."""

    code = "portal_link_invalid"
    status = 410


class PortalLinkUnknown(PortalLinkInvalid):
    """No link has this token (404)."""

    status = 404


class RateLimited(OriginationError):
    code = "throttled"
    status = 429


class NotAllowed(OriginationError):
    code = "forbidden"
    status = 403
    audit: dict[str, object] | None = None  # the refusal's audit entry, written after rollback
