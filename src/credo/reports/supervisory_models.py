"""The frozen monthly summary behind the supervisory reports (监管报表).

Registered as reports models (imported at the end of :mod:`credo.reports.models`). One
:class:`SupervisoryMonth` per calendar month with its totals, top-10 borrowers and the lender's
identity at freezing; one :class:`SupervisoryCell` per table × bucket (五级分类, 期限, 利率,
借款人类型, 行业, 担保方式, 地市). Reports are built from these few hundred rows only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from credo.core.money import MoneyField


class SupervisoryMonth(models.Model):
    """A month's summary, computed from the data as of the month end. ``frozen_at`` is set when
    it was stored by the accounting period's close (结账) or ``credo supervisory freeze``; a
    frozen month is only rewritten by a new close of the same period (after 反结账)."""

    month = models.DateField(_("报表月份"), unique=True)  # first day of the month
    month_end = models.DateField(_("数据截止日"))
    frozen_at = models.DateTimeField(_("冻结时间"), null=True, blank=True)
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("冻结人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    source = models.CharField(_("来源"), max_length=20, default="close")  # close | command
    totals = models.JSONField(_("合计"), default=dict)
    top_borrowers = models.JSONField(_("前十大借款人"), default=list)
    lender = models.JSONField(_("报送机构"), default=dict)
    seconds = models.FloatField(_("计算耗时（秒）"), default=0)

    class Meta:
        app_label = "reports"
        verbose_name = _("监管报表月度汇总")
        verbose_name_plural = _("监管报表月度汇总")
        ordering = ["-month"]
        permissions = [("view_supervisory", _("查看监管报表"))]

    def __str__(self) -> str:
        return self.month.strftime("%Y-%m")


class SupervisoryCell(models.Model):
    """One bucket of one table of a month: loans and balances at the month end, flows in it."""

    period = models.ForeignKey(SupervisoryMonth, on_delete=models.CASCADE, related_name="cells")
    table = models.CharField(_("表"), max_length=16)
    bucket = models.CharField(_("分组"), max_length=20)
    loans = models.PositiveIntegerField(_("笔数"), default=0)
    balance = MoneyField(_("贷款余额"), default=0)
    overdue_balance = MoneyField(_("逾期贷款余额"), default=0)
    npl_balance = MoneyField(_("不良贷款余额"), default=0)
    disbursed_loans = models.PositiveIntegerField(_("本月发放笔数"), default=0)
    disbursed_amount = MoneyField(_("本月发放金额"), default=0)
    repaid_principal = MoneyField(_("本月收回本金"), default=0)
    # Σ balance(fen) × annual rate(%): the weighted average rate is this over the balance
    rate_weight = models.DecimalField(max_digits=30, decimal_places=4, default=0)

    class Meta:
        app_label = "reports"
        verbose_name = _("监管报表汇总行")
        verbose_name_plural = _("监管报表汇总行")
        constraints = [
            models.UniqueConstraint(
                fields=["period", "table", "bucket"], name="supervisory_cell_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.table}:{self.bucket}"
