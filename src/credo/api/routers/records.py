"""API: 自定义表单 (custom record types and their records).

``GET /record-types`` gives each type with the JSON Schema (draft 2020-12) of its published
version's values; records are validated on the server against that version (the same
validation as the page), read through the data scope of their parent, and fields the caller's
roles may not see are left out.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from credo.api.auth import require_perm, require_scope
from credo.api.errors import ApiError
from credo.api.idempotency import idempotent
from credo.api.pagination import Page, PageQuery, paginate
from credo.api.schemas import ErrorOut
from credo.records import schema, selectors, services
from credo.records.errors import InvalidState, InvalidValues, NotPermitted, RecordsError
from credo.records.models import CustomRecord, RecordType

router = Router(tags=["records"])
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


class RecordTypeOut(Schema):
    code: str
    name: str
    description: str
    attached_to: str
    version: int | None
    status: str | None
    values_schema: dict[str, Any] | None


class RecordOut(Schema):
    id: int
    number: str
    record_type: str
    version: int
    customer_id: int | None
    application_id: int | None
    loan_id: int | None
    values: dict[str, Any]
    created_by: str
    created_at: str
    updated_at: str


class RecordIn(Schema):
    record_type: str
    customer_id: int | None = None
    application_id: int | None = None
    loan_id: int | None = None
    values: dict[str, Any] = {}


class RecordPatch(Schema):
    values: dict[str, Any]


class RecordFilter(PageQuery):
    record_type: str | None = None
    customer_id: int | None = None
    application_id: int | None = None
    loan_id: int | None = None
    q: str | None = None


def _type_out(request: HttpRequest, rt: RecordType) -> dict[str, Any]:
    version = rt.published_version()
    return {
        "code": rt.code,
        "name": rt.name,
        "description": rt.description,
        "attached_to": rt.attached_to,
        "version": version.number if version else None,
        "status": version.status if version else None,
        "values_schema": schema.json_schema(
            version.fields,
            title=rt.name,
            schema_id=request.build_absolute_uri(f"/api/v1/records/record-types/{rt.code}"),
            viewer=schema.Viewer.of(request.user),
        )
        if version
        else None,
    }


def record_out(user: Any, record: CustomRecord) -> dict[str, Any]:
    viewer = schema.Viewer.of(user)
    files = {f.pk: f for f in record.files.all()}
    values = {
        d["key"]: schema.api_value(d, record.values.get(d["key"]), files)
        for d in record.version.fields
        if viewer.can_view(d) and d["key"] in record.values
    }
    return {
        "id": record.pk,
        "number": record.number,
        "record_type": record.record_type.code,
        "version": record.version.number,
        "customer_id": record.customer_id,
        "application_id": record.application_id,
        "loan_id": record.loan_id,
        "values": values,
        "created_by": str(record.created_by or ""),
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
    }


def _raise(exc: RecordsError) -> None:
    if isinstance(exc, NotPermitted):
        raise ApiError(exc.code, exc.message, status=403) from exc
    if isinstance(exc, InvalidState):
        raise ApiError(exc.code, exc.message, status=409) from exc
    if isinstance(exc, InvalidValues):
        raise ApiError(
            "validation_error", exc.message, status=422, details={"values": exc.errors}
        ) from exc
    raise ApiError(exc.code, exc.message, status=400, details=exc.errors) from exc


def _visible_type(request: HttpRequest, code: str) -> RecordType:
    rt = RecordType.objects.prefetch_related("versions").filter(code=code).first()
    if rt is None or not selectors.can_view_type(request.user, rt):
        raise ApiError("not_found", _("表单类型不存在"), status=404)
    return rt


@router.get(
    "/record-types",
    response={200: list[RecordTypeOut], **ERRORS},
    summary="自定义表单类型（含已发布版本的 JSON Schema）",
)
def list_record_types(request: HttpRequest) -> list[dict[str, Any]]:
    require_scope(request, "read")
    require_perm(request, "records.view_customrecord")
    return [_type_out(request, rt) for rt in selectors.types_for(request.user)]


@router.get(
    "/record-types/{code}",
    response={200: RecordTypeOut, **ERRORS},
    summary="自定义表单类型详情（JSON Schema）",
)
def get_record_type(request: HttpRequest, code: str) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "records.view_customrecord")
    return _type_out(request, _visible_type(request, code))


@router.get("", response={200: Page[RecordOut], **ERRORS}, summary="自定义表单记录列表")
def list_records(request: HttpRequest, filters: Query[RecordFilter]) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "records.view_customrecord")
    rt = _visible_type(request, filters.record_type) if filters.record_type else None
    qs = selectors.record_list(request.user, rt, {"q": filters.q or ""})
    for name in ("customer_id", "application_id", "loan_id"):
        value = getattr(filters, name)
        if value is not None:
            qs = qs.filter(**{name: value})
    data = paginate(qs.prefetch_related("files"), filters.page, filters.page_size)
    data["items"] = [record_out(request.user, r) for r in data["items"]]
    return data


def _parent(request: HttpRequest, rt: RecordType, payload: RecordIn) -> dict[str, Any]:
    ids = {
        "customer": payload.customer_id,
        "application": payload.application_id,
        "loan": payload.loan_id,
    }
    given = {k: v for k, v in ids.items() if v is not None}
    if list(given) != [rt.attached_to]:
        raise ApiError(
            "validation_error",
            _("该表单须挂接在%(p)s上，请只提供 %(f)s_id。")
            % {"p": rt.get_attached_to_display(), "f": rt.attached_to},
            status=422,
        )
    pk = given[rt.attached_to]
    if rt.attached_to == "customer":
        from credo.customers.selectors import customers_for

        obj: Any = customers_for(request.user).filter(pk=pk).first()
    elif rt.attached_to == "application":
        from credo.origination.selectors import applications_for

        obj = applications_for(request.user).filter(pk=pk).first()
    else:
        from credo.lending.selectors import loans_for

        obj = loans_for(request.user).filter(pk=pk).first()
    if obj is None:
        raise ApiError("not_found", _("挂接对象不存在或无权访问"), status=404)
    return {rt.attached_to: obj}


@router.post(
    "", response={201: RecordOut, **ERRORS}, summary="新建自定义表单记录（支持 Idempotency-Key）"
)
@idempotent
def create_record(request: HttpRequest, payload: RecordIn) -> Status[Any]:
    require_scope(request, "write")
    require_perm(request, "records.add_customrecord")
    rt = _visible_type(request, payload.record_type)
    parent = _parent(request, rt, payload)
    try:
        record = services.record_create(
            record_type=rt, values=payload.values, actor=request.user, **parent
        )
    except RecordsError as exc:
        _raise(exc)
        raise  # pragma: no cover — _raise always raises
    return Status(201, record_out(request.user, record))


def _get(request: HttpRequest, record_id: int) -> CustomRecord:
    record = selectors.record_get(request.user, record_id)
    if record is None:
        raise ApiError("not_found", _("记录不存在"), status=404)
    return record


@router.get("/{record_id}", response={200: RecordOut, **ERRORS}, summary="自定义表单记录详情")
def get_record(request: HttpRequest, record_id: int) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "records.view_customrecord")
    return record_out(request.user, _get(request, record_id))


@router.patch(
    "/{record_id}", response={200: RecordOut, **ERRORS}, summary="修改自定义表单记录（部分字段）"
)
def patch_record(request: HttpRequest, record_id: int, payload: RecordPatch) -> dict[str, Any]:
    require_scope(request, "write")
    require_perm(request, "records.change_customrecord")
    record = _get(request, record_id)
    try:
        record = services.record_update(record=record, values=payload.values, actor=request.user)
    except RecordsError as exc:
        _raise(exc)
        raise  # pragma: no cover
    return record_out(request.user, record)
