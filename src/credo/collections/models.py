"""Collections (催收): reminder policy/log, cases, contact attempts, promises to pay,
do-not-contact requests, the compliance log and lawyer's letters."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credo.core.money import MoneyField


def default_offsets() -> list[int]:
    return [3, 1, 0]


class ReminderPolicy(models.Model):
    """Days before the due date a reminder goes out, per product (no row → default 3, 1, 0)."""

    product = models.OneToOneField(
        "lending.Product",
        verbose_name=_("贷款产品"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    offsets = models.JSONField(_("提前提醒天数"), default=default_offsets)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("还款提醒策略")
        verbose_name_plural = _("还款提醒策略")

    def __str__(self) -> str:
        return f"{self.product} {self.offsets}"


class ReminderLog(models.Model):
    installment = models.ForeignKey(
        "lending.Installment", on_delete=models.CASCADE, related_name="+"
    )
    offset = models.SmallIntegerField(_("提前天数"))
    business_date = models.DateField(_("业务日期"))
    sent = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("还款提醒记录")
        verbose_name_plural = _("还款提醒记录")
        constraints = [
            models.UniqueConstraint(fields=["installment", "offset"], name="reminder_once")
        ]

    def __str__(self) -> str:
        return f"{self.installment_id}@{self.offset}"


class Tier(models.TextChoices):
    SMS = "sms", _("自动短信/邮件")
    CALL_JUNIOR = "call_junior", _("初级催收电话")
    SENIOR_LETTER = "senior_letter", _("高级催收+律师函")
    LEGAL = "legal", _("法务/委外")


TIER_ORDER = [Tier.SMS, Tier.CALL_JUNIOR, Tier.SENIOR_LETTER, Tier.LEGAL]


class CollectionScript(models.Model):
    tier = models.CharField(_("催收阶段"), max_length=20, choices=Tier.choices, unique=True)
    text = models.TextField(_("话术"))
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("催收话术")
        verbose_name_plural = _("催收话术")

    def __str__(self) -> str:
        return self.get_tier_display()


class CollectionCase(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("催收中")
        PROMISED = "promised", _("已承诺")
        ESCALATED = "escalated", _("已升级")
        LEGAL = "legal", _("法务处理")
        CLOSED = "closed", _("已结案")

    class CloseReason(models.TextChoices):
        PAID = "paid", _("已还款")
        WRITTEN_OFF = "written_off", _("已核销")
        RESTRUCTURED = "restructured", _("已重组")

    loan = models.ForeignKey(
        "lending.Loan", verbose_name=_("贷款"), on_delete=models.PROTECT, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("客户"), on_delete=models.PROTECT, related_name="+"
    )
    tier = models.CharField(_("催收阶段"), max_length=20, choices=Tier.choices)
    action = models.CharField(_("动作"), max_length=20, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("催收员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="collection_cases",
    )
    # Scope fields: the assignee's team and the loan's branch (credo.accounts.scope).
    team = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    branch = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    dpd = models.PositiveIntegerField(_("逾期天数"), default=0)
    amount = MoneyField(_("剩余本金"), default=0)
    priority = models.BigIntegerField(_("优先级"), default=0, db_index=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    opened_at = models.DateTimeField(_("立案时间"), auto_now_add=True)
    opened_on = models.DateField(_("立案业务日期"))
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    close_reason = models.CharField(
        _("结案原因"), max_length=15, choices=CloseReason.choices, blank=True
    )
    strategy_version = models.ForeignKey(
        "rules.DecisionVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reasons = models.JSONField(_("策略依据"), default=list, blank=True)
    broken_promises = models.PositiveIntegerField(_("违约承诺次数"), default=0)
    last_contact_at = models.DateTimeField(_("最近联系"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("催收案件")
        verbose_name_plural = _("催收案件")
        ordering = ["-priority", "id"]
        permissions = [
            ("contact_case", _("登记催收联系与承诺")),
            ("manage_cases", _("催收团队管理与分配")),
            ("view_compliance", _("查看催收合规日志")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["loan"], condition=~Q(status="closed"), name="collection_case_one_open"
            )
        ]
        indexes = [models.Index(fields=["assignee", "status"], name="ccase_assignee_idx")]

    def __str__(self) -> str:
        return f"{self.loan} · {self.get_tier_display()}"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED


class Channel(models.TextChoices):
    CALL = "call", _("电话")
    SMS = "sms", _("短信")
    VISIT = "visit", _("上门")
    WECHAT = "wechat", _("微信")


class Party(models.TextChoices):
    BORROWER = "borrower", _("借款人")
    THIRD_PARTY = "third_party", _("第三方")


class Outcome(models.TextChoices):
    PROMISE = "promise", _("接通-承诺还款")
    REFUSED = "refused", _("接通-拒绝")
    HARDSHIP = "hardship", _("接通-困难说明")
    NO_ANSWER = "no_answer", _("无人接听")
    POWERED_OFF = "powered_off", _("关机")
    INVALID = "invalid", _("空号")
    RELAYED = "relayed", _("第三方转告")
    WRONG_PERSON = "wrong_person", _("非本人")
    OTHER = "other", _("其他")


FAILED_OUTCOMES = (Outcome.NO_ANSWER, Outcome.POWERED_OFF, Outcome.INVALID)


class ContactAttempt(models.Model):
    case = models.ForeignKey(CollectionCase, on_delete=models.CASCADE, related_name="attempts")
    channel = models.CharField(_("方式"), max_length=10, choices=Channel.choices)
    party = models.CharField(_("对象"), max_length=12, choices=Party.choices)
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("联系人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    party_name = models.CharField(_("联系人姓名"), max_length=120, blank=True)
    # Blind index of the number dialled/texted (the daily cap counts per number).
    phone_key = models.CharField(max_length=64, blank=True, db_index=True)
    outcome = models.CharField(_("结果"), max_length=15, choices=Outcome.choices)
    notes = models.TextField(_("备注"), blank=True)
    attempted_at = models.DateTimeField(_("联系时间"))
    local_date = models.DateField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("催收联系记录")
        verbose_name_plural = _("催收联系记录")
        ordering = ["-attempted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.party_name} {self.get_outcome_display()}"


class PromiseToPay(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待履约")
        KEPT = "kept", _("已履约")
        BROKEN = "broken", _("已违约")

    case = models.ForeignKey(CollectionCase, on_delete=models.CASCADE, related_name="promises")
    promised_date = models.DateField(_("承诺还款日"))
    amount = MoneyField(_("承诺金额"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    paid_amount = MoneyField(_("期间已还"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("还款承诺")
        verbose_name_plural = _("还款承诺")
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="ptp_positive")]

    def __str__(self) -> str:
        return f"{self.promised_date} {self.amount}"


class DoNotContact(models.Model):
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("客户"), on_delete=models.CASCADE, related_name="+"
    )
    # Empty = the whole customer (every number); otherwise the blind index of one number.
    phone_key = models.CharField(max_length=64, blank=True)
    phone_masked = models.CharField(_("号码"), max_length=40, blank=True)
    reason = models.CharField(_("原因"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("拒绝联系登记")
        verbose_name_plural = _("拒绝联系登记")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.phone_masked or '*'}"


class ComplianceRule(models.TextChoices):
    """The guardrails (``credo.collections.guardrails``) a refused attempt names."""

    QUIET_HOURS = "quiet_hours", _("静默时段")
    DAILY_CAP = "daily_cap", _("每日上限")
    THIRD_PARTY = "third_party", _("第三方联系限制")
    DO_NOT_CONTACT = "do_not_contact", _("拒绝联系")


class ComplianceLog(models.Model):
    """A refused contact attempt (guardrail), append-only."""

    case = models.ForeignKey(
        CollectionCase, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rule = models.CharField(_("规则"), max_length=30, choices=ComplianceRule.choices)
    message = models.CharField(_("说明"), max_length=300)
    channel = models.CharField(_("方式"), max_length=10, blank=True, choices=Channel.choices)
    party = models.CharField(_("对象"), max_length=12, blank=True, choices=Party.choices)
    attempted_at = models.DateTimeField(_("尝试时间"))
    detail = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("催收合规日志")
        verbose_name_plural = _("催收合规日志")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


class LawyerLetter(models.Model):
    case = models.ForeignKey(CollectionCase, on_delete=models.CASCADE, related_name="letters")
    pdf = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    generated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("律师函")
        verbose_name_plural = _("律师函")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"律师函 #{self.pk}"
