"""贷款市场报价利率 (LPR) as data, and the record of each floating loan's rate change.

Imported by :mod:`credo.lending.models` so Django registers them in the ``lending`` app.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class LprRate(models.Model):
    """One published LPR fixing: in force from ``effective_date`` until the next row."""

    effective_date = models.DateField(_("生效日（发布日）"), unique=True)
    one_year = models.DecimalField(_("1 年期 LPR（%）"), max_digits=6, decimal_places=4)
    five_year = models.DecimalField(_("5 年期以上 LPR（%）"), max_digits=6, decimal_places=4)
    source = models.CharField(_("来源说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("贷款市场报价利率")
        verbose_name_plural = _("贷款市场报价利率")
        ordering = ["-effective_date"]
        permissions = [("manage_rates", _("管理贷款市场报价利率"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(one_year__gt=0, five_year__gt=0), name="lprrate_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"LPR {self.effective_date}: {self.one_year}/{self.five_year}"

    def rate_for(self, tenor: str) -> Decimal:
        return Decimal(self.five_year if tenor == "5y" else self.one_year)


class LoanRateChange(models.Model):
    """A floating loan's rate set at creation or changed on a repricing date (LPR + spread)."""

    class Kind(models.TextChoices):
        INITIAL = "initial", _("放款定价")
        REPRICING = "repricing", _("重定价")

    loan = models.ForeignKey("lending.Loan", on_delete=models.PROTECT, related_name="rate_changes")
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    effective_date = models.DateField(_("生效日"))
    old_rate = models.DecimalField(
        _("原年利率（%）"), max_digits=7, decimal_places=4, null=True, blank=True
    )
    new_rate = models.DecimalField(_("新年利率（%）"), max_digits=7, decimal_places=4)
    lpr = models.ForeignKey(LprRate, on_delete=models.PROTECT, related_name="+")
    lpr_tenor = models.CharField(_("LPR 期限"), max_length=4)
    lpr_value = models.DecimalField(_("所用 LPR（%）"), max_digits=6, decimal_places=4)
    spread_bp = models.IntegerField(_("加点（基点）"))
    from_period = models.PositiveIntegerField(_("起始期次"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("贷款利率变动")
        verbose_name_plural = _("贷款利率变动")
        ordering = ["loan", "effective_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan", "kind", "effective_date"], name="loanratechange_once_per_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.effective_date}: {self.old_rate} → {self.new_rate}"
