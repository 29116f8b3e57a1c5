"""Leads (线索): capture, assignment, follow-ups, stages, conversion to a customer."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credo.core.fields import BlindIndexField, EncryptedTextField
from credo.core.money import MoneyField


class Lead(models.Model):
    class Source(models.TextChoices):
        ONLINE = "online", _("线上推广")
        EVENT = "event", _("线下活动")
        CHANNEL = "channel", _("渠道推荐")
        TELEMARKETING = "telemarketing", _("电话营销")
        REFERRAL = "referral", _("老客户转介绍")
        WEB_FORM = "web_form", _("官网表单")
        API = "api", _("接口推送")
        OTHER = "other", _("其他")

    class BusinessType(models.TextChoices):
        OPERATING = "operating", _("经营贷")
        CONSUMER = "consumer", _("消费贷")
        MORTGAGE = "mortgage", _("抵押贷")
        SUPPLY_CHAIN = "supply_chain", _("供应链")
        OTHER = "other", _("其他")

    class Stage(models.TextChoices):
        NEW = "new", _("新线索")
        CONTACTED = "contacted", _("已联系")
        QUALIFIED = "qualified", _("已确认需求")
        CONVERTED = "converted", _("已转化")
        LOST = "lost", _("已流失")

    name = models.CharField(_("名称（企业或个人）"), max_length=120)
    contact_name = models.CharField(_("联系人"), max_length=60, blank=True)
    phone = EncryptedTextField(_("手机号"), mask_kind="phone", blank=True, default="")
    phone_bidx = BlindIndexField(source="phone", kind="phone")
    # 统一社会信用代码 is public registry data: clear, like customers.Customer.uscc.
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True, db_index=True)
    source = models.CharField(_("来源渠道"), max_length=20, choices=Source.choices)
    campaign = models.CharField(_("活动/推广计划"), max_length=80, blank=True)
    region_code = models.CharField(_("所在地区"), max_length=6, blank=True)
    business_type = models.CharField(
        _("业务类型"), max_length=20, choices=BusinessType.choices, blank=True
    )
    requested_amount = MoneyField(_("意向金额（元）"), null=True, blank=True)  # type: ignore[misc]
    note = models.TextField(_("备注"), blank=True)

    stage = models.CharField(_("阶段"), max_length=12, choices=Stage.choices, default=Stage.NEW)
    lost_reason = models.CharField(_("流失原因"), max_length=200, blank=True)
    # Stage milestones: the funnel counts "reached stage X" from these, not the current stage.
    contacted_at = models.DateTimeField(_("首次联系时间"), null=True, blank=True)
    qualified_at = models.DateTimeField(_("确认需求时间"), null=True, blank=True)
    converted_at = models.DateTimeField(_("转化时间"), null=True, blank=True)
    lost_at = models.DateTimeField(_("流失时间"), null=True, blank=True)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("客户经理"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
        db_index=False,  # covered by lead_owner_stage_idx / lead_owner_assigned_idx
    )
    # Indexed by lead_team_idx / lead_branch_idx (FK's own index would be redundant).
    team = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("团队"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    branch = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("机构"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    assigned_at = models.DateTimeField(_("分配时间"), null=True, blank=True)
    assignment_version = models.ForeignKey(
        "rules.DecisionVersion",
        verbose_name=_("分配规则版本"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    assignment_evaluation_id = models.BigIntegerField(null=True, blank=True)
    # {"rule": ..., "result": {...}, "reasons": [...], "note": "轮询/上限/无人可分配"}
    assignment_info = models.JSONField(_("分配依据"), default=dict, blank=True)

    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("重复于"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicates",
    )
    is_duplicate = models.BooleanField(_("疑似重复"), default=False)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
    )
    next_follow_up = models.DateField(_("下次跟进日期"), null=True, blank=True)
    custom = models.JSONField(_("自定义字段"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    OPEN_STAGES = (Stage.NEW, Stage.CONTACTED, Stage.QUALIFIED)

    class Meta:
        verbose_name = _("线索")
        verbose_name_plural = _("线索")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["owner", "stage"], name="lead_owner_stage_idx"),
            models.Index(fields=["team", "-id"], name="lead_team_idx"),
            models.Index(fields=["branch", "-id"], name="lead_branch_idx"),
            models.Index(fields=["owner", "assigned_at"], name="lead_owner_assigned_idx"),
            models.Index(fields=["stage", "next_follow_up"], name="lead_stage_followup_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(stage="lost") | ~Q(lost_reason=""), name="lead_lost_needs_reason"
            ),
        ]
        permissions = [
            ("assign_lead", _("分配线索")),
            ("reassign_book", _("移交离职员工的线索与客户")),
            ("import_leads", _("导入线索")),
            ("convert_lead", _("线索转化为客户")),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.stage in self.OPEN_STAGES


class FollowUp(models.Model):
    class Kind(models.TextChoices):
        CALL = "call", _("电话")
        VISIT = "visit", _("拜访")
        WECHAT = "wechat", _("微信")
        OTHER = "other", _("其他")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="follow_ups")
    kind = models.CharField(_("方式"), max_length=10, choices=Kind.choices)
    outcome = models.CharField(_("结果"), max_length=200)
    notes = models.TextField(_("记录"), blank=True)
    next_step = models.CharField(_("下一步"), max_length=200, blank=True)
    next_date = models.DateField(_("下次跟进日期"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("跟进人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("跟进记录")
        verbose_name_plural = _("跟进记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.outcome}"


class LeadAssignee(models.Model):
    """Who takes part in automatic assignment, with a cap on open leads (like Odoo's
    ``assignment_max``) and an opt-out (vacation, leaving)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("客户经理"),
        on_delete=models.CASCADE,
        related_name="lead_assignee",
    )
    max_open = models.PositiveIntegerField(_("在手线索上限（0 = 不限）"), default=0)
    active = models.BooleanField(_("参与自动分配"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("线索分配设置")
        verbose_name_plural = _("线索分配设置")

    def __str__(self) -> str:
        return str(self.user)


class WebFormCounter(models.Model):
    """Per-day counters of the public web form; rejected spam is counted, nothing else stored."""

    day = models.DateField(_("日期"), unique=True)
    accepted = models.PositiveIntegerField(_("已受理"), default=0)
    honeypot = models.PositiveIntegerField(_("蜜罐拦截"), default=0)
    rate_limited = models.PositiveIntegerField(_("频率拦截"), default=0)

    class Meta:
        verbose_name = _("网页表单统计")
        verbose_name_plural = _("网页表单统计")

    def __str__(self) -> str:
        return str(self.day)
