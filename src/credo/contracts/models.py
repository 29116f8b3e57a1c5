"""Contract templates (versioned), contracts with their PDF and e-signature status."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ContractTemplate(models.Model):
    """One version of a template. Editing creates a new version; contracts keep theirs."""

    code = models.SlugField(_("模板编码"), max_length=40)
    name = models.CharField(_("模板名称"), max_length=80)
    version = models.PositiveIntegerField(_("版本号"))
    body = models.TextField(_("模板内容（HTML）"))
    note = models.CharField(_("修改说明"), max_length=200, blank=True)
    is_current = models.BooleanField(_("当前版本"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("合同模板")
        verbose_name_plural = _("合同模板")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="ctemplate_code_version"),
            models.UniqueConstraint(
                fields=["code"], condition=Q(is_current=True), name="ctemplate_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Contract(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("待发送")
        SENT = "sent", _("待签署")
        SIGNED = "signed", _("已签署")
        REJECTED = "rejected", _("已拒签")
        EXPIRED = "expired", _("已过期")
        CANCELLED = "cancelled", _("已作废")

    number = models.CharField(_("合同编号"), max_length=20, unique=True)
    # The business object the contract belongs to (an application, ...), without a FK so this
    # app does not depend on origination.
    subject_type = models.CharField(max_length=60)
    subject_id = models.CharField(max_length=40)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    template = models.ForeignKey(
        ContractTemplate, verbose_name=_("模板"), on_delete=models.PROTECT, related_name="contracts"
    )
    terms = models.JSONField(_("合同要素"), default=dict)
    html = models.TextField(_("合同正文快照"))
    pdf_path = models.CharField(max_length=200, blank=True)
    pdf_sha256 = models.CharField(_("PDF 摘要（SHA-256）"), max_length=64, blank=True)
    pdf_size = models.PositiveIntegerField(default=0)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    provider = models.CharField(_("电子签服务商"), max_length=30, blank=True)
    provider_ref = models.CharField(_("签署流水号"), max_length=80, blank=True, db_index=True)
    # Real e-signature vendors (issue 23): the signer's link, the signed PDF fetched after the
    # vendor's "signed" callback, and a claim that keeps two staff from sending at once while
    # the vendor is called outside the transaction.
    signer_url = models.CharField(_("签署链接"), max_length=500, blank=True)
    signed_pdf_path = models.CharField(max_length=200, blank=True)
    signed_pdf_sha256 = models.CharField(_("已签署 PDF 摘要（SHA-256）"), max_length=64, blank=True)
    signed_pdf_size = models.PositiveIntegerField(default=0)
    send_claimed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("签署截止"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签署时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("合同")
        verbose_name_plural = _("合同")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id", "-id"], name="contract_subject_idx"),
            models.Index(fields=["status", "expires_at"], name="contract_expiry_idx"),
        ]
        permissions = [("send_contract", _("发送合同签署"))]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        """Still to be sent or signed (``contracts.states.OPEN_STATES``: may be cancelled)."""
        return self.status in (self.Status.DRAFT, self.Status.SENT)


class ContractEvent(models.Model):
    """Append-only log of a contract's life (generated, sent, callbacks, expiry)."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=30)
    status_from = models.CharField(max_length=10, blank=True)
    status_to = models.CharField(max_length=10, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.contract} {self.kind}"

    @property
    def label(self) -> str:
        return str(EVENT_LABELS.get(self.kind, self.kind))

    @property
    def status_label(self) -> str:
        if self.status_to in Contract.Status.values:
            return str(Contract.Status(self.status_to).label)
        return self.status_to


EVENT_LABELS = {
    "generated": _("生成合同"),
    "sent": _("发送签署"),
    "signed": _("客户签署"),
    "rejected": _("客户拒签"),
    "expired": _("超期未签"),
    "cancelled": _("作废"),
}
