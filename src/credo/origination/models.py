"""Loan applications (贷款申请), their documents, correction notices and customer portal links.

An application copies owner/team/branch from its customer so the data scope works exactly as it
does for loans. Every status change goes through the services (``services/``) and the
transition tables in ``states.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credo.core.money import MoneyField


class Application(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已提交")
        ADMISSION_REJECTED = "admission_rejected", _("准入拒绝")
        IN_APPROVAL = "in_approval", _("审批中")
        RETURNED = "returned", _("退回补充")
        APPROVED = "approved", _("审批通过")
        CONTRACT_SENT = "contract_sent", _("合同待签")
        SIGNED = "signed", _("合同已签")
        LOAN_CREATED = "loan_created", _("待放款")
        REJECTED = "rejected", _("审批拒绝")
        WITHDRAWN = "withdrawn", _("已撤回")

    class GradeSource(models.TextChoices):
        SCORECARD = "scorecard", _("申请评分卡等级")
        RULES = "rules", _("信用报告规则评级")

    number = models.CharField(_("申请编号"), max_length=20, unique=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    lead_id = models.PositiveBigIntegerField(_("来源线索"), null=True, blank=True)
    product_version = models.ForeignKey(
        "lending.ProductVersion",
        verbose_name=_("产品版本"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    amount = MoneyField(_("申请金额"))
    months = models.PositiveSmallIntegerField(_("期限（月）"))
    annual_rate = models.DecimalField(_("年利率（%）"), max_digits=7, decimal_places=4)
    method = models.CharField(_("还款方式"), max_length=20)
    purpose = models.CharField(_("贷款用途"), max_length=200)
    # [{"type": "guarantor"|"collateral", "name": ..., "description": ..., "value": fen}]
    guarantees = models.JSONField(_("担保/抵押"), default=list, blank=True)
    custom = models.JSONField(_("自定义字段"), default=dict, blank=True)

    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    admission_evaluation = models.ForeignKey(
        "rules.Evaluation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    admission_passed = models.BooleanField(_("准入通过"), null=True, blank=True)
    admission_reasons = models.JSONField(_("准入结论"), default=list, blank=True)
    # The score/grade the approval routing model received (``approvals.route`` input
    # ``risk_grade``): the published scorecard's, else the credit report's rules grade.
    risk_score = models.IntegerField(_("审批路由评分"), null=True, blank=True)
    risk_grade = models.CharField(_("审批路由等级"), max_length=1, blank=True)
    risk_grade_source = models.CharField(
        _("审批路由依据"), max_length=10, choices=GradeSource.choices, blank=True
    )
    # The credit report's rules-based score/grade at submission (信用报告规则评分 / 规则评级),
    # kept even when the scorecard routed so both grades can be shown side by side.
    rules_score = models.IntegerField(_("信用报告规则评分"), null=True, blank=True)
    rules_grade = models.CharField(_("规则评级"), max_length=1, blank=True)
    approved_amount = MoneyField(_("批准金额"), null=True, blank=True)  # type: ignore[misc]
    approved_months = models.PositiveSmallIntegerField(_("批准期限"), null=True, blank=True)
    return_question = models.TextField(_("退回问题"), blank=True)
    return_answer = models.TextField(_("补充说明"), blank=True)
    decision_note = models.CharField(_("决定说明"), max_length=300, blank=True)
    loan = models.OneToOneField(
        "lending.Loan", on_delete=models.PROTECT, null=True, blank=True, related_name="application"
    )

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("客户经理"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    team = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    branch = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("贷款申请")
        verbose_name_plural = _("贷款申请")
        ordering = ["-id"]
        permissions = [
            ("submit_application", _("提交贷款申请")),
            ("review_documents", _("审核申请资料")),
            ("manage_portal_links", _("生成客户上传链接")),
        ]
        indexes = [
            models.Index(fields=["owner", "-id"], name="app_owner_idx"),
            models.Index(fields=["team", "-id"], name="app_team_idx"),
            models.Index(fields=["branch", "-id"], name="app_branch_idx"),
        ]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="app_amount_pos")]

    def __str__(self) -> str:
        return self.number

    @property
    def final_amount(self) -> int:
        return (self.approved_amount or self.amount).fen

    @property
    def final_months(self) -> int:
        return self.approved_months or self.months


class Document(models.Model):
    """One uploaded file for one checklist item. The latest upload of an item is the one
    reviewed; older ones stay for the record."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        ACCEPTED = "accepted", _("已通过")
        REJECTED = "rejected", _("已退回")

    class Via(models.TextChoices):
        STAFF = "staff", _("员工上传")
        PORTAL = "portal", _("客户上传")
        API = "api", _("接口")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="documents")
    item = models.CharField(_("资料项"), max_length=60)
    original_name = models.CharField(_("原文件名"), max_length=200)
    stored_name = models.CharField(max_length=80, unique=True)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64)
    via = models.CharField(_("来源"), max_length=10, choices=Via.choices)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    status = models.CharField(
        _("审核状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    reject_reason = models.CharField(_("退回原因"), max_length=200, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("申请资料")
        verbose_name_plural = _("申请资料")
        ordering = ["application", "item", "-id"]

    def __str__(self) -> str:
        return f"{self.application} {self.item} {self.original_name}"


class CorrectionNotice(models.Model):
    """补正通知: exactly what the customer must fix (missing / rejected checklist items)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="notices")
    # [{"item": "营业执照", "problem": "missing"|"rejected", "reason": "..."}]
    items = models.JSONField(_("补正事项"), default=list)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("补正通知")
        verbose_name_plural = _("补正通知")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.application} #{self.pk}"


class PortalLink(models.Model):
    """A no-login customer link. Only the SHA-256 of the token is stored.

    * ``upload``: documents and submission for one application (``application`` set).
    * ``invite``: the customer starts an application themselves (``customer`` set, no
      application yet); used up when the application is created, which gets its own upload link.
    """

    class Purpose(models.TextChoices):
        UPLOAD = "upload", _("资料上传")
        INVITE = "invite", _("在线申请邀请")

    purpose = models.CharField(
        _("用途"), max_length=10, choices=Purpose.choices, default=Purpose.UPLOAD
    )
    application = models.ForeignKey(
        Application,
        on_delete=models.CASCADE,
        related_name="portal_links",
        null=True,
        blank=True,
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.CASCADE,
        related_name="portal_invites",
        null=True,
        blank=True,
    )
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(_("有效期至"))
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    # Set when the application is submitted: the link has served its purpose (one use).
    used_at = models.DateTimeField(_("使用完毕时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Upload rate limit: a fixed window per link.
    window_start = models.DateTimeField(null=True, blank=True)
    window_uploads = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("客户上传链接")
        verbose_name_plural = _("客户上传链接")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(purpose="upload", application__isnull=False, customer__isnull=True))
                | Q(purpose="invite", application__isnull=True, customer__isnull=False),
                name="portal_link_purpose_target",
            )
        ]

    def __str__(self) -> str:
        if self.purpose == self.Purpose.INVITE:
            return f"{self.customer} invite #{self.pk}"
        return f"{self.application} link #{self.pk}"
