"""Outbound webhooks: the endpoints an administrator registers and the deliveries sent to them.

A delivery is one event for one endpoint (unique per endpoint and idempotency key, so the event
stream and automations may hand the same event over twice); its attempts are logged with the
response. The endpoint's signing secret is encrypted at rest and never logged.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from credo.core.fields import EncryptedTextField

#: the subscription that takes every event type of the catalogue
ALL_EVENTS = "all"


class WebhookEndpoint(models.Model):
    name = models.CharField(_("名称"), max_length=80, unique=True)
    url = models.URLField(_("推送地址"), max_length=500)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    secret = EncryptedTextField(_("签名密钥"), mask_kind="all", blank=True, default="")
    event_types = models.JSONField(_("订阅的事件"), default=list, blank=True)
    enabled = models.BooleanField(_("启用"), default=True)
    timeout_seconds = models.PositiveSmallIntegerField(_("超时（秒）"), default=10)
    max_attempts = models.PositiveSmallIntegerField(_("最多尝试次数"), default=6)
    disable_after_failures = models.PositiveSmallIntegerField(_("连续失败自动停用次数"), default=10)
    consecutive_failures = models.PositiveIntegerField(_("连续失败次数"), default=0)
    disabled_reason = models.CharField(_("停用原因"), max_length=300, blank=True)
    disabled_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("最近成功时间"), null=True, blank=True)
    last_failure_at = models.DateTimeField(_("最近失败时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("Webhook 端点")
        verbose_name_plural = _("Webhook 端点")
        ordering = ["name", "id"]
        permissions = [("manage_webhookendpoint", _("管理 Webhook 推送"))]

    def __str__(self) -> str:
        return self.name

    @property
    def takes_all(self) -> bool:
        return ALL_EVENTS in (self.event_types or [])

    def subscribes(self, event_type: str) -> bool:
        return self.takes_all or event_type in (self.event_types or [])


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SUCCEEDED = "succeeded", _("成功")
        FAILED = "failed", _("失败待重试")
        DEAD = "dead", _("已放弃")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    idempotency_key = models.CharField(_("幂等键"), max_length=200)
    event_type = models.CharField(_("事件类型"), max_length=100, db_index=True)
    payload = models.JSONField(_("内容"), default=dict, encoder=DjangoJSONEncoder)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(_("响应码"), null=True, blank=True)
    response_body = models.TextField(_("响应内容（节选）"), blank=True)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), null=True, blank=True)
    error = models.CharField(_("错误"), max_length=500, blank=True)
    redelivery_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="redeliveries",
        verbose_name=_("重新投递自"),
    )
    is_test = models.BooleanField(_("测试事件"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("Webhook 投递")
        verbose_name_plural = _("Webhook 投递")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "idempotency_key"], name="webhooks_delivery_unique_key"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhooks_delivery_due"),
            models.Index(fields=["endpoint", "-created_at"], name="webhooks_delivery_endpoint"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.event_type}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery, with what the receiver answered."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveSmallIntegerField(_("第几次"))
    started_at = models.DateTimeField(_("开始时间"))
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)
    request_headers = models.JSONField(_("请求头"), default=dict)
    response_code = models.PositiveSmallIntegerField(_("响应码"), null=True, blank=True)
    response_body = models.TextField(_("响应内容（节选）"), blank=True)
    error = models.CharField(_("错误"), max_length=500, blank=True)
    ok = models.BooleanField(_("成功"), default=False)

    class Meta:
        verbose_name = _("投递尝试")
        verbose_name_plural = _("投递尝试")
        ordering = ["delivery", "number", "id"]

    def __str__(self) -> str:
        return f"#{self.delivery_id}/{self.number}"
