"""Customer profiles (enterprise and individual), contacts, related parties, the timeline."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credo.core.fields import BlindIndexField, EncryptedTextField
from credo.core.money import MoneyField
from credo.customers.industries import INDUSTRY_SECTIONS


class Customer(models.Model):
    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("企业")
        INDIVIDUAL = "individual", _("个人")

    class Status(models.TextChoices):
        ACTIVE = "active", _("正常")
        DORMANT = "dormant", _("休眠")
        CLOSED = "closed", _("已注销")

    class RiskGrade(models.TextChoices):
        NONE = "", _("未评级")
        A = "A", "A"
        B = "B", "B"
        C = "C", "C"
        D = "D", "D"
        E = "E", "E"

    kind = models.CharField(_("客户类型"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("名称/姓名"), max_length=120, db_index=True)
    # Enterprise: 统一社会信用代码 is public registry data, so it is stored in clear and unique.
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True, default="")
    registered_capital = MoneyField(_("注册资本（元）"), null=True, blank=True)  # type: ignore[misc]
    industry = models.CharField(_("行业"), max_length=1, choices=INDUSTRY_SECTIONS, blank=True)
    legal_representative = models.CharField(_("法定代表人"), max_length=60, blank=True)
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)
    # Individual: 身份证号, phone and bank account are personal information → encrypted.
    id_number = EncryptedTextField(_("身份证号"), mask_kind="id_number", blank=True, default="")
    id_number_bidx = BlindIndexField(source="id_number", kind="id_number")
    phone = EncryptedTextField(_("手机号"), mask_kind="phone", blank=True, default="")
    phone_bidx = BlindIndexField(source="phone", kind="phone")
    bank_account = EncryptedTextField(
        _("银行账号"), mask_kind="bank_account", blank=True, default=""
    )
    bank_account_bidx = BlindIndexField(source="bank_account", kind="bank_account")
    employer = models.CharField(_("工作单位"), max_length=120, blank=True)
    region_code = models.CharField(_("所在地区"), max_length=6, blank=True, db_index=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)

    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    risk_grade = models.CharField(
        _("风险等级"), max_length=1, choices=RiskGrade.choices, blank=True, default=""
    )
    # Flags raised on this customer (e.g. "judgment_debtor", "overdue"); related parties show them.
    risk_flags = models.JSONField(_("风险标记"), default=list, blank=True)
    custom = models.JSONField(_("自定义字段"), default=dict, blank=True)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("客户经理"),
        on_delete=models.PROTECT,
        related_name="customers",
    )
    team = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("团队"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    branch = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("机构"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = _("客户")
        ordering = ["-id"]
        constraints = [
            # De-duplication on the legal identifier, enforced by the database as well.
            models.UniqueConstraint(
                fields=["uscc"], condition=~Q(uscc=""), name="customer_unique_uscc"
            ),
            models.UniqueConstraint(
                fields=["id_number_bidx"],
                condition=~Q(id_number_bidx=""),
                name="customer_unique_id_number",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-id"], name="customer_owner_idx"),
            models.Index(fields=["team", "-id"], name="customer_team_idx"),
            models.Index(fields=["branch", "-id"], name="customer_branch_idx"),
            models.Index(fields=["industry"], name="customer_industry_idx"),
        ]
        permissions = [
            ("import_customers", _("导入客户")),
            ("export_customers", _("导出客户")),
            ("pull_external_data", _("查询外部数据（工商/征信/司法）")),
            ("manage_providers", _("管理外部数据源")),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def identifier_label(self) -> str:
        return str(_("统一社会信用代码") if self.kind == self.Kind.ENTERPRISE else _("身份证号"))


class Contact(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("姓名"), max_length=60)
    title = models.CharField(_("职务/关系"), max_length=60, blank=True)
    phone = EncryptedTextField(_("联系电话"), mask_kind="phone", blank=True, default="")
    phone_bidx = BlindIndexField(source="phone", kind="phone")
    is_primary = models.BooleanField(_("主要联系人"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("联系人")
        verbose_name_plural = _("联系人")
        ordering = ["-is_primary", "id"]

    def __str__(self) -> str:
        return self.name


class Relation(models.Model):
    """``from_customer`` is the ``kind`` of ``to_customer`` (e.g. A is guarantor of B)."""

    class Kind(models.TextChoices):
        GUARANTOR = "guarantor", _("担保人")
        SHAREHOLDER = "shareholder", _("股东")
        LEGAL_REPRESENTATIVE = "legal_rep", _("法定代表人")
        AFFILIATE = "affiliate", _("关联企业")
        SPOUSE = "spouse", _("配偶")
        CONTROLLER = "controller", _("实际控制人")

    from_customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="relations_out"
    )
    to_customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="relations_in")
    kind = models.CharField(_("关系类型"), max_length=20, choices=Kind.choices)
    share_pct = models.DecimalField(
        _("持股比例（%）"), max_digits=6, decimal_places=3, null=True, blank=True
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("关联关系")
        verbose_name_plural = _("关联关系")
        constraints = [
            models.UniqueConstraint(
                fields=["from_customer", "to_customer", "kind"], name="relation_unique"
            ),
            models.CheckConstraint(
                condition=~Q(from_customer=models.F("to_customer")), name="relation_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_customer} → {self.to_customer} ({self.get_kind_display()})"


class CustomerEvent(models.Model):
    """The customer timeline (自动归集): append-only, written by the services of every app."""

    class Kind(models.TextChoices):
        CREATED = "created", _("建档")
        PROFILE_CHANGED = "profile_changed", _("资料变更")
        RELATION = "relation", _("关联关系")
        CONTACT = "contact", _("联系人")
        FOLLOW_UP = "follow_up", _("跟进")
        APPLICATION = "application", _("申请")
        DECISION = "decision", _("审批决定")
        DISBURSEMENT = "disbursement", _("放款")
        REPAYMENT = "repayment", _("还款")
        WRITE_OFF = "write_off", _("核销")
        ALERT = "alert", _("预警")
        COLLECTION = "collection", _("催收")
        DOCUMENT = "document", _("资料文件")
        EXTERNAL_DATA = "external_data", _("外部数据")
        AUTHORIZATION = "authorization", _("授权")
        OTHER = "other", _("其他")

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,  # both timeline indexes lead with it (one fewer per bulk-inserted event)
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("发生时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    title = models.CharField(_("摘要"), max_length=200)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    source = models.CharField(_("来源模块"), max_length=40, blank=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = _("客户事件")
        verbose_name_plural = _("客户事件")
        indexes = [
            models.Index(fields=["customer", "-occurred_at", "-id"], name="cevent_timeline_idx"),
            models.Index(
                fields=["customer", "kind", "-occurred_at", "-id"], name="cevent_kind_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class DataKind(models.TextChoices):
    REGISTRY = "registry", _("工商信息")
    BUREAU = "bureau", _("征信报告")
    LITIGATION = "litigation", _("司法涉诉/被执行人")
    NEWS = "news", _("负面舆情")


class ExternalProvider(models.Model):
    """A configured source of external data. ``simulated`` needs no configuration."""

    class Engine(models.TextChoices):
        SIMULATED = "simulated", _("模拟数据源（演示/测试）")
        HTTP_JSON = "http_json", _("HTTP/JSON 接口")

    name = models.CharField(_("名称"), max_length=60, unique=True)
    kind = models.CharField(_("数据类型"), max_length=12, choices=DataKind.choices)
    engine = models.CharField(_("接入方式"), max_length=12, choices=Engine.choices)
    url = models.URLField(_("接口地址"), blank=True)
    auth_header = models.CharField(_("认证请求头名"), max_length=60, blank=True)
    auth_value = EncryptedTextField(_("认证凭据"), mask_kind="all", blank=True, default="")
    timeout_seconds = models.PositiveSmallIntegerField(_("超时（秒）"), default=10)
    # {"our_field": "dotted.path.in.vendor.json"}
    field_mapping = models.JSONField(_("字段映射"), default=dict, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("外部数据源")
        verbose_name_plural = _("外部数据源")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class Authorization(models.Model):
    """The customer's written consent (授权书) for a credit-bureau query."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="authorizations")
    scope = models.CharField(_("授权范围"), max_length=12, choices=DataKind.choices)
    granted_by = models.CharField(_("授权人"), max_length=60)
    valid_from = models.DateField(_("生效日期"))
    valid_until = models.DateField(_("失效日期"))
    document = models.FileField(_("授权书文件"), upload_to="authorizations/%Y/%m/", blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("查询授权")
        verbose_name_plural = _("查询授权")
        ordering = ["-valid_until"]

    def __str__(self) -> str:
        return f"{self.customer} {self.get_scope_display()} {self.valid_from}~{self.valid_until}"


class ExternalPull(models.Model):
    class Status(models.TextChoices):
        OK = "ok", _("成功")
        FAILED = "failed", _("失败")
        TIMEOUT = "timeout", _("超时")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="pulls")
    provider = models.ForeignKey(ExternalProvider, on_delete=models.PROTECT, related_name="pulls")
    kind = models.CharField(_("数据类型"), max_length=12, choices=DataKind.choices)
    authorization = models.ForeignKey(
        Authorization, on_delete=models.PROTECT, null=True, blank=True, related_name="pulls"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("查询时间"), auto_now_add=True, db_index=True)
    status = models.CharField(_("结果"), max_length=10, choices=Status.choices)
    duration_ms = models.PositiveIntegerField(default=0)
    raw_payload = models.TextField(_("原始报文"), blank=True)
    parsed = models.JSONField(_("解析结果"), default=dict, blank=True)
    error = models.CharField(_("错误信息"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("外部数据查询")
        verbose_name_plural = _("外部数据查询")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.customer} {self.get_kind_display()} {self.requested_at:%Y-%m-%d}"
