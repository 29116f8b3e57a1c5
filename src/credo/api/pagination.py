"""Page-number pagination with one response shape: items, count, page, page_size, pages."""

from __future__ import annotations

import math
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from ninja import Field, Schema

from credo.api.errors import ApiError

MAX_PAGE_SIZE = 100
T = TypeVar("T")


class Page(Schema, Generic[T]):
    items: list[T]
    count: int
    page: int
    page_size: int
    pages: int


class PageQuery(Schema):
    """The page parameters of every list, with the bounds the OpenAPI document shows."""

    page: int = Field(1, ge=1, description="页码，从 1 开始")
    page_size: int | None = Field(
        None, ge=1, le=MAX_PAGE_SIZE, description=f"每页条数，默认 20，最大 {MAX_PAGE_SIZE}"
    )


def _positive_int(value: Any, name: str, default: int, maximum: int | None = None) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1 or (maximum is not None and number > maximum):
        message = (
            _("必须是 1 到 %(max)s 之间的整数") % {"max": maximum}
            if maximum is not None
            else _("必须是大于等于 1 的整数")
        )
        raise ApiError(
            "validation_error",
            _("请求参数校验失败"),
            status=422,
            details={f"query.{name}": [message]},
        )
    return number


def paginate(
    queryset: QuerySet[Any],
    page: Any = 1,
    page_size: Any = None,
    schema: type[Schema] | None = None,
) -> dict[str, Any]:
    """Slice ``queryset``; ``page_size`` defaults to NINJA_PAGINATION_PER_PAGE, at most 100. A
    page past the end returns no items (not an error); page < 1, page_size outside 1..100 or
    non-numbers → 422 (the bounds :class:`PageQuery` documents)."""
    size = _positive_int(
        page_size, "page_size", settings.NINJA_PAGINATION_PER_PAGE, maximum=MAX_PAGE_SIZE
    )
    number = _positive_int(page, "page", 1)
    count = queryset.count()
    start = (number - 1) * size
    rows = list(queryset[start : start + size]) if start < count else []
    items: list[Any] = [schema.from_orm(row) for row in rows] if schema is not None else rows
    return {
        "items": items,
        "count": count,
        "page": number,
        "page_size": size,
        "pages": math.ceil(count / size) if count else 0,
    }
