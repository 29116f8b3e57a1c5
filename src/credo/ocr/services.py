"""OCR: recognise an uploaded card or licence, log it, audit it, never save into a record.

``ocr_recognize`` checks the image with the project's upload rules, calls the configured
provider outside any transaction (a slow vendor must not hold locks), then writes the request
log row and its audit entries in one transaction. ``ocr_confirm`` records that the person
accepted the values into the form; the form's own submission and validation do the saving.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.accounts.fieldperms import can_view_clear
from credo.core.audit.services import audit_record
from credo.core.crypto import blind_index
from credo.core.masking import mask
from credo.core.ratelimit import Rate, rate_limited
from credo.customers.selectors import customers_for
from credo.ocr.errors import InvalidOcrInput, OcrDisabled, OcrForbidden, OcrThrottled
from credo.ocr.models import OcrRequest
from credo.ocr.normalize import SENSITIVE, Field, normalize
from credo.ocr.permissions import can_use_ocr
from credo.ocr.providers import get_provider
from credo.ocr.providers.base import (
    BACK,
    BUSINESS_LICENSE,
    FRONT,
    ID_CARD,
    KINDS,
    OcrError,
    OcrProvider,
)
from credo.origination.documents import check_upload
from credo.origination.errors import InvalidDocument

RATE_BUCKET = "ocr"
#: the checklist item whose upload rule (types, size) applies to each kind
UPLOAD_ITEM = {"id_card": "身份证", "business_license": "营业执照", "bank_card": "身份证"}


@dataclass
class Recognition:
    request: OcrRequest
    fields: list[Field] = field(default_factory=list)
    error: str = ""
    match: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request.pk,
            "status": self.request.status,
            "provider": self.request.provider,
            "simulated": self.request.simulated,
            "kind": self.request.kind,
            "side": self.request.side,
            "error": self.error,
            "error_code": self.request.error_code,
            "fields": [f.as_dict() for f in self.fields],
            "match": self.match,
        }


def rate() -> Rate:
    return Rate(int(getattr(settings, "CREDO_OCR_RATE_PER_MINUTE", 20)), 60)


def max_image_bytes() -> int:
    return int(getattr(settings, "CREDO_OCR_MAX_MB", 5)) * 1024 * 1024


def _check_image(kind: str, filename: str, data: bytes) -> None:
    if len(data) > max_image_bytes():
        raise InvalidDocument(
            _("图片过大：最大允许 %(max)s MB。") % {"max": max_image_bytes() // (1024 * 1024)}
        )
    checked = check_upload(item=UPLOAD_ITEM[kind], name=filename, data=data)
    if checked.kind not in ("jpg", "png"):
        raise InvalidDocument(_("证照识别只接受 JPG 或 PNG 图片。"))


def _match_customer(actor: Any, fields: list[Field]) -> dict[str, Any] | None:
    """The customer (within the actor's data scope) the document belongs to.

    An exact lookup by ID number answers "does this number exist?", so — as in the customer
    search — it is made only for users who may see ID numbers in clear; others get a match by
    name only when exactly one customer in their scope has it."""
    by_key = {f.key: f for f in fields if f.valid}
    qs = customers_for(actor)
    if "uscc" in by_key:
        qs = qs.filter(uscc=by_key["uscc"].value)
    elif "id_number" in by_key and can_view_clear(actor, "customers.customer.id_number"):
        qs = qs.filter(id_number_bidx=blind_index(by_key["id_number"].value, kind="id_number"))
    elif "name" in by_key:
        qs = qs.filter(name=by_key["name"].value)
    else:
        return None
    found = list(qs.only("pk", "name")[:2])
    if len(found) != 1:
        return None
    return {"id": found[0].pk, "name": found[0].name}


def _run(
    provider: OcrProvider, kind: str, side: str, *, filename: str, data: bytes
) -> tuple[list[Field], str, str, str, str]:
    """Check the image, call the provider, normalise: (fields, error message, outcome status,
    error code, the vendor's request id). The log row is written once with that outcome."""
    S = OcrRequest.Status
    try:
        _check_image(kind, filename, data)
    except InvalidDocument as exc:
        return [], exc.message, S.REJECTED, "invalid_image", ""
    try:
        result = provider.recognize(kind, data, side)
    except OcrError as exc:
        code = (f"{exc.code}:{exc.vendor_code}" if exc.vendor_code else exc.code)[:60]
        return [], exc.message, S.FAILED, code, ""
    fields = normalize(kind, result, side=side)
    request_id = result.request_id[:80]
    if not fields:
        message = _("未能识别该证照，请换一张清晰、完整的照片。")
        return [], message, S.FAILED, "not_recognized", request_id
    return fields, "", S.OK, "", request_id


def ocr_recognize(
    *,
    actor: Any,
    kind: str,
    side: str = FRONT,
    purpose: str = OcrRequest.Purpose.CUSTOMER,
    filename: str,
    data: bytes,
) -> Recognition:
    """Recognise one image. Refusals of the input raise; a provider failure is logged and
    returned with ``error`` set (the person may retry or type the values)."""
    if kind not in KINDS:
        raise InvalidOcrInput(_("不支持的证照类型。"))
    if side not in (FRONT, BACK) or (side == BACK and kind != ID_CARD):
        side = FRONT
    if purpose not in OcrRequest.Purpose.values:
        raise InvalidOcrInput(_("不支持的用途。"))
    if not can_use_ocr(actor, purpose):
        raise OcrForbidden(_("没有使用证照识别的权限。"))
    provider = get_provider()
    if provider is None:
        raise OcrDisabled(_("证照识别未启用，请联系管理员。"))
    if rate_limited(RATE_BUCKET, str(actor.pk), rate()):
        raise OcrThrottled(_("识别请求过于频繁，请稍后再试。"))
    started = time.monotonic()
    fields, error, status, error_code, request_id = _run(
        provider, kind, side, filename=filename, data=data
    )
    log = OcrRequest(
        actor=actor,
        kind=kind,
        side=side,
        purpose=purpose,
        provider=provider.code,
        simulated=provider.simulated,
        image_sha256=hashlib.sha256(data).hexdigest(),
        image_size=len(data),
        status=status,
        error_code=error_code,
        vendor_request_id=request_id,
        duration_ms=int((time.monotonic() - started) * 1000),
        error_message=error[:300],
        fields=[f.as_log(personal=kind != BUSINESS_LICENSE) for f in fields],
    )
    match = (
        _match_customer(actor, fields)
        if purpose == OcrRequest.Purpose.APPLICATION and fields
        else None
    )
    with transaction.atomic():
        log.save()
        audit_record(
            action="ocr.recognize",
            actor=actor,
            obj=log,
            metadata={
                "kind": kind,
                "side": side,
                "purpose": purpose,
                "provider": log.provider,
                "simulated": log.simulated,
                "status": log.status,
                "error_code": log.error_code,
                "duration_ms": log.duration_ms,
                "fields": log.fields,
                "matched_customer": match["id"] if match else None,
            },
        )
        if purpose == OcrRequest.Purpose.APPLICATION:
            # The application form takes the matched customer, never the typed identifier:
            # the browser gets the masked value only.
            for f in fields:
                if f.key in SENSITIVE:
                    f.value = mask(SENSITIVE[f.key], f.value)
        shown = [
            f.key for f in fields if f.key in SENSITIVE and purpose == OcrRequest.Purpose.CUSTOMER
        ]
        if shown:
            # The clear identifiers go back to the person's browser to fill the form.
            audit_record(
                action="sensitive.read",
                actor=actor,
                obj=log,
                metadata={"fields": shown, "purpose": "ocr"},
            )
    return Recognition(request=log, fields=fields, error=error, match=match)


def ocr_confirm(*, actor: Any, request_id: int, keys: list[str]) -> OcrRequest:
    """The person accepted these recognised fields into the form (not yet saved anywhere)."""
    with transaction.atomic():
        log = (
            OcrRequest.objects.select_for_update()
            .filter(pk=request_id, actor=actor, status=OcrRequest.Status.OK)
            .first()
        )
        if log is None:
            raise InvalidOcrInput(_("识别记录不存在或不属于你。"))
        known = {f["key"] for f in log.fields}
        accepted = sorted({k for k in keys if k in known})
        if not accepted:
            raise InvalidOcrInput(_("请至少选择一个要填入的字段。"))
        previous = list(log.confirmed_fields)
        log.confirmed_at = timezone.now()
        log.confirmed_fields = accepted
        log.save(update_fields=["confirmed_at", "confirmed_fields"])
        audit_record(
            action="ocr.confirm",
            actor=actor,
            obj=log,
            changes={"confirmed_fields": {"old": previous, "new": accepted}},
        )
    return log
