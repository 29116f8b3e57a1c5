"""Custom record types (表单引擎, issue 23): a lender defines new forms (尽调报告, 贷后检查表,
现场走访记录 …) attached to a customer, an application or a loan, without programmers.

A :class:`RecordType` has versions (draft → published → retired, :mod:`credo.core.versioning`);
the field definitions live in the version as JSON (see :mod:`credo.records.schema`), so a record
keeps the version it was filled with and a later change of the form never rewrites old records.
Record values live in one JSON column keyed by field key; files (attachments, photos) are
:class:`RecordFile` rows stored with the document rules and referenced by id from the values.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credo.core import versioning


class AttachedTo(models.TextChoices):
    CUSTOMER = "customer", _("客户")
    APPLICATION = "application", _("贷款申请")
    LOAN = "loan", _("贷款")


class RecordType(models.Model):
    code = models.SlugField(
        _("表单编码"),
        max_length=40,
        unique=True,
        help_text=_("英文字母、数字、下划线或短横线；创建后不可修改。"),
    )
    name = models.CharField(_("表单名称"), max_length=60)
    description = models.CharField(_("说明"), max_length=300, blank=True)
    attached_to = models.CharField(_("挂接对象"), max_length=20, choices=AttachedTo.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("自定义表单类型")
        verbose_name_plural = _("自定义表单类型")
        ordering = ["name", "id"]
        permissions = [("manage_recordtype", _("设计自定义表单"))]

    def __str__(self) -> str:
        return self.name

    def published_version(self) -> RecordTypeVersion | None:
        return self.versions.filter(status=RecordTypeVersion.Status.PUBLISHED).first()


class RecordTypeVersion(versioning.VersionRecord):
    record_type = models.ForeignKey(RecordType, on_delete=models.CASCADE, related_name="versions")
    # [{"key", "label", "type", "required", "required_when", "options", "columns", "expression",
    #   "result_type", "view_roles", "edit_roles", "help_text", "min", "max", "regex",
    #   "show_in_list"}] — see credo.records.schema
    fields = models.JSONField(_("字段定义"), default=list)
    # role codes; empty = every user with the app permission
    view_roles = models.JSONField(_("可查看的角色"), default=list, blank=True)
    edit_roles = models.JSONField(_("可填写的角色"), default=list, blank=True)

    class Meta:
        verbose_name = _("自定义表单版本")
        verbose_name_plural = _("自定义表单版本")
        ordering = ["record_type", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["record_type", "number"], name="records_version_unique"
            ),
            models.UniqueConstraint(
                fields=["record_type"],
                condition=Q(status="published"),
                name="records_one_published",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.record_type.name} v{self.number}"


versioning.version_machine(RecordTypeVersion, choices=RecordTypeVersion.Status)


class CustomRecord(models.Model):
    number = models.CharField(_("记录编号"), max_length=40, unique=True)
    record_type = models.ForeignKey(
        RecordType, on_delete=models.PROTECT, related_name="records", verbose_name=_("表单类型")
    )
    version = models.ForeignKey(
        RecordTypeVersion, on_delete=models.PROTECT, related_name="records", verbose_name=_("版本")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="custom_records",
        verbose_name=_("客户"),
    )
    application = models.ForeignKey(
        "origination.Application",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="custom_records",
        verbose_name=_("贷款申请"),
    )
    loan = models.ForeignKey(
        "lending.Loan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="custom_records",
        verbose_name=_("贷款"),
    )
    values = models.JSONField(_("内容"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("填写人"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("填写时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("自定义表单记录")
        verbose_name_plural = _("自定义表单记录")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(customer__isnull=False, application__isnull=True, loan__isnull=True)
                    | Q(customer__isnull=True, application__isnull=False, loan__isnull=True)
                    | Q(customer__isnull=True, application__isnull=True, loan__isnull=False)
                ),
                name="customrecord_one_parent",
            )
        ]
        indexes = [models.Index(fields=["record_type", "-id"], name="records_type_recent")]

    def __str__(self) -> str:
        return f"{self.record_type.name} {self.number}"

    @property
    def parent(self) -> Any:
        return self.customer or self.application or self.loan

    @property
    def parent_customer(self) -> Any:
        if self.customer_id:
            return self.customer
        parent = self.application or self.loan
        return getattr(parent, "customer", None)


class RecordFile(models.Model):
    """An attachment or photo of a record, stored with the document rules
    (:mod:`credo.origination.documents`: type sniffed, size and pixel caps, generated name
    outside the web root)."""

    record = models.ForeignKey(CustomRecord, on_delete=models.CASCADE, related_name="files")
    field_key = models.CharField(max_length=40)
    stored_name = models.CharField(max_length=80)
    original_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("表单附件")
        verbose_name_plural = _("表单附件")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.original_name or self.stored_name

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
