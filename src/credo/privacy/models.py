"""个人信息保护法 (PIPL): data-subject requests, legal holds and retention runs.

Marketing consent lives in the notify app (``notify.MarketingConsent``) because the notification
guardrails, below this app, must read it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DataSubjectRequest(models.Model):
    """One request of a person under 个人信息保护法 第四十五、四十六、四十七条, about a customer
    or a lead. Answered within 15 working days (``due_on``)."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("查阅复制")
        CORRECTION = "correction", _("更正")
        DELETION = "deletion", _("删除")

    class Status(models.TextChoices):
        RECEIVED = "received", _("已受理")
        HELD = "held", _("保留期内待删除")
        COMPLETED = "completed", _("已办结")
        REJECTED = "rejected", _("已拒绝")

    class HoldBasis(models.TextChoices):
        NONE = "", _("无")
        OPEN_LOAN = "open_loan", _("存在未结清贷款")
        RETENTION = "retention", _("结清后法定保存期内")
        LEGAL_HOLD = "legal_hold", _("法律保全（诉讼/监管调查）")

    kind = models.CharField(_("请求类型"), max_length=12, choices=Kind.choices)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    lead = models.ForeignKey(
        "leads.Lead",
        verbose_name=_("线索"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # A masked label (张*, 138****0000) so the register stays readable after anonymization.
    subject_label = models.CharField(_("主体"), max_length=120)
    received_on = models.DateField(_("收到日期"))
    due_on = models.DateField(_("答复期限"), db_index=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.RECEIVED
    )
    detail = models.TextField(_("请求内容"), blank=True)
    hold_basis = models.CharField(
        _("保留依据"), max_length=12, choices=HoldBasis.choices, blank=True, default=""
    )
    scheduled_on = models.DateField(_("计划删除日期"), null=True, blank=True, db_index=True)
    outcome = models.TextField(_("处理结果"), blank=True)
    reason = models.TextField(_("理由"), blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("个人信息主体请求")
        verbose_name_plural = _("个人信息主体请求")
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | Q(lead__isnull=False),
                name="dsr_has_subject",
            )
        ]
        permissions = [
            ("handle_requests", _("处理个人信息主体请求")),
            ("export_personal_data", _("导出个人信息副本")),
            ("view_inventory", _("查看个人信息清单")),
            ("manage_legal_holds", _("管理法律保全")),
            ("run_retention", _("执行保留策略")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} {self.subject_label}"


class LegalHold(models.Model):
    """Litigation or a supervisory inquiry: nothing about the person is deleted while it is in
    force (neither on request nor by a retention policy)."""

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    lead = models.ForeignKey(
        "leads.Lead",
        verbose_name=_("线索"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField(_("保全事由"), max_length=200)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(_("设立时间"), auto_now_add=True)
    released_at = models.DateTimeField(_("解除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("法律保全")
        verbose_name_plural = _("法律保全")
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | Q(lead__isnull=False),
                name="hold_has_subject",
            )
        ]

    def __str__(self) -> str:
        return self.reason


class RetentionRun(models.Model):
    """One run of the retention policies: what each policy removed (counts and ids)."""

    run_on = models.DateField(_("执行日期"), db_index=True)
    started_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    report = models.JSONField(_("执行报告"), default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("保留策略执行")
        verbose_name_plural = _("保留策略执行")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"retention {self.run_on}"
