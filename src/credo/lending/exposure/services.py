"""Writes and checks of 集中度管理: net assets (净资产) entries, limit versions, and the
concentration check called at admission (a warning), at approval and when a credit limit is set
(a refusal, :class:`ConcentrationBreach`).

The limits (银保监办发〔2020〕86 号《关于加强小额贷款公司监督管理的通知》: 对同一借款人的贷款余额
不得超过净资产的 10%，对同一借款人及其关联方的贷款余额不得超过净资产的 15%; plus a top-10 share
configured by the lender) are not to be exceeded, so a decision that would exceed one is refused
where the lender commits (approval, credit limit) and flagged where the officer can still change
the request (submission). A decision that does not raise the exposure (a lower limit, a smaller
loan for an already over-limit group) is never refused: it only makes things better.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.money import Money, format_fen
from credo.lending.errors import InvalidLoan, LendingError
from credo.lending.exposure import selectors
from credo.lending.exposure.models import ConcentrationLimits, NetAssets

MANAGE = "lending.manage_exposure"
VIEW = "lending.view_exposure"
GROUP_NAMES_SHOWN = 8


class ConcentrationBreach(LendingError):
    """The decision would exceed a concentration limit; ``message`` names the figures."""

    code = "concentration_limit"

    def __init__(self, message: str, *, check: ConcentrationCheck) -> None:
        super().__init__(message)
        self.check = check


def share_of(exposure: int, net_assets: int) -> Decimal:
    """``exposure`` as a percentage of ``net_assets``, two decimals, half-up."""
    return (Decimal(exposure) * 100 / Decimal(net_assets)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def pct_text(pct: Decimal) -> str:
    """``Decimal("15.00")`` → ``"15"``, ``Decimal("12.50")`` → ``"12.5"``."""
    return f"{Decimal(pct).normalize():f}"


def over(exposure: int, limit_pct: Decimal, net_assets: int) -> bool:
    """Exact: exposure > limit_pct % of net assets (no rounding of the share)."""
    return Decimal(exposure) * 100 > limit_pct * Decimal(net_assets)


def headroom(exposure: int, limit_pct: Decimal, net_assets: int) -> int:
    """Fen left under the limit (negative: over it), the limit rounded down to the fen."""
    cap = int((limit_pct * Decimal(net_assets) / 100).to_integral_value(rounding="ROUND_FLOOR"))
    return cap - exposure


@dataclass
class Finding:
    kind: str  # single | group | top10
    before: int
    after: int
    share: Decimal
    limit_pct: Decimal
    breach: bool
    message: str = ""


@dataclass
class ConcentrationCheck:
    customer_id: int
    skipped: bool = False
    warning: str = ""
    net_assets: int | None = None
    group: list[int] = field(default_factory=list)
    group_names: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def breaches(self) -> list[Finding]:
        return [f for f in self.findings if f.breach]

    @property
    def ok(self) -> bool:
        return not self.breaches

    @property
    def message(self) -> str:
        return "；".join(f.message for f in self.breaches)

    def as_dict(self) -> dict[str, Any]:
        """For audit metadata and decision records (JSON)."""
        return {
            "skipped": self.skipped,
            "net_assets": self.net_assets,
            "group": self.group,
            "breaches": [
                {"kind": f.kind, "after": f.after, "share": str(f.share), "limit": str(f.limit_pct)}
                for f in self.breaches
            ],
        }


def _group_label(names: list[str]) -> str:
    shown = "、".join(names[:GROUP_NAMES_SHOWN])
    if len(names) > GROUP_NAMES_SHOWN:
        shown += _("等 %(n)d 户") % {"n": len(names)}
    return shown


def concentration_check(
    *,
    customer: Any,
    additional_fen: int = 0,
    limit_fen: int | None = None,
    day: dt.date | None = None,
) -> ConcentrationCheck:
    """The customer's, its group's and the top-10 exposure after a decision that adds
    ``additional_fen`` (a loan or application amount) or sets the customer's credit limit to
    ``limit_fen``, against the limits in force. Reads only; never raises for a breach."""
    cid = int(getattr(customer, "pk", customer))
    result = ConcentrationCheck(customer_id=cid)
    net, limits = selectors.checked_config(day or clock.today())
    if net is None:
        result.skipped = True
        result.warning = _("未录入净资产，集中度检查未执行。")
        return result
    net_fen = net.amount.fen
    result.net_assets = net_fen
    group, parts = selectors.group_exposure(cid, shareholder_min_pct=limits.shareholder_min_pct)
    none = selectors.Parts()
    own = parts.get(cid, none)
    own_before = own.total()
    own_after = own.total(extra=additional_fen, limit=limit_fen)
    others = sum(p.total() for c, p in parts.items() if c != cid)
    raising = own_after > own_before
    # names only for a message (a refusal or a warning): one query fewer on the common path
    names = selectors.names_of(group) if raising else {}
    ordered = [cid, *sorted((c for c in group if c != cid), key=lambda c: (names.get(c, ""), c))]
    result.group = ordered
    result.group_names = [names.get(c, str(c)) for c in ordered]
    borrower = names.get(cid, str(cid))

    single_breach = raising and over(own_after, limits.single_pct, net_fen)
    result.findings.append(
        Finding(
            kind="single",
            before=own_before,
            after=own_after,
            share=share_of(own_after, net_fen),
            limit_pct=limits.single_pct,
            breach=single_breach,
            message=_("借款人 %(b)s 授信敞口 %(e)s 元，占净资产 %(s)s%%，超过 %(l)s%% 上限")
            % {
                "b": borrower,
                "e": format_fen(own_after),
                "s": share_of(own_after, net_fen),
                "l": pct_text(limits.single_pct),
            },
        )
    )
    group_before, group_after = own_before + others, own_after + others
    group_breach = len(group) > 1 and raising and over(group_after, limits.group_pct, net_fen)
    result.findings.append(
        Finding(
            kind="group",
            before=group_before,
            after=group_after,
            share=share_of(group_after, net_fen),
            limit_pct=limits.group_pct,
            breach=group_breach,
            message=_(
                "借款人及其关联方（集团：%(g)s）授信敞口 %(e)s 元，占净资产 %(s)s%%，超过 %(l)s%% 上限"
            )
            % {
                "g": _group_label(result.group_names),
                "e": format_fen(group_after),
                "s": share_of(group_after, net_fen),
                "l": pct_text(limits.group_pct),
            },
        )
    )
    ranking = selectors.top_exposures()
    top_before, _ids = selectors.top10_total(ranking, {cid: own_before})
    top_after, top_ids = selectors.top10_total(ranking, {cid: own_after})
    top_breach = (
        raising
        and cid in top_ids
        and top_after > top_before
        and over(top_after, limits.top10_pct, net_fen)
    )
    result.findings.append(
        Finding(
            kind="top10",
            before=top_before,
            after=top_after,
            share=share_of(top_after, net_fen),
            limit_pct=limits.top10_pct,
            breach=top_breach,
            message=_("前十大借款人授信敞口合计 %(e)s 元，占净资产 %(s)s%%，超过 %(l)s%% 上限")
            % {
                "e": format_fen(top_after),
                "s": share_of(top_after, net_fen),
                "l": pct_text(limits.top10_pct),
            },
        )
    )
    return result


def concentration_enforce(
    *,
    customer: Any,
    additional_fen: int = 0,
    limit_fen: int | None = None,
    point: str,
) -> ConcentrationCheck:
    """:func:`concentration_check`, refusing a breach with :class:`ConcentrationBreach` (the
    caller's transaction rolls back; ``point`` names the decision, e.g. 审批通过)."""
    check = concentration_check(
        customer=customer, additional_fen=additional_fen, limit_fen=limit_fen
    )
    if check.ok:
        return check
    message = _("超过集中度限额，不能%(p)s：%(m)s。") % {"p": point, "m": check.message}
    raise ConcentrationBreach(message, check=check)


def concentration_warning(*, customer: Any, additional_fen: int) -> str:
    """The warning shown at submission (empty when within the limits or when no net assets are
    entered): the officer can still lower the amount before the approval refuses it."""
    check = concentration_check(customer=customer, additional_fen=additional_fen)
    if check.ok:
        return ""
    return _("集中度预警：%(m)s（审批时将被拒绝，请调整申请）") % {"m": check.message}


# --- net assets and limits -----------------------------------------------------------------------
@transaction.atomic
def net_assets_set(
    *, effective_date: dt.date, amount: Money, actor: Any, note: str = ""
) -> NetAssets:
    """Enter (or correct) the net assets effective from ``effective_date``; audited with the
    figure before and after."""
    if not isinstance(amount, Money) or amount.fen <= 0:
        raise InvalidLoan(_("净资产必须大于 0。"))
    row = NetAssets.objects.select_for_update().filter(effective_date=effective_date).first()
    before = row.amount.fen if row else None
    if row is None:
        row = NetAssets(effective_date=effective_date, amount=amount, entered_by=actor)  # type: ignore[misc]  # MoneyField stores Money
    else:
        row.amount = amount  # type: ignore[assignment]  # MoneyField stores Money
        row.entered_by = actor
    row.note = (note or "").strip()[:200]
    row.save()
    audit_record(
        action="exposure.net_assets_set",
        actor=actor,
        obj=row,
        changes={"amount": [before, amount.fen]},
        metadata={"effective_date": effective_date.isoformat(), "note": row.note},
    )
    selectors.clear_cached()
    transaction.on_commit(selectors.clear_cached)
    return row


LIMIT_FIELDS = ("single_pct", "group_pct", "top10_pct", "shareholder_min_pct")


@transaction.atomic
def limits_update(
    *,
    single_pct: Decimal,
    group_pct: Decimal,
    top10_pct: Decimal,
    shareholder_min_pct: Decimal,
    actor: Any,
    note: str = "",
) -> ConcentrationLimits:
    """A new version of the limits (the previous versions stay as history); audited."""
    note = (note or "").strip()
    if not note:
        raise InvalidLoan(_("请填写调整说明。"))
    values = {
        "single_pct": Decimal(single_pct),
        "group_pct": Decimal(group_pct),
        "top10_pct": Decimal(top10_pct),
        "shareholder_min_pct": Decimal(shareholder_min_pct),
    }
    for key, value in values.items():
        if value <= 0 or (key != "top10_pct" and value > 100):
            raise InvalidLoan(_("限额比例须大于 0 且不超过 100%。"))
    if values["group_pct"] < values["single_pct"]:
        raise InvalidLoan(_("借款人及其关联方上限不能低于单一借款人上限。"))
    current = selectors.current_limits()
    # lock the latest version so two editors queue instead of colliding on the version number
    ConcentrationLimits.objects.select_for_update().filter(pk=current.pk).first()
    row = ConcentrationLimits.objects.create(
        version=current.version + 1, note=note[:200], created_by=actor, **values
    )
    audit_record(
        action="exposure.limits_update",
        actor=actor,
        obj=row,
        changes={k: [pct_text(getattr(current, k)), pct_text(values[k])] for k in LIMIT_FIELDS},
        metadata={"version": row.version, "note": row.note},
    )
    selectors.clear_cached()
    transaction.on_commit(selectors.clear_cached)
    return row
