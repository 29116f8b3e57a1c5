"""The OCR request log: one row per recognition, with who, what, how long and what was read.

Personal identifiers (ID number, bank card number) are stored masked; the image itself is never
stored (only its SHA-256), and nothing here is copied into a customer or application: the person
confirms the values and submits the normal form, whose validation stays the gate.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OcrRequest(models.Model):
    class Kind(models.TextChoices):
        ID_CARD = "id_card", _("居民身份证")
        BUSINESS_LICENSE = "business_license", _("营业执照")
        BANK_CARD = "bank_card", _("银行卡")

    class Side(models.TextChoices):
        FRONT = "front", _("人像面")
        BACK = "back", _("国徽面")

    class Purpose(models.TextChoices):
        CUSTOMER = "customer", _("客户资料")
        APPLICATION = "application", _("贷款申请")

    class Status(models.TextChoices):
        OK = "ok", _("已识别")
        FAILED = "failed", _("识别失败")
        REJECTED = "rejected", _("图片不合格")

    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    kind = models.CharField(_("证照类型"), max_length=20, choices=Kind.choices)
    side = models.CharField(_("面"), max_length=10, choices=Side.choices, default=Side.FRONT)
    purpose = models.CharField(
        _("用途"), max_length=20, choices=Purpose.choices, default=Purpose.CUSTOMER
    )
    provider = models.CharField(_("识别服务"), max_length=20)
    simulated = models.BooleanField(_("模拟"), default=False)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices)
    error_code = models.CharField(_("错误代码"), max_length=60, blank=True, default="")
    error_message = models.CharField(_("错误信息"), max_length=300, blank=True, default="")
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)
    image_sha256 = models.CharField(_("图片摘要"), max_length=64, blank=True, default="")
    image_size = models.PositiveIntegerField(_("图片大小（字节）"), default=0)
    vendor_request_id = models.CharField(_("服务商请求号"), max_length=80, blank=True, default="")
    # [{"key", "value" (identifiers masked), "confidence", "valid"}]
    fields = models.JSONField(_("识别字段"), default=list, blank=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    confirmed_fields = models.JSONField(_("确认填入的字段"), default=list, blank=True)

    class Meta:
        verbose_name = _("证照识别记录")
        verbose_name_plural = _("证照识别记录")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["actor", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def low_count(self) -> int:
        from credo.ocr.normalize import LOW_CONFIDENCE

        return sum(1 for f in self.fields if float(f.get("confidence", 0)) < LOW_CONFIDENCE)
