"""Saved reports, dashboard pins, scheduled deliveries and the daily portfolio snapshot."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from credo.core.money import MoneyField


class SavedReport(models.Model):
    class Chart(models.TextChoices):
        TABLE = "table", _("表格")
        BAR = "bar", _("柱状图")
        LINE = "line", _("折线图")
        PIE = "pie", _("饼图")
        FUNNEL = "funnel", _("漏斗图")

    name = models.CharField(_("报表名称"), max_length=120)
    dataset = models.CharField(_("数据集"), max_length=40)
    spec = models.JSONField(_("查询定义"), default=dict)
    chart = models.CharField(
        _("图表类型"), max_length=10, choices=Chart.choices, default=Chart.TABLE
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_reports"
    )
    shared = models.BooleanField(_("共享给所有有权限的用户"), default=False)
    on_dashboard = models.BooleanField(_("显示在我的工作台"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("自定义报表")
        verbose_name_plural = _("自定义报表")
        ordering = ["name", "id"]
        permissions = [
            ("build_report", _("使用报表设计器")),
            ("schedule_report", _("设置定时报表")),
        ]

    def __str__(self) -> str:
        return self.name


class ReportSchedule(models.Model):
    class Frequency(models.TextChoices):
        DAILY = "daily", _("每天")
        WEEKLY = "weekly", _("每周")
        MONTHLY = "monthly", _("每月")

    report = models.ForeignKey(SavedReport, on_delete=models.CASCADE, related_name="schedules")
    frequency = models.CharField(_("频率"), max_length=10, choices=Frequency.choices)
    weekday = models.PositiveSmallIntegerField(_("星期（1–7）"), null=True, blank=True)
    day_of_month = models.PositiveSmallIntegerField(_("日期（1–28）"), null=True, blank=True)
    time = models.TimeField(_("发送时间"))
    recipients = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="+", verbose_name=_("接收人")
    )
    channels = models.JSONField(
        _("发送渠道"), default=list
    )  # ["email", "wecom_bot", "dingtalk_bot", "inapp"]
    active = models.BooleanField(_("启用"), default=True)
    next_run_at = models.DateTimeField(_("下次运行"), null=True, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("定时报表")
        verbose_name_plural = _("定时报表")

    def __str__(self) -> str:
        return f"{self.report} ({self.get_frequency_display()})"


class ReportRun(models.Model):
    class Status(models.TextChoices):
        DONE = "done", _("完成")
        FAILED = "failed", _("失败")

    schedule = models.ForeignKey(ReportSchedule, on_delete=models.CASCADE, related_name="runs")
    slot = models.DateTimeField(_("计划时间"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices)
    rows = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("报表发送记录")
        verbose_name_plural = _("报表发送记录")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "slot"], name="report_run_once_per_slot")
        ]

    def __str__(self) -> str:
        return f"{self.schedule} @ {self.slot:%Y-%m-%d %H:%M}"


class PortfolioSnapshot(models.Model):
    """One row per business date × owner × product: written by the close-of-business batch so the
    dashboard's trends read a few hundred rows instead of the whole loan book."""

    business_date = models.DateField(db_index=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    branch = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    product = models.ForeignKey("lending.Product", on_delete=models.CASCADE, related_name="+")
    loans = models.PositiveIntegerField(default=0)
    outstanding = MoneyField(default=0)
    overdue_loans = models.PositiveIntegerField(default=0)
    overdue_balance = MoneyField(default=0)
    m1_balance = MoneyField(default=0)
    m3_balance = MoneyField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["business_date", "owner", "product"], name="snapshot_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.business_date} {self.owner_id} {self.product_id}"


class LoanMonthEnd(models.Model):
    """Each open loan's DPD and balance at a month end (written by the close of business on the
    last day of the month, or back-filled): the basis of vintage curves and roll rates."""

    month_end = models.DateField(db_index=True)
    loan = models.ForeignKey("lending.Loan", on_delete=models.CASCADE, related_name="+")
    cohort = models.DateField()  # first day of the disbursement month
    dpd = models.PositiveIntegerField(default=0)
    outstanding = MoneyField(default=0)
    principal = MoneyField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month_end", "loan"], name="loan_month_end_unique")
        ]
        indexes = [models.Index(fields=["cohort", "month_end"], name="loan_month_cohort_idx")]

    def __str__(self) -> str:
        return f"{self.loan_id} @ {self.month_end}"


class DueSummary(models.Model):
    """Amounts due and paid per due date × account manager, refreshed by the close of business
    for the recent window (``services.DUE_WINDOW_DAYS``), so collection-rate KPIs read a few
    thousand rows instead of millions of installments."""

    due_date = models.DateField(db_index=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    branch = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    due = MoneyField(default=0)
    paid = MoneyField(default=0)
    as_of = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["due_date", "owner", "team", "branch"], name="due_summary_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.due_date} {self.owner_id}"


from credo.reports.supervisory_models import (  # noqa: E402, F401
    SupervisoryCell,
    SupervisoryMonth,
)
