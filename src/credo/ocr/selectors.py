from __future__ import annotations

from collections.abc import Mapping

from django.db.models import QuerySet

from credo.ocr.models import OcrRequest


def ocr_request_list(params: Mapping[str, str]) -> QuerySet[OcrRequest]:
    qs = OcrRequest.objects.select_related("actor").order_by("-created_at", "-id")
    if params.get("kind") in OcrRequest.Kind.values:
        qs = qs.filter(kind=params["kind"])
    if params.get("status") in OcrRequest.Status.values:
        qs = qs.filter(status=params["status"])
    return qs
