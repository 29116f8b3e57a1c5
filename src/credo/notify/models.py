"""Notification channels, message templates, the outbox (which is also the in-app inbox) and
per-recipient preferences (opt-out, preferred channel)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credo.core.fields import EncryptedTextField


class Kind(models.TextChoices):
    """Logical delivery kinds used by templates, preferences and ``notify(channel=...)``."""

    INAPP = "inapp", _("站内消息")
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")
    WECOM = "wecom", _("企业微信群")
    DINGTALK = "dingtalk", _("钉钉群")


class Category(models.TextChoices):
    SERVICE = "service", _("服务通知")
    MARKETING = "marketing", _("营销")
    COLLECTION = "collection", _("催收")


class Channel(models.Model):
    """A configured gateway. ``simulated`` records what would be sent (demo/tests)."""

    class Engine(models.TextChoices):
        INAPP = "inapp", _("站内消息")
        EMAIL = "email", _("电子邮件（SMTP）")
        SMS_HTTP = "sms_http", _("短信（HTTP 网关）")
        WECOM_BOT = "wecom_bot", _("企业微信群机器人")
        DINGTALK_BOT = "dingtalk_bot", _("钉钉群机器人")
        WECOM_APP = "wecom_app", _("企业微信应用消息")
        DINGTALK_APP = "dingtalk_app", _("钉钉工作通知")
        SIMULATED = "simulated", _("模拟渠道（演示/测试）")

    name = models.CharField(_("名称"), max_length=60, unique=True)
    engine = models.CharField(_("类型"), max_length=16, choices=Engine.choices)
    # For the simulated engine: which logical kinds it stands in for (empty = all).
    simulates = models.JSONField(_("模拟的渠道"), default=list, blank=True)
    enabled = models.BooleanField(_("启用"), default=True)
    is_default = models.BooleanField(_("默认渠道"), default=False)
    # SMTP
    smtp_host = models.CharField(_("SMTP 服务器"), max_length=200, blank=True)
    smtp_port = models.PositiveIntegerField(_("SMTP 端口"), null=True, blank=True)
    smtp_user = models.CharField(_("SMTP 用户名"), max_length=200, blank=True)
    smtp_password = EncryptedTextField(_("SMTP 密码"), mask_kind="all", blank=True, default="")
    smtp_security = models.CharField(
        _("加密方式"),
        max_length=8,
        choices=[("none", _("无")), ("starttls", "STARTTLS"), ("ssl", "SSL/TLS")],
        default="starttls",
    )
    from_email = models.CharField(_("发件人"), max_length=200, blank=True)
    # SMS HTTP gateway
    url = models.URLField(_("网关地址"), max_length=500, blank=True)
    app_key = models.CharField(_("App Key"), max_length=200, blank=True)
    # HMAC-SHA256 secret for SMS, "加签" secret for DingTalk.
    secret = EncryptedTextField(_("签名密钥"), mask_kind="all", blank=True, default="")
    template_map = models.JSONField(_("模板编号映射"), default=dict, blank=True)
    request_format = models.JSONField(_("请求格式"), default=dict, blank=True)
    # Group bots: the webhook URL carries the access token, so it is a secret.
    webhook_url = EncryptedTextField(_("Webhook 地址"), mask_kind="all", blank=True, default="")
    timeout_seconds = models.PositiveSmallIntegerField(_("超时（秒）"), default=10)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("通知渠道")
        verbose_name_plural = _("通知渠道")
        ordering = ["engine", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["engine"], condition=Q(is_default=True), name="notify_one_default_engine"
            )
        ]
        permissions = [("manage_channels", _("管理通知渠道与消息模板"))]

    def __str__(self) -> str:
        return self.name


ENGINE_FOR_KIND: dict[str, str] = {
    Kind.INAPP: Channel.Engine.INAPP,
    Kind.EMAIL: Channel.Engine.EMAIL,
    Kind.SMS: Channel.Engine.SMS_HTTP,
    Kind.WECOM: Channel.Engine.WECOM_BOT,
    Kind.DINGTALK: Channel.Engine.DINGTALK_BOT,
}
KIND_FOR_ENGINE: dict[str, str] = {v: k for k, v in ENGINE_FOR_KIND.items()}


class MessageTemplate(models.Model):
    """A lender-editable template (Django template syntax); app defaults are installed on first
    use by ``services.template_get``."""

    code = models.CharField(_("编码"), max_length=80, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    subject = models.CharField(_("标题"), max_length=200, blank=True)
    body = models.TextField(_("正文"))
    channels = models.JSONField(_("渠道"), default=list)
    version = models.PositiveIntegerField(_("版本"), default=1)
    is_customized = models.BooleanField(_("已修改"), default=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("消息模板")
        verbose_name_plural = _("消息模板")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class Message(models.Model):
    """One message to one recipient through one channel: the outbox row, and for ``inapp`` the
    inbox item."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        SUPPRESSED = "suppressed", _("已拦截")
        CANCELLED = "cancelled", _("已取消")

    template_code = models.CharField(_("模板"), max_length=80)
    kind = models.CharField(_("渠道"), max_length=10, choices=Kind.choices)
    channel = models.ForeignKey(
        Channel, verbose_name=_("渠道配置"), on_delete=models.SET_NULL, null=True, blank=True
    )
    category = models.CharField(
        _("类别"), max_length=12, choices=Category.choices, default=Category.SERVICE
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人（员工）"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notify_messages",
        db_index=False,  # notify_msg_inbox_idx / notify_msg_cap_u_idx lead with it
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("接收人（客户）"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notify_messages",
        db_index=False,  # notify_msg_cap_c_idx leads with it
    )
    address = EncryptedTextField(_("地址"), mask_kind="all", blank=True, default="")
    address_masked = models.CharField(_("地址（脱敏）"), max_length=200, blank=True)
    subject = models.CharField(_("标题"), max_length=200, blank=True)
    body = models.TextField(_("正文"))
    params = models.JSONField(_("模板变量"), default=dict, blank=True)
    # e-mail only: [{"name": "报表.xlsx", "path": "<relative to CREDO_DOCUMENT_ROOT>"}]
    attachments = models.JSONField(_("附件"), default=list, blank=True)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    scheduled_at = models.DateTimeField(_("计划发送时间"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    provider_message_id = models.CharField(_("服务商消息编号"), max_length=200, blank=True)
    dedupe_key = models.CharField(_("去重键"), max_length=200, null=True, blank=True)
    suppressed_reason = models.CharField(_("拦截原因"), max_length=300, blank=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["dedupe_key", "kind"],
                condition=Q(dedupe_key__isnull=False),
                name="notify_message_unique_dedupe",
            ),
            models.CheckConstraint(
                condition=~(Q(user__isnull=False) & Q(customer__isnull=False)),
                name="notify_message_one_recipient",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notify_msg_due_idx"),
            models.Index(fields=["user", "kind", "read_at"], name="notify_msg_inbox_idx"),
            models.Index(
                fields=["customer", "category", "kind", "scheduled_at"], name="notify_msg_cap_c_idx"
            ),
            models.Index(
                fields=["user", "category", "kind", "scheduled_at"], name="notify_msg_cap_u_idx"
            ),
            # Bulk sends insert thousands of rows a night: no index a query does not use (no
            # LIKE on these columns; the claim token is looked up only while a sender holds it)
            models.Index(fields=["template_code"], name="notify_msg_template_idx"),
            models.Index(
                fields=["claim_token"], condition=~Q(claim_token=""), name="notify_msg_claim_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.subject or self.template_code

    @property
    def recipient_label(self) -> str:
        user, customer = self.user, self.customer
        if user is not None:
            return user.display_name or user.username
        if customer is not None:
            return customer.name
        if self.kind in ("wecom", "dingtalk"):
            return str(_("群组"))
        return str(_("指定地址"))

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class Attempt(models.Model):
    """One delivery attempt (the outbox detail shows them)."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField(_("第几次"))
    channel_name = models.CharField(_("渠道"), max_length=60, blank=True)
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("结束时间"))
    ok = models.BooleanField(_("成功"))
    error = models.TextField(_("错误"), blank=True)
    response = models.TextField(_("返回内容"), blank=True)

    class Meta:
        verbose_name = _("发送尝试")
        verbose_name_plural = _("发送尝试")
        ordering = ["message", "number", "id"]

    def __str__(self) -> str:
        return f"#{self.message_id}/{self.number}"


class NotifyPreference(models.Model):
    """Per recipient: opted-out categories (免打扰), preferred channel, extra addresses
    (customers have no e-mail field)."""

    customer = models.OneToOneField(
        "customers.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notify_preference",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notify_preference",
    )
    opted_out = models.JSONField(_("拒收类别"), default=list, blank=True)
    preferred = models.JSONField(_("偏好渠道"), default=list, blank=True)
    email = EncryptedTextField(_("电子邮箱"), mask_kind="all", blank=True, default="")
    mobile = EncryptedTextField(_("手机号"), mask_kind="phone", blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("通知偏好")
        verbose_name_plural = _("通知偏好")
        constraints = [
            models.CheckConstraint(
                condition=(Q(customer__isnull=False) & Q(user__isnull=True))
                | (Q(customer__isnull=True) & Q(user__isnull=False)),
                name="notify_pref_one_subject",
            )
        ]

    def __str__(self) -> str:
        return f"pref customer={self.customer_id} user={self.user_id}"


class MarketingConsent(models.Model):
    """A person's consent to marketing contact (个人信息保护法 第十三、十四条) on one channel
    (empty = every channel), kept as history: a withdrawal stamps ``withdrawn_at`` and a new
    consent is a new row. Marketing messages (renewal invitations included) go only to a
    customer with a consent in force; collection and servicing messages rest on the contract.

    Leads are referred to by id only: notify sits below the leads app and must not depend on it
    (the privacy app, above both, writes and reads these rows)."""

    class Source(models.TextChoices):
        PAPER = "paper", _("纸质授权书")
        PHONE = "phone", _("电话录音")
        PORTAL = "portal", _("线上勾选")
        OTHER = "other", _("其他")

    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="marketing_consents",
    )
    lead_id = models.BigIntegerField(_("线索"), null=True, blank=True, db_index=True)
    channel = models.CharField(
        _("渠道"), max_length=12, choices=Kind.choices, blank=True, default=""
    )
    source = models.CharField(_("取得方式"), max_length=10, choices=Source.choices)
    granted_at = models.DateTimeField(_("同意时间"))
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("营销联系同意")
        verbose_name_plural = _("营销联系同意")
        ordering = ["-granted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | Q(lead_id__isnull=False),
                name="consent_has_subject",
            )
        ]
        indexes = [
            models.Index(
                fields=["customer"],
                condition=Q(withdrawn_at__isnull=True),
                name="consent_in_force_idx",
            )
        ]

    def __str__(self) -> str:
        return f"consent customer={self.customer_id} lead={self.lead_id} {self.channel or '*'}"
