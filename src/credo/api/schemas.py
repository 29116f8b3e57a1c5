"""Request/response schemas shared by the API routers."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema


class ErrorOut(Schema):
    code: str
    message: str
    details: dict = Field(default_factory=dict)


class HealthOut(Schema):
    status: str
    time: datetime
    checks: dict[str, str] = Field(default_factory=dict)


class RoleOut(Schema):
    code: str
    name: str


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    roles: list[RoleOut]
    data_scope: str
    org_unit: str | None = None


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    employee_no: str
    is_active: bool
    org_unit: str | None = None

    @staticmethod
    def resolve_org_unit(obj: object) -> str | None:
        unit = getattr(obj, "org_unit", None)
        return unit.name if unit is not None else None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


def _default_token_days() -> int:
    from django.conf import settings

    return min(90, int(settings.CREDO_API_TOKEN_MAX_DAYS))


class TokenIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    scopes: list[str] = Field(default_factory=lambda: ["read"])
    # Bounded by CREDO_API_TOKEN_MAX_DAYS in the service (a clear Chinese error, not pydantic's).
    expires_in_days: int | None = Field(default_factory=_default_token_days)


class TokenCreatedOut(TokenOut):
    token: str = Field(..., description="完整令牌，仅在创建时返回一次")
