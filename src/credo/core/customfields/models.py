"""Custom field definitions (form engine, PRODUCT.md H1). Values live in each entity's
``custom`` JSON column keyed by ``key``, so editing or retiring a definition never loses data."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Entity(models.TextChoices):
    CUSTOMER = "customer", _("客户")
    LEAD = "lead", _("线索")
    APPLICATION = "application", _("贷款申请")
    LOAN = "loan", _("贷款")


class FieldType(models.TextChoices):
    TEXT = "text", _("文本")
    NUMBER = "number", _("数字")
    MONEY = "money", _("金额")
    DATE = "date", _("日期")
    CHOICE = "choice", _("单选")
    MULTI_CHOICE = "multi_choice", _("多选")
    BOOLEAN = "boolean", _("是/否")
    FILE = "file", _("文件")


class CustomField(models.Model):
    entity = models.CharField(_("业务对象"), max_length=20, choices=Entity.choices)
    key = models.SlugField(
        _("字段标识"), max_length=40, help_text=_("英文字母、数字、下划线；创建后不可修改。")
    )
    label = models.CharField(_("显示名称"), max_length=60)
    field_type = models.CharField(_("类型"), max_length=20, choices=FieldType.choices)
    # [{"value": "v", "label": "显示"}] for choice / multi_choice
    options = models.JSONField(_("选项"), default=list, blank=True)
    required = models.BooleanField(_("必填"), default=False)
    min_value = models.DecimalField(
        _("最小值"), max_digits=20, decimal_places=2, null=True, blank=True
    )
    max_value = models.DecimalField(
        _("最大值"), max_digits=20, decimal_places=2, null=True, blank=True
    )
    regex = models.CharField(_("格式（正则表达式）"), max_length=200, blank=True)
    help_text = models.CharField(_("填写说明"), max_length=200, blank=True)
    group = models.CharField(_("分组"), max_length=40, blank=True)
    order = models.PositiveIntegerField(_("排序"), default=100)
    filterable = models.BooleanField(_("可用于列表筛选"), default=False)
    show_in_list = models.BooleanField(_("在列表中显示"), default=False)
    view_roles = models.ManyToManyField(
        "accounts.Role", verbose_name=_("可查看的角色（空=全部）"), blank=True, related_name="+"
    )
    edit_roles = models.ManyToManyField(
        "accounts.Role", verbose_name=_("可编辑的角色（空=全部）"), blank=True, related_name="+"
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("自定义字段")
        verbose_name_plural = _("自定义字段")
        ordering = ["entity", "group", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "key"], name="customfield_unique_key")
        ]
        permissions = [("manage_custom_fields", _("管理自定义字段"))]

    def __str__(self) -> str:
        return f"{self.get_entity_display()} · {self.label}"

    @property
    def option_labels(self) -> dict[str, str]:
        return {str(o.get("value")): str(o.get("label", o.get("value"))) for o in self.options}
