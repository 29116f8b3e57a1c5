"""Provision rates (versioned configuration), monthly provision runs and their lines.

Registered as lending models (``app_label = "lending"``, imported at the end of
:mod:`credo.lending.models`); the migration is lending's ``0024_loan_loss_provisions``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from credo.core.money import MoneyField

CLASSES = ("normal", "special_mention", "substandard", "doubtful", "loss")


def _pct(label: Any, default: str) -> models.DecimalField:
    return models.DecimalField(label, max_digits=6, decimal_places=3, default=Decimal(default))


class ProvisionRates(models.Model):
    """One version of the provision rates (percent of the loan balance). A change adds a row
    (``version`` + 1, audited); the highest version applies to the next run. Without a row the
    defaults of 《贷款损失准备计提指引》 apply."""

    version = models.PositiveIntegerField(_("版本"), unique=True)
    general_pct = _pct(_("一般准备（% 贷款余额）"), "1")
    normal_pct = _pct(_("正常类专项准备（%）"), "0")
    special_mention_pct = _pct(_("关注类专项准备（%）"), "2")
    substandard_pct = _pct(_("次级类专项准备（%）"), "25")
    doubtful_pct = _pct(_("可疑类专项准备（%）"), "50")
    loss_pct = _pct(_("损失类专项准备（%）"), "100")
    note = models.CharField(_("调整说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("调整人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "lending"
        verbose_name = _("贷款损失准备计提比例")
        verbose_name_plural = _("贷款损失准备计提比例")
        ordering = ["-version"]
        permissions = [
            ("manage_provisions", _("维护贷款损失准备计提比例、执行月度计提")),
        ]

    def __str__(self) -> str:
        return f"v{self.version}"

    def specific_pct(self, classification: str) -> Decimal:
        return Decimal(getattr(self, f"{classification}_pct"))

    def as_dict(self) -> dict[str, str]:
        keys = ["general_pct", *(f"{c}_pct" for c in CLASSES)]
        return {k: f"{Decimal(getattr(self, k)).normalize():f}" for k in keys}


class ProvisionRun(models.Model):
    """One monthly provision run (计提) of ``month`` (its first day), computed from the balances
    at ``month_end`` and posted on that date. A re-run of a month that changes nothing stores
    nothing; one that finds a difference (a correction posted into the open month) is stored
    with the next ``sequence`` and posts only that difference."""

    month = models.DateField(_("会计期间"))
    sequence = models.PositiveIntegerField(_("次序"), default=1)
    month_end = models.DateField(_("计提日期"))
    rates = models.ForeignKey(
        ProvisionRates,
        verbose_name=_("计提比例版本"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="runs",
    )
    rates_used = models.JSONField(_("计提比例"), default=dict)
    loans = models.PositiveIntegerField(_("贷款笔数"), default=0)
    balance = MoneyField(_("贷款余额"), default=0)
    required = MoneyField(_("应计提准备"), default=0)
    previous = models.BigIntegerField(_("计提前准备余额"), default=0)
    posted = models.BigIntegerField(_("本次计提（负数为转回）"), default=0)
    # the last journal entry when the run finished: verify checks "the GL after this run"
    last_entry_id = models.BigIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("执行人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "lending"
        verbose_name = _("贷款损失准备计提")
        verbose_name_plural = _("贷款损失准备计提")
        ordering = ["-month", "-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["month", "sequence"], name="provisionrun_unique")
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} #{self.sequence}"

    @property
    def label(self) -> str:
        return self.month.strftime("%Y-%m")


class ProvisionLine(models.Model):
    """Required reserve of one product × five-level class in a run (amounts in fen)."""

    run = models.ForeignKey(ProvisionRun, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey("lending.Product", on_delete=models.PROTECT, related_name="+")
    classification = models.CharField(_("五级分类"), max_length=16)
    loans = models.PositiveIntegerField(_("贷款笔数"), default=0)
    balance = MoneyField(_("贷款余额"), default=0)
    general_pct = models.DecimalField(max_digits=6, decimal_places=3)
    specific_pct = models.DecimalField(max_digits=6, decimal_places=3)
    general = MoneyField(_("一般准备"), default=0)
    specific = MoneyField(_("专项准备"), default=0)
    required = MoneyField(_("应计提准备"), default=0)

    class Meta:
        app_label = "lending"
        constraints = [
            models.UniqueConstraint(
                fields=["run", "product", "classification"], name="provisionline_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.run} {self.product_id} {self.classification}"


class ProvisionPosting(models.Model):
    """Per product in a run: the reserve's balance at month end before the run, the required
    amount, and the difference posted (``entry``; none when the difference is zero)."""

    run = models.ForeignKey(ProvisionRun, on_delete=models.CASCADE, related_name="postings")
    product = models.ForeignKey("lending.Product", on_delete=models.PROTECT, related_name="+")
    previous = models.BigIntegerField(_("计提前准备余额"), default=0)
    required = MoneyField(_("应计提准备"), default=0)
    amount = models.BigIntegerField(_("本次计提（负数为转回）"), default=0)
    entry = models.OneToOneField(
        "lending.JournalEntry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="provision_posting",
    )

    class Meta:
        app_label = "lending"
        constraints = [
            models.UniqueConstraint(fields=["run", "product"], name="provisionposting_unique")
        ]

    def __str__(self) -> str:
        return f"{self.run} {self.product_id} {self.amount}"
