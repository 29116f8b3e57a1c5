"""净资产 per period and the concentration limits (集中度限额), both append-only-ish and audited.

Registered as lending models (``app_label = "lending"``, imported at the end of
:mod:`credo.lending.models`); the migration is lending's ``0020_exposure_limits``.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credo.core.money import MoneyField

PCT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class NetAssets(models.Model):
    """The lender's net assets (净资产) from ``effective_date`` on, as finance enters them (usually
    the month-end balance sheet figure). The latest row effective on a day applies to it."""

    effective_date = models.DateField(_("生效日期"), unique=True)
    amount = MoneyField(_("净资产"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "lending"
        verbose_name = _("净资产")
        verbose_name_plural = _("净资产")
        ordering = ["-effective_date"]
        permissions = [
            ("manage_exposure", _("维护净资产与集中度限额")),
            ("view_exposure", _("查看集中度报表")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="netassets_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.effective_date} {self.amount}"


class ConcentrationLimits(models.Model):
    """One version of the limits: a change adds a row (``version`` + 1); the highest version
    applies. Percentages of net assets; the shareholder threshold decides which 股东 relations
    link a group (see :mod:`credo.lending.exposure.selectors`)."""

    version = models.PositiveIntegerField(_("版本"), unique=True)
    single_pct = models.DecimalField(
        _("单一借款人上限（%）"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("10"),
        validators=PCT,
    )
    group_pct = models.DecimalField(
        _("借款人及其关联方上限（%）"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("15"),
        validators=PCT,
    )
    top10_pct = models.DecimalField(
        _("前十大借款人合计上限（%）"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("50"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1000"))],
    )
    shareholder_min_pct = models.DecimalField(
        _("关联股东持股比例下限（%）"),
        max_digits=6,
        decimal_places=3,
        default=Decimal("20"),
        validators=PCT,
    )
    note = models.CharField(_("调整说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("调整人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "lending"
        verbose_name = _("集中度限额")
        verbose_name_plural = _("集中度限额")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version}: {self.single_pct}%/{self.group_pct}%/{self.top10_pct}%"
