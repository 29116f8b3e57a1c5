"""The book's accounting basis and the per-loan accrual sub-ledger.

Registered as lending models (``app_label = "lending"``, imported at the end of
:mod:`credo.lending.models`); the migration is lending's ``0023_interest_accruals``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

NON_ACCRUAL_DPD_DEFAULT = 90


class BookSettings(models.Model):
    """One row (pk 1): the book's accounting basis (记账基础) and the non-accrual threshold.
    Without a row the book is on the accrual basis (a new book); migration 0023 keeps a book
    that already has journal entries on the cash basis."""

    class Basis(models.TextChoices):
        ACCRUAL = "accrual", _("权责发生制")
        CASH = "cash", _("收付实现制")

    basis = models.CharField(
        _("记账基础"), max_length=10, choices=Basis.choices, default=Basis.ACCRUAL
    )
    non_accrual_dpd = models.PositiveIntegerField(
        _("转非应计逾期天数"),
        default=NON_ACCRUAL_DPD_DEFAULT,
        help_text=_("逾期超过该天数的贷款停止计提利息，已计提未收利息转入表外。"),
    )
    changed_at = models.DateTimeField(_("修改时间"), auto_now=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        app_label = "lending"
        verbose_name = _("账簿设置")
        verbose_name_plural = _("账簿设置")

    def __str__(self) -> str:
        return str(self.get_basis_display())


class LoanAccrual(models.Model):
    """One loan's accrual sub-ledger as running balances (one row per loan, rewritten by each
    close of business — a row per loan per day would cost the close an INSERT of every open
    loan; the daily amounts are a pure function of the schedule, see
    :func:`credo.lending.accruals.calc.cumulative`).

    ``*_accrued`` is what the daily portfolio entries (利息计提, one per product per day) put on
    the receivable for this loan; ``*_adjusted`` is the signed sum (debit − credit) of this
    loan's own journal lines on the receivable account — receipts settling it, the reversal at
    转非应计, replay corrections. Receivable = accrued + adjusted ≥ 0, and the control account
    equals the sum over the loans (``credo ledger verify``). ``*_off_balance`` is 表外应收利息 /
    罚息: reversed at non-accrual plus what was earned while non-accrual, recognised when
    received."""

    loan = models.OneToOneField(
        "lending.Loan", on_delete=models.CASCADE, related_name="accrual", primary_key=True
    )
    product = models.ForeignKey("lending.Product", on_delete=models.PROTECT, related_name="+")
    interest_accrued = models.BigIntegerField(_("累计计提利息"), default=0)
    interest_adjusted = models.BigIntegerField(_("应收利息调整"), default=0)
    interest_off_balance = models.BigIntegerField(_("表外应收利息"), default=0)
    penalty_accrued = models.BigIntegerField(_("累计计提罚息"), default=0)
    penalty_adjusted = models.BigIntegerField(_("应收罚息调整"), default=0)
    penalty_off_balance = models.BigIntegerField(_("表外应收罚息"), default=0)
    # the installment period being accrued: its start (previous due date or the value date),
    # due date, scheduled interest, and what has been recognised of it so far
    period_start = models.DateField(null=True, blank=True)
    period_due = models.DateField(null=True, blank=True)
    period_interest = models.BigIntegerField(default=0)
    period_accrued = models.BigIntegerField(default=0)
    non_accrual_since = models.DateField(_("转非应计日期"), null=True, blank=True)
    last_date = models.DateField(_("最近计提日"), null=True, blank=True)
    # the loan's ``version`` when the close last found the period above to be one of the loan's
    # installment periods: every service that rebuilds a schedule (提前还款, 重定价, 重组,
    # replay) bumps the loan's version, so only loans whose version moved since are checked
    # again (the check against the installments cost ~60 ms per 5,000-loan chunk every night)
    checked_version = models.IntegerField(null=True, blank=True, editable=False)

    class Meta:
        app_label = "lending"
        verbose_name = _("贷款应计明细")
        verbose_name_plural = _("贷款应计明细")

    def __str__(self) -> str:
        return f"{self.loan_id} 应计"

    @property
    def interest_receivable(self) -> int:
        return self.interest_accrued + self.interest_adjusted

    @property
    def penalty_receivable(self) -> int:
        return self.penalty_accrued + self.penalty_adjusted

    @property
    def is_non_accrual(self) -> bool:
        return self.non_accrual_since is not None


class AccrualBatch(models.Model):
    """What one chunk of one close of business accrued for one product; the after-close job
    posts each business date's batches as ONE entry per product (Dr 应收利息 / Cr 利息收入,
    Dr 应收罚息 / Cr 罚息收入) and links them to it. A chunk's batches commit with its close."""

    business_date = models.DateField(db_index=True)
    product = models.ForeignKey("lending.Product", on_delete=models.PROTECT, related_name="+")
    interest = models.BigIntegerField(default=0)
    penalty = models.BigIntegerField(default=0)
    loans = models.IntegerField(default=0)
    # derived from the entry (posted entries are never deleted; a test's reset may)
    entry = models.ForeignKey(
        "lending.JournalEntry", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )

    class Meta:
        app_label = "lending"
        verbose_name = _("计提批次")
        verbose_name_plural = _("计提批次")

    def __str__(self) -> str:
        return f"{self.business_date} {self.product_id} {self.interest}"
