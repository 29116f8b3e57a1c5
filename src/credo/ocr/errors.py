from __future__ import annotations


class OcrServiceError(Exception):
    code = "ocr_error"
    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OcrForbidden(OcrServiceError):
    code = "forbidden"
    status = 403


class OcrThrottled(OcrServiceError):
    code = "throttled"
    status = 429


class OcrDisabled(OcrServiceError):
    code = "ocr_disabled"
    status = 503


class InvalidOcrInput(OcrServiceError):
    code = "validation_error"
