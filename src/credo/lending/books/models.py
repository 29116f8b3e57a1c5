"""Accounting periods (会计期间) and what a close stores; voucher account-code mappings.

Registered as lending models (``app_label = "lending"``, imported at the end of
:mod:`credo.lending.models`); the migration is lending's ``0018_accounting_periods``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from credo.core.money import MoneyField


class AccountingPeriod(models.Model):
    """One calendar month of the books. A month without a row is open. Closed (已结账): nothing
    may be posted with a business date in it (:func:`credo.lending.books.guard.ensure_open`).
    Reopening (反结账) is requested by one person and approved by another."""

    class Status(models.TextChoices):
        OPEN = "open", _("未结账")
        CLOSED = "closed", _("已结账")
        REOPENING = "reopening", _("反结账待审批")

    month = models.DateField(_("会计期间"), unique=True)  # the first day of the month
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("结账人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("结账时间"), null=True, blank=True)
    reopen_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("反结账申请人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reopen_requested_at = models.DateTimeField(_("反结账申请时间"), null=True, blank=True)
    reopen_reason = models.CharField(_("反结账原因"), max_length=300, blank=True)
    reopen_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("反结账审批人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reopen_approved_at = models.DateTimeField(_("反结账审批时间"), null=True, blank=True)
    times_reopened = models.PositiveIntegerField(_("反结账次数"), default=0)

    class Meta:
        app_label = "lending"
        verbose_name = _("会计期间")
        verbose_name_plural = _("会计期间")
        ordering = ["-month"]
        permissions = [
            ("view_books", _("查看账簿（科目余额表、总账、明细账）")),
            ("close_period", _("会计期间结账 / 申请反结账")),
            ("approve_reopen", _("审批反结账")),
            ("export_vouchers", _("导出会计凭证")),
        ]

    def __str__(self) -> str:
        return self.month.strftime("%Y-%m")

    @property
    def label(self) -> str:
        return self.month.strftime("%Y-%m")

    @property
    def is_closed(self) -> bool:
        return self.status != self.Status.OPEN


class PeriodBalance(models.Model):
    """One account's line of a closed period's 科目余额表, stored at the close: the next
    period opens from it, and ``credo ledger verify`` proves the closed month did not change.
    Amounts in fen; balances signed debit − credit."""

    period = models.ForeignKey(AccountingPeriod, on_delete=models.CASCADE, related_name="balances")
    account = models.ForeignKey("lending.LedgerAccount", on_delete=models.PROTECT, related_name="+")
    opening = models.BigIntegerField(_("期初余额"), default=0)
    debit = MoneyField(_("本期借方"), default=0)
    credit = MoneyField(_("本期贷方"), default=0)
    closing = models.BigIntegerField(_("期末余额"), default=0)

    class Meta:
        app_label = "lending"
        verbose_name = _("期末科目余额")
        verbose_name_plural = _("期末科目余额")
        constraints = [
            models.UniqueConstraint(fields=["period", "account"], name="periodbalance_unique")
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.account_id}"


class VoucherAccountMap(models.Model):
    """The lender's own account code for one ledger account in one GL system (金蝶/用友);
    without a row the account's ``export_code`` (then its code) is used."""

    system = models.CharField(_("财务软件"), max_length=30)
    account = models.ForeignKey(
        "lending.LedgerAccount", on_delete=models.CASCADE, related_name="voucher_maps"
    )
    code = models.CharField(_("科目编码"), max_length=40)
    name = models.CharField(_("科目名称"), max_length=60, blank=True)

    class Meta:
        app_label = "lending"
        verbose_name = _("凭证科目映射")
        verbose_name_plural = _("凭证科目映射")
        constraints = [
            models.UniqueConstraint(fields=["system", "account"], name="voucheraccountmap_unique")
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.account_id} {self.code}"


class LedgerDayTotal(models.Model):
    """Debits and credits of one account on one business day: a cache of the journal that
    makes a month's trial balance a sum of (accounts × days) rows. Exact by construction:
    each day carries a :class:`LedgerDaySeal` (the number and the last id of that day's
    entries when the totals were taken; entries are insert-only), and a day whose entries no
    longer match its seal is recomputed before it is used."""

    business_date = models.DateField()
    account = models.ForeignKey("lending.LedgerAccount", on_delete=models.CASCADE, related_name="+")
    debit = MoneyField(default=0)
    credit = MoneyField(default=0)

    class Meta:
        app_label = "lending"
        constraints = [
            models.UniqueConstraint(
                fields=["business_date", "account"], name="ledgerdaytotal_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.business_date} {self.account_id}"


class LedgerDaySeal(models.Model):
    business_date = models.DateField(unique=True)
    entries = models.BigIntegerField(default=0)
    last_entry_id = models.BigIntegerField(default=0)

    class Meta:
        app_label = "lending"

    def __str__(self) -> str:
        return f"{self.business_date} {self.entries}"
