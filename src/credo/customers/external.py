"""External data providers (工商 / 征信 / 司法 / 舆情).

A provider turns a customer's identifier into ``(raw_payload_text, parsed_dict)``. The
simulated provider is deterministic per identifier, so demos and tests work offline and the
same customer always gets the same report. The HTTP/JSON provider calls a vendor's endpoint
and maps fields with dotted paths.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.http import TransportError, send
from credo.customers.errors import AuthorizationMissing, CustomerError
from credo.customers.events import record_event
from credo.customers.industries import INDUSTRY_NAMES
from credo.customers.models import Authorization, Customer, DataKind, ExternalProvider, ExternalPull


class ProviderError(Exception):
    pass


class ProviderTimeout(ProviderError):
    pass


@dataclass(frozen=True)
class PullResult:
    raw: str
    parsed: dict[str, Any]


def identifier_of(customer: Customer) -> str:
    return customer.uscc if customer.kind == Customer.Kind.ENTERPRISE else customer.id_number


# --- simulated ------------------------------------------------------------------------------
def _rng(identifier: str, kind: str) -> random.Random:
    seed = int(hashlib.sha256(f"{kind}:{identifier}".encode()).hexdigest()[:16], 16)
    return random.Random(seed)  # noqa: S311 — deterministic fake data, not security


def simulate(kind: str, customer: Customer) -> PullResult:
    ident = identifier_of(customer)
    rng = _rng(ident, kind)
    parsed: dict[str, Any]
    if kind == DataKind.REGISTRY:
        capital_wan = rng.choice([10, 50, 100, 200, 300, 500, 1000, 2000, 5000])
        parsed = {
            "name": customer.name,
            "uscc": customer.uscc,
            "status": rng.choice(["存续", "存续", "存续", "在业", "吊销"]),
            "registered_capital": str(capital_wan * 10000),
            "founded_on": f"{rng.randint(1998, 2022)}-{rng.randint(1, 12):02d}-"
            f"{rng.randint(1, 28):02d}",
            "legal_representative": customer.legal_representative or "—",
            "industry": INDUSTRY_NAMES.get(customer.industry, "批发和零售业"),
            "shareholders": rng.randint(1, 5),
        }
    elif kind == DataKind.BUREAU:
        overdue = rng.random() < 0.15
        parsed = {
            "score": rng.randint(520, 820),
            "open_loans": rng.randint(0, 6),
            "total_balance": str(rng.randint(0, 300) * 10000),
            "overdue_accounts": rng.randint(1, 3) if overdue else 0,
            "max_overdue_months": rng.randint(1, 6) if overdue else 0,
            "queries_last_6m": rng.randint(0, 12),
        }
    elif kind == DataKind.LITIGATION:
        cases = rng.choice([0, 0, 0, 0, 1, 2, 3])
        parsed = {
            "litigation_count": cases,
            "serious_litigation": cases >= 2 and rng.random() < 0.5,
            "judgment_debtor": rng.random() < 0.06,
            "cases": [
                {
                    "case_no": f"（{rng.randint(2019, 2026)}）晋0{rng.randint(1, 9)}民初"
                    f"{rng.randint(100, 9999)}号",
                    "cause": rng.choice(
                        ["买卖合同纠纷", "借款合同纠纷", "劳动争议", "租赁合同纠纷"]
                    ),
                }
                for _ in range(cases)
            ],
        }
    else:
        hits = rng.choice([0, 0, 0, 0, 0, 1, 2])
        parsed = {
            "negative_count": hits,
            "items": [
                {
                    "title": rng.choice(["拖欠供应商货款被报道", "环保处罚公示", "股东变更纠纷"]),
                    "source": rng.choice(["山西日报", "黄河新闻网", "企业公示系统"]),
                }
                for _ in range(hits)
            ],
        }
    return PullResult(raw=json.dumps(parsed, ensure_ascii=False), parsed=parsed)


# --- HTTP/JSON ------------------------------------------------------------------------------
def _dig(payload: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(payload, dict):
            payload = payload.get(part)
        elif isinstance(payload, list) and part.isdigit() and int(part) < len(payload):
            payload = payload[int(part)]
        else:
            return None
    return payload


def http_fetch(provider: ExternalProvider, kind: str, customer: Customer) -> PullResult:
    if not provider.url.startswith(("https://", "http://")):
        raise ProviderError(_("数据源地址无效。"))
    body = json.dumps(
        {"kind": kind, "identifier": identifier_of(customer), "name": customer.name}
    ).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if provider.auth_header and provider.auth_value:
        headers[provider.auth_header] = provider.auth_value
    try:
        resp = send(
            "POST",
            provider.url,
            body=body,
            headers=headers,
            timeout=provider.timeout_seconds,
            max_bytes=2_000_000,
        )
    except TransportError as exc:
        if exc.kind == "timeout":
            raise ProviderTimeout(
                _("数据源响应超时（%(s)s 秒）。") % {"s": provider.timeout_seconds}
            ) from exc
        raise ProviderError(_("数据源请求失败：%(err)s") % {"err": exc.reason}) from exc
    if not resp.ok:
        raise ProviderError(_("数据源请求失败：%(err)s") % {"err": resp.reason})
    raw = resp.body.decode("utf-8", errors="replace")
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise ProviderError(_("数据源返回的不是有效的 JSON。")) from exc
    mapping = provider.field_mapping or {}
    parsed = (
        {ours: _dig(payload, theirs) for ours, theirs in mapping.items()}
        if mapping
        else (payload if isinstance(payload, dict) else {"data": payload})
    )
    return PullResult(raw=raw, parsed=parsed)


def provider_for(kind: str) -> ExternalProvider:
    provider = ExternalProvider.objects.filter(kind=kind, is_active=True).order_by("id").first()
    if provider is None:
        provider, _created = ExternalProvider.objects.get_or_create(
            name=f"模拟{DataKind(kind).label}",
            defaults={"kind": kind, "engine": ExternalProvider.Engine.SIMULATED},
        )
    return provider


def valid_authorization(customer: Customer, scope: str) -> Authorization | None:
    today = clock.today()
    return (
        customer.authorizations.filter(
            scope=scope, revoked_at__isnull=True, valid_from__lte=today, valid_until__gte=today
        )
        .order_by("-valid_until")
        .first()
    )


def external_pull(*, customer: Customer, kind: str, actor: Any) -> ExternalPull:
    """Query one provider; a failure is stored and returned (never raised) so pages still load.

    Bureau (征信) pulls require a valid authorization record. The vendor call happens outside
    any transaction; only the result is written in one.
    """
    if kind not in DataKind.values:
        raise CustomerError(_("未知的外部数据类型。"))
    authorization = None
    if kind == DataKind.BUREAU:
        authorization = valid_authorization(customer, DataKind.BUREAU)
        if authorization is None:
            with transaction.atomic():
                audit_record(
                    action="customer.external_pull_refused",
                    actor=actor,
                    obj=customer,
                    metadata={"kind": kind, "reason": "no_authorization"},
                )
            raise AuthorizationMissing(
                _("没有有效的征信查询授权，不能查询征信。请先登记客户签署的授权书。")
            )
    provider = provider_for(kind)
    started = time.monotonic()
    status, error, result = ExternalPull.Status.OK, "", PullResult("", {})
    try:
        if provider.engine == ExternalProvider.Engine.HTTP_JSON:
            result = http_fetch(provider, kind, customer)
        else:
            result = simulate(kind, customer)
    except ProviderTimeout as exc:
        status, error = ExternalPull.Status.TIMEOUT, str(exc)
    except ProviderError as exc:
        status, error = ExternalPull.Status.FAILED, str(exc)
    duration = int((time.monotonic() - started) * 1000)
    with transaction.atomic():
        pull = ExternalPull.objects.create(
            customer=customer,
            provider=provider,
            kind=kind,
            authorization=authorization,
            requested_by=actor,
            status=status,
            duration_ms=duration,
            raw_payload=result.raw,
            parsed=result.parsed,
            error=error[:300],
        )
        audit_record(
            action="customer.external_pull",
            actor=actor,
            obj=customer,
            metadata={
                "kind": kind,
                "provider": provider.name,
                "status": status,
                "pull_id": pull.pk,
            },
        )
        label = DataKind(kind).label
        title = (_("查询%(kind)s成功") if status == "ok" else _("查询%(kind)s失败")) % {
            "kind": label
        }
        record_event(
            customer=customer,
            kind="external_data",
            title=title,
            actor=actor,
            obj=pull,
            source="customers",
            detail={"status": status, "provider": provider.name, "error": error},
        )
        if status == "ok" and kind == DataKind.LITIGATION:
            from credo.customers.services import risk_flag_set

            if result.parsed.get("judgment_debtor"):
                risk_flag_set(
                    customer=customer,
                    flag="judgment_debtor",
                    on=True,
                    actor=actor,
                    reason=_("司法数据：被执行人"),
                )
            if result.parsed.get("serious_litigation"):
                risk_flag_set(
                    customer=customer,
                    flag="litigation",
                    on=True,
                    actor=actor,
                    reason=_("司法数据：重大涉诉"),
                )
    return pull
