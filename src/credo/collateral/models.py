"""Collateral (抵押物/质押物), its valuation history, its links to applications and loans,
guarantee contracts (保证合同) and release requests (解押申请).

An application is referenced by its id only (``application_id``, like ``Application.lead_id``):
origination sits above this app in the layering, so this app never imports it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credo.core.money import MoneyField


class Collateral(models.Model):
    class Kind(models.TextChoices):
        MORTGAGE = "mortgage", _("抵押")
        PLEDGE = "pledge", _("质押")

    class Category(models.TextChoices):
        REAL_ESTATE = "real_estate", _("房产")
        LAND = "land", _("土地使用权")
        EQUIPMENT = "equipment", _("机器设备")
        VEHICLE = "vehicle", _("车辆")
        DEPOSIT = "deposit", _("存单")
        RECEIVABLE = "receivable", _("应收账款")
        EQUITY = "equity", _("股权")
        OTHER = "other", _("其他")

    class Status(models.TextChoices):
        DRAFT = "draft", _("待登记")
        REGISTERED = "registered", _("已登记")
        RELEASED = "released", _("已解押")

    number = models.CharField(_("押品编号"), max_length=24, unique=True)
    kind = models.CharField(_("担保方式"), max_length=10, choices=Kind.choices)
    category = models.CharField(_("押品类别"), max_length=20, choices=Category.choices)
    owner = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("所有权人"),
        on_delete=models.PROTECT,
        related_name="collateral_owned",
    )
    description = models.CharField(_("押品描述"), max_length=300)
    address = models.CharField(_("坐落/存放地址"), max_length=200, blank=True)
    registration_number = models.CharField(_("他项权证/登记证明编号"), max_length=60, blank=True)
    registered_on = models.DateField(_("登记日期"), null=True, blank=True)
    expires_on = models.DateField(_("登记到期日"), null=True, blank=True, db_index=True)
    released_on = models.DateField(_("解押日期"), null=True, blank=True)
    # the latest valuation (kept with the history; the history is the record)
    current_value = MoneyField(_("当前评估价值"), null=True, blank=True)  # type: ignore[misc]
    valued_on = models.DateField(_("评估日期"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    note = models.CharField(_("备注"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("押品")
        verbose_name_plural = _("押品")
        ordering = ["-id"]
        permissions = [
            ("manage_collateral", _("管理押品与保证合同")),
            ("approve_collateral_release", _("审批解押/解除保证")),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.description}"


class CollateralValuation(models.Model):
    class Method(models.TextChoices):
        MARKET = "market", _("市场法")
        INCOME = "income", _("收益法")
        COST = "cost", _("成本法")
        AGREED = "agreed", _("协议价")
        DECLARED = "declared", _("客户申报")
        OTHER = "other", _("其他")

    collateral = models.ForeignKey(
        Collateral, on_delete=models.CASCADE, related_name="valuations", verbose_name=_("押品")
    )
    valued_on = models.DateField(_("评估日期"))
    value = MoneyField(_("评估价值"))
    appraiser = models.CharField(_("评估机构/评估人"), max_length=120)
    method = models.CharField(_("评估方法"), max_length=10, choices=Method.choices)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("押品评估")
        verbose_name_plural = _("押品评估")
        ordering = ["-valued_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(value__gte=0), name="coll_val_nonneg")]

    def __str__(self) -> str:
        return f"{self.valued_on:%Y-%m-%d} {self.value}"


class CollateralLink(models.Model):
    """What one collateral secures: an application (by id) and/or a loan, with the secured
    amount (担保金额) and the agreed 抵押率 of this link."""

    collateral = models.ForeignKey(Collateral, on_delete=models.CASCADE, related_name="links")
    application_id = models.PositiveBigIntegerField(_("贷款申请"), null=True, blank=True)
    loan = models.ForeignKey(
        "lending.Loan",
        verbose_name=_("贷款"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="collateral_links",
    )
    secured_amount = MoneyField(_("担保金额"), null=True, blank=True)  # type: ignore[misc]
    agreed_ltv = models.DecimalField(
        _("约定抵押率（%）"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("押品担保关系")
        verbose_name_plural = _("押品担保关系")
        constraints = [
            models.CheckConstraint(
                condition=Q(application_id__isnull=False) | Q(loan__isnull=False),
                name="coll_link_target",
            ),
            models.UniqueConstraint(
                fields=["collateral", "application_id"],
                condition=Q(application_id__isnull=False),
                name="coll_link_app_unique",
            ),
            models.UniqueConstraint(
                fields=["collateral", "loan"],
                condition=Q(loan__isnull=False),
                name="coll_link_loan_unique",
            ),
        ]
        indexes = [models.Index(fields=["application_id"], name="coll_link_app_idx")]

    def __str__(self) -> str:
        return f"{self.collateral_id} → {self.loan_id or self.application_id}"


class Guarantee(models.Model):
    """保证合同: a guarantor (a customer) answers for a loan or an application's future loan."""

    class Kind(models.TextChoices):
        GENERAL = "general", _("一般保证")
        JOINT = "joint", _("连带责任保证")

    class Status(models.TextChoices):
        DRAFT = "draft", _("待生效")
        ACTIVE = "active", _("生效中")
        RELEASED = "released", _("已解除")

    contract_number = models.CharField(_("保证合同编号"), max_length=60, unique=True)
    guarantor = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("保证人"),
        on_delete=models.PROTECT,
        related_name="guarantees_given",
    )
    kind = models.CharField(_("保证方式"), max_length=10, choices=Kind.choices)
    amount = MoneyField(_("保证金额"))
    application_id = models.PositiveBigIntegerField(_("贷款申请"), null=True, blank=True)
    loan = models.ForeignKey(
        "lending.Loan",
        verbose_name=_("贷款"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="guarantees",
    )
    period_start = models.DateField(_("保证期间起"), null=True, blank=True)
    period_end = models.DateField(_("保证期间止"), null=True, blank=True, db_index=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    released_on = models.DateField(_("解除日期"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("保证合同")
        verbose_name_plural = _("保证合同")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="guarantee_amount_pos"),
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_end__gte=models.F("period_start")),
                name="guarantee_period_order",
            ),
        ]
        indexes = [models.Index(fields=["application_id"], name="guarantee_app_idx")]

    def __str__(self) -> str:
        return self.contract_number


class ReleaseRequest(models.Model):
    """解押申请 / 解除保证申请: created when the secured loan is paid off (or by staff); a second
    person with ``approve_collateral_release`` approves it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")

    collateral = models.ForeignKey(
        Collateral,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="release_requests",
    )
    guarantee = models.ForeignKey(
        Guarantee,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="release_requests",
    )
    loan = models.ForeignKey(
        "lending.Loan", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("申请原因"), max_length=300)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("解押申请")
        verbose_name_plural = _("解押申请")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(collateral__isnull=False, guarantee__isnull=True)
                | Q(collateral__isnull=True, guarantee__isnull=False),
                name="release_one_subject",
            ),
            models.UniqueConstraint(
                fields=["collateral"],
                condition=Q(status="pending", collateral__isnull=False),
                name="release_one_pending_coll",
            ),
            models.UniqueConstraint(
                fields=["guarantee"],
                condition=Q(status="pending", guarantee__isnull=False),
                name="release_one_pending_guar",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pk} {self.get_status_display()}"


class LtvLimit(models.Model):
    """The maximum 抵押率 of a product (the default comes from ``CREDO_COLLATERAL_MAX_LTV``)."""

    product = models.OneToOneField(
        "lending.Product", on_delete=models.CASCADE, related_name="ltv_limit"
    )
    max_ltv = models.DecimalField(_("最高抵押率（%）"), max_digits=6, decimal_places=2)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("产品最高抵押率")
        verbose_name_plural = _("产品最高抵押率")

    def __str__(self) -> str:
        return f"{self.product_id}: {self.max_ltv}%"


class LtvSnapshot(models.Model):
    """The 抵押率 of an application as it stood at a decision point, kept as it was: at
    submission (申请时, the requested amount) and at the approval decision (审批时, the approved
    amount over the valuations current then). Later revaluations never change it."""

    class Stage(models.TextChoices):
        APPLICATION = "application", _("申请时")
        APPROVAL = "approval", _("审批时")

    application_id = models.PositiveBigIntegerField(_("贷款申请"))
    moment = models.CharField(_("时点"), max_length=12, choices=Stage.choices)
    amount = MoneyField(_("贷款金额"))
    collateral_value = MoneyField(_("押品评估价值合计"))
    ltv = models.DecimalField(
        _("抵押率（%）"), max_digits=20, decimal_places=2, null=True, blank=True
    )
    max_ltv = models.DecimalField(_("最高抵押率（%）"), max_digits=6, decimal_places=2)
    over_limit = models.BooleanField(_("超过最高抵押率"), default=False)
    # the collateral counted: [{"id", "number", "value"}] (value in fen, None = not valued)
    items = models.JSONField(default=list, blank=True)
    taken_on = models.DateField(_("业务日期"))
    taken_at = models.DateTimeField(_("记录时间"))
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("抵押率快照")
        verbose_name_plural = _("抵押率快照")
        ordering = ["application_id", "moment"]
        constraints = [
            models.UniqueConstraint(fields=["application_id", "moment"], name="ltv_snap_app_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.moment}: {self.ltv}"
