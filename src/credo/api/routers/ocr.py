"""API: 证照识别 — recognise an ID card, business licence or bank card; confirm what was used.

Nothing is written to customers or applications: the caller puts the values into its own
create/update request, whose validation stays the gate.
"""

from __future__ import annotations

from typing import Any, Literal

from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile

from credo.api.auth import require_scope
from credo.api.errors import ApiError
from credo.api.schemas import ErrorOut
from credo.ocr import services
from credo.ocr.errors import OcrServiceError
from credo.origination.documents import read_upload

router = Router(tags=["ocr"])

ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
    503: ErrorOut,
}


class FieldOut(Schema):
    key: str
    label: str
    value: str
    confidence: float
    low: bool
    valid: bool
    message: str
    target: str


class MatchOut(Schema):
    id: int
    name: str


class RecognitionOut(Schema):
    request_id: int
    status: str
    provider: str
    simulated: bool
    kind: str
    side: str
    error: str
    error_code: str
    fields: list[FieldOut]
    match: MatchOut | None = None


class ConfirmIn(Schema):
    keys: list[str]


class ConfirmOut(Schema):
    request_id: int
    confirmed_fields: list[str]


def _err(exc: OcrServiceError) -> ApiError:
    return ApiError(exc.code, exc.message, status=exc.status)


@router.post(
    "/recognize",
    response={200: RecognitionOut, **ERRORS},
    summary="识别证照（multipart：kind + side + purpose + image）",
)
def recognize(
    request: Any,
    kind: Form[Literal["id_card", "business_license", "bank_card"]],
    image: File[UploadedFile],
    side: Form[Literal["front", "back"]] = "front",
    purpose: Form[Literal["customer", "application"]] = "customer",
) -> Any:
    require_scope(request, "write")
    data = read_upload(image, services.max_image_bytes())
    try:
        outcome = services.ocr_recognize(
            actor=request.user,
            kind=kind,
            side=side,
            purpose=purpose,
            filename=image.name or "",
            data=data,
        )
    except OcrServiceError as exc:
        raise _err(exc) from None
    if outcome.error:
        raise ApiError(
            outcome.request.error_code or "ocr_failed",
            outcome.error,
            status=422,
            details={"request_id": outcome.request.pk},
        )
    return outcome.as_dict()


@router.post(
    "/requests/{request_id}/confirm",
    response={200: ConfirmOut, **ERRORS},
    summary="确认采用的识别字段",
)
def confirm(request: Any, request_id: int, payload: ConfirmIn) -> Any:
    require_scope(request, "write")
    try:
        log = services.ocr_confirm(actor=request.user, request_id=request_id, keys=payload.keys)
    except OcrServiceError as exc:
        raise _err(exc) from None
    return {"request_id": log.pk, "confirmed_fields": log.confirmed_fields}
