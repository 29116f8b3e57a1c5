"""押品与保证 API (read-only): collateral with valuation history and links, guarantee
contracts — scoped like the pages."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from credo.api.auth import require_perm, require_scope
from credo.api.errors import ApiError
from credo.api.pagination import Page, PageQuery, paginate
from credo.api.schemas import ErrorOut
from credo.collateral import selectors
from credo.collateral.models import Collateral, Guarantee

router = Router(tags=["collateral"])
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ErrorOut,
}
VIEW = "collateral.view_collateral"


class ValuationOut(Schema):
    valued_on: str
    value: str
    appraiser: str
    method: str


class LinkOut(Schema):
    application_id: int | None
    loan_id: int | None
    secured_amount: str | None
    agreed_ltv: str | None


class CollateralOut(Schema):
    id: int
    number: str
    kind: str
    category: str
    owner_id: int
    owner_name: str
    description: str
    address: str
    registration_number: str
    registered_on: str | None
    expires_on: str | None
    released_on: str | None
    current_value: str | None
    valued_on: str | None
    status: str


class CollateralDetailOut(CollateralOut):
    valuations: list[ValuationOut]
    links: list[LinkOut]


class GuaranteeOut(Schema):
    id: int
    contract_number: str
    guarantor_id: int
    guarantor_name: str
    kind: str
    amount: str
    application_id: int | None
    loan_id: int | None
    period_start: str | None
    period_end: str | None
    status: str
    released_on: str | None


class CollateralFilter(PageQuery):
    q: str = ""
    status: str = ""
    category: str = ""
    kind: str = ""


def _d(value: Any) -> str | None:
    return value.isoformat() if value else None


def _yuan(money: Any) -> str | None:
    return str(money.yuan) if money is not None else None


def collateral_out(c: Collateral) -> dict[str, Any]:
    return {
        "id": c.pk,
        "number": c.number,
        "kind": c.kind,
        "category": c.category,
        "owner_id": c.owner_id,
        "owner_name": c.owner.name,
        "description": c.description,
        "address": c.address,
        "registration_number": c.registration_number,
        "registered_on": _d(c.registered_on),
        "expires_on": _d(c.expires_on),
        "released_on": _d(c.released_on),
        "current_value": _yuan(c.current_value),
        "valued_on": _d(c.valued_on),
        "status": c.status,
    }


def guarantee_out(g: Guarantee) -> dict[str, Any]:
    return {
        "id": g.pk,
        "contract_number": g.contract_number,
        "guarantor_id": g.guarantor_id,
        "guarantor_name": g.guarantor.name,
        "kind": g.kind,
        "amount": str(g.amount.yuan),
        "application_id": g.application_id,
        "loan_id": g.loan_id,
        "period_start": _d(g.period_start),
        "period_end": _d(g.period_end),
        "status": g.status,
        "released_on": _d(g.released_on),
    }


@router.get(
    "/items", response={200: Page[CollateralOut], **ERRORS}, summary="押品列表（按数据权限）"
)
def list_collateral(request: HttpRequest, filters: Query[CollateralFilter]) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, VIEW)
    data = paginate(
        selectors.collateral_list(request.user, filters.model_dump()),
        filters.page,
        filters.page_size,
    )
    data["items"] = [collateral_out(c) for c in data["items"]]
    return data


@router.get(
    "/items/{collateral_id}",
    response={200: CollateralDetailOut, **ERRORS},
    summary="押品详情（含评估历史）",
)
def get_collateral(request: HttpRequest, collateral_id: int) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, VIEW)
    try:
        c = selectors.collateral_get(request.user, collateral_id)
    except Http404:
        raise ApiError("not_found", _("押品不存在或无权访问"), status=404) from None
    return {
        **collateral_out(c),
        "valuations": [
            {
                "valued_on": v.valued_on.isoformat(),
                "value": str(v.value.yuan),
                "appraiser": v.appraiser,
                "method": v.method,
            }
            for v in c.valuations.all()
        ],
        "links": [
            {
                "application_id": link.application_id,
                "loan_id": link.loan_id,
                "secured_amount": _yuan(link.secured_amount),
                "agreed_ltv": str(link.agreed_ltv) if link.agreed_ltv is not None else None,
            }
            for link in c.links.order_by("id")
        ],
    }


@router.get(
    "/guarantees",
    response={200: Page[GuaranteeOut], **ERRORS},
    summary="保证合同列表（按数据权限）",
)
def list_guarantees(request: HttpRequest, filters: Query[PageQuery]) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, VIEW)
    qs = selectors.guarantees_for(request.user).select_related("guarantor").order_by("-id")
    data = paginate(qs, filters.page, filters.page_size)
    data["items"] = [guarantee_out(g) for g in data["items"]]
    return data
