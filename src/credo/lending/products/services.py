"""Writes to loan products: create, edit a draft, publish, start a new draft version.

Published versions are immutable (loans copy their terms); every change is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from credo.core import versioning
from credo.core.audit.services import audit_record
from credo.core.money import Money
from credo.lending.errors import InvalidLoan, InvalidState
from credo.lending.models import Product, ProductVersion
from credo.lending.pricing import caps
from credo.lending.schedule import period_months

VERSION_FIELDS = (
    "min_amount",
    "max_amount",
    "min_months",
    "max_months",
    "min_rate",
    "max_rate",
    "method",
    "rate_type",
    "lpr_tenor",
    "spread_bp",
    "repricing",
    "repayment_day",
    "upfront_fee_rate",
    "upfront_fee_timing",
    "installment_fee",
    "max_apr",
    "penalty_multiplier",
    "grace_days",
    "penalty_days_in_year",
    "compound_interest",
    "penalty_from",
    "holiday_rule",
    "allocation_order",
    "required_documents",
)

# Fields whose change re-checks the version against its APR cap (issue 20).
FEE_FIELDS = ("upfront_fee_rate", "upfront_fee_timing", "installment_fee", "max_apr")

FEE_TIMINGS = ("disbursement", "first_installment")


def check_fee_terms(data: Mapping[str, Any]) -> None:
    """The upfront fee of a version: a rate in [0, 100) and a collection the borrower pays
    separately (no 砍头息, 民法典 第六百七十条); refuses nonsense in Chinese."""
    if "upfront_fee_timing" in data and data["upfront_fee_timing"] not in FEE_TIMINGS:
        raise InvalidLoan(
            _("一次性手续费收取方式只能是“放款时收取”或“随首期还款收取”，不得从放款金额中扣除。")
        )
    if "upfront_fee_rate" in data:
        try:
            rate = Decimal(str(data["upfront_fee_rate"]))
        except InvalidOperation:
            raise InvalidLoan(_("一次性手续费率格式不正确。")) from None
        if not rate.is_finite() or not Decimal(0) <= rate < Decimal(100):
            raise InvalidLoan(_("一次性手续费率应不低于 0% 且低于 100%。"))


def check_terms(
    pv: ProductVersion, *, amount: Any, months: Any, rate: Any, amount_label: str = ""
) -> tuple[Money, int, Decimal]:
    """The one check of requested terms against a product version (published; amount, term
    and rate inside its ranges), used by loan creation and by applications. Returns the
    parsed (amount, months, rate) or raises :class:`InvalidLoan` with a user message."""
    label = amount_label or _("贷款金额")
    if pv.status != ProductVersion.Status.PUBLISHED:
        raise InvalidLoan(_("只能使用已发布的产品版本。"))
    if not isinstance(amount, Money) or amount.fen <= 0:
        raise InvalidLoan(_("%(label)s必须大于 0。") % {"label": label})
    if not pv.min_amount.fen <= amount.fen <= pv.max_amount.fen:
        raise InvalidLoan(
            _("%(label)s应在 %(lo)s–%(hi)s 元之间。")
            % {
                "label": label,
                "lo": pv.min_amount.format(symbol=False),
                "hi": pv.max_amount.format(symbol=False),
            }
        )
    try:
        months = int(months)
    except (TypeError, ValueError):
        raise InvalidLoan(_("期限必须是整数（月）。")) from None
    if not pv.min_months <= months <= pv.max_months:
        raise InvalidLoan(
            _("期限应在 %(lo)s–%(hi)s 个月之间。") % {"lo": pv.min_months, "hi": pv.max_months}
        )
    step = period_months(pv.method)
    if months % step:
        raise InvalidLoan(
            _("%(m)s的期限须为 %(n)s 个月的整数倍。") % {"m": pv.get_method_display(), "n": step}
        )
    try:
        rate_d = Decimal(str(rate))
    except InvalidOperation:
        raise InvalidLoan(_("年利率格式不正确。")) from None
    if not rate_d.is_finite() or not pv.min_rate <= rate_d <= pv.max_rate:
        raise InvalidLoan(
            _("年利率应在 %(lo)s%%–%(hi)s%% 之间。")
            % {"lo": pv.min_rate.normalize(), "hi": pv.max_rate.normalize()}
        )
    return amount, months, rate_d


def _snapshot(version: ProductVersion) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in VERSION_FIELDS:
        value = getattr(version, name)
        out[name] = value if isinstance(value, int | list | type(None)) else str(value)
    return out


@transaction.atomic
def product_create(*, code: str, name: str, version_data: Mapping[str, Any], actor: Any) -> Product:
    """A new product with draft version 1."""
    check_fee_terms(version_data)
    product = Product.objects.create(code=code, name=name)
    version = ProductVersion.objects.create(
        product=product, number=1, status=ProductVersion.Status.DRAFT, **dict(version_data)
    )
    audit_record(
        action="product.create",
        actor=actor,
        obj=product,
        changes={"code": [None, code], "name": [None, name]},
        metadata={"version": version.number, "terms": _snapshot(version)},
    )
    return product


@transaction.atomic
def version_update(
    *, version: ProductVersion, data: Mapping[str, Any], actor: Any
) -> ProductVersion:
    """Edit a draft version; published and retired versions are read-only."""
    locked = ProductVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status != ProductVersion.Status.DRAFT:
        raise InvalidState(_("只有草稿版本可以修改；已发布的版本请新建版本。"))
    check_fee_terms(data)
    before = _snapshot(locked)
    for name, value in data.items():
        if name in VERSION_FIELDS:
            setattr(locked, name, value)
    if any(_snapshot(locked)[k] != before[k] for k in FEE_FIELDS):
        caps.check_version(locked)  # a fee change may not push the version over its APR cap
    locked.save()
    after = _snapshot(locked)
    changes = {k: [before[k], after[k]] for k in VERSION_FIELDS if before[k] != after[k]}
    audit_record(action="product.version_update", actor=actor, obj=locked, changes=changes)
    return locked


@transaction.atomic
def version_publish(*, version: ProductVersion, actor: Any) -> ProductVersion:
    """Publish a draft and retire the version published before it, in one transaction."""
    locked = ProductVersion.objects.select_for_update().get(pk=version.pk)
    if locked.status != ProductVersion.Status.DRAFT:
        raise InvalidState(_("只有草稿版本可以发布。"))
    caps.check_version(locked)  # 综合融资成本上限: the worst corner within max_apr
    previous = versioning.publish(locked, parent_field="product", actor=actor)
    audit_record(
        action="product.version_publish",
        actor=actor,
        obj=locked,
        changes={"status": ["draft", "published"]},
        metadata={"retired": [f"v{old.number}" for old in previous]},
    )
    return locked


@transaction.atomic
def version_new(*, product: Product, actor: Any) -> ProductVersion:
    """A new draft (number + 1) copied from the published (else the latest) version."""
    Product.objects.select_for_update().get(pk=product.pk)
    versions = ProductVersion.objects.filter(product=product)
    if versions.filter(status=ProductVersion.Status.DRAFT).exists():
        raise InvalidState(_("该产品已有草稿版本，请先编辑或发布该草稿。"))
    source = (
        versions.filter(status=ProductVersion.Status.PUBLISHED).first()
        or versions.order_by("-number").first()
    )
    if source is None:
        raise InvalidState(_("该产品没有可复制的版本。"))
    top = versions.order_by("-number").values_list("number", flat=True).first() or 0
    draft = ProductVersion.objects.create(
        product=product,
        number=top + 1,
        status=ProductVersion.Status.DRAFT,
        **{name: getattr(source, name) for name in VERSION_FIELDS},
    )
    audit_record(
        action="product.version_new",
        actor=actor,
        obj=draft,
        metadata={"copied_from": f"v{source.number}"},
    )
    return draft
