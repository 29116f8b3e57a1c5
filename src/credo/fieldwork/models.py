"""Field work (贷后检查与走访): inspection plans and results, visit check-ins, their photos, and
the coordinates of a customer's registered address (for the distance shown on the phone)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class CustomerSite(models.Model):
    """Coordinates of the customer's registered address (登记地址坐标). Customers carry no
    coordinates and geocoding needs an online map service, so they are entered by hand or taken
    from a visit's location by someone allowed to; the distance is shown only when set."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("手工录入")
        VISIT = "visit", _("取自现场定位")

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="field_site"
    )
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    set_at = models.DateTimeField(_("设置时间"), auto_now=True)

    class Meta:
        verbose_name = _("客户登记地址坐标")
        verbose_name_plural = _("客户登记地址坐标")

    def __str__(self) -> str:
        return f"{self.latitude},{self.longitude}"


class Located(models.Model):
    """The browser's location when the form was filled (WGS-84 from the Geolocation API)."""

    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(
        _("经度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    accuracy_m = models.PositiveIntegerField(_("定位精度（米）"), null=True, blank=True)
    located_at = models.DateTimeField(_("定位时间"), null=True, blank=True)
    # metres from the customer's registered-address coordinates, when those are known
    distance_m = models.PositiveIntegerField(_("距登记地址（米）"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None


class Inspection(Located):
    """One planned 贷后检查 of a loan: created by the plan job (rules decide when), done on the
    phone by the loan's account manager."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("待检查")
        COMPLETED = "completed", _("已完成")
        CANCELLED = "cancelled", _("已取消")

    class Kind(models.TextChoices):
        FIRST = "first", _("首次检查")
        PERIODIC = "periodic", _("定期检查")

    class Result(models.TextChoices):
        NONE = "", _("未检查")
        PASS = "pass", _("正常")
        FAIL = "fail", _("异常")

    loan = models.ForeignKey(
        "lending.Loan", verbose_name=_("贷款"), on_delete=models.CASCADE, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("客户"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PLANNED, db_index=True
    )
    due_date = models.DateField(_("应检查日期"), db_index=True)
    planned_on = models.DateField(_("生成日期"))
    frequency_days = models.PositiveIntegerField(_("检查频率（天）"))
    plan_version = models.ForeignKey(
        "rules.DecisionVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    plan_reasons = models.JSONField(_("规则依据"), default=list, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("检查人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # data scope: copied from the loan so lists filter without joins
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    branch = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    result = models.CharField(
        _("检查结论"), max_length=4, choices=Result.choices, blank=True, default=""
    )
    answers = models.JSONField(_("检查项"), default=dict, blank=True)
    notes = models.TextField(_("检查情况"), blank=True)
    client_uuid = models.UUIDField(_("草稿编号"), null=True, blank=True, unique=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    completed_on = models.DateField(_("检查日期"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    alert_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("贷后检查")
        verbose_name_plural = _("贷后检查")
        ordering = ["due_date", "id"]
        permissions = [
            ("perform_inspection", _("执行贷后检查")),
            ("set_customer_site", _("设置客户登记地址坐标")),
        ]
        constraints = [
            # the plan job is idempotent and may run concurrently: one open inspection per loan
            models.UniqueConstraint(
                fields=["loan"], condition=Q(status="planned"), name="inspection_one_open_per_loan"
            )
        ]
        indexes = [
            models.Index(fields=["assignee", "status", "due_date"], name="inspection_todo_idx"),
            models.Index(fields=["customer", "-id"], name="inspection_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.due_date}"


class Visit(Located):
    """A visit check-in (走访签到) of an account manager at a customer."""

    class Purpose(models.TextChoices):
        DUE_DILIGENCE = "due_diligence", _("贷前调查")
        POST_LOAN = "post_loan", _("贷后回访")
        COLLECTION = "collection", _("催收走访")
        MARKETING = "marketing", _("营销拜访")
        OTHER = "other", _("其他")

    client_uuid = models.UUIDField(_("草稿编号"), unique=True)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("客户"), on_delete=models.CASCADE, related_name="+"
    )
    purpose = models.CharField(_("走访目的"), max_length=20, choices=Purpose.choices)
    notes = models.TextField(_("走访情况"), blank=True)
    visited_at = models.DateTimeField(_("签到时间"), db_index=True)
    # the member who visited; team/branch are the member's, for the team lead's scope
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("走访人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    team = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    branch = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("走访签到")
        verbose_name_plural = _("走访签到")
        ordering = ["-visited_at", "-id"]
        indexes = [models.Index(fields=["owner", "-visited_at"], name="visit_owner_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} · {self.visited_at:%Y-%m-%d}"


class FieldPhoto(models.Model):
    """A photo taken on the phone, stored with the document rules (origination.documents:
    type sniffed, size and pixel caps, generated name outside the web root)."""

    inspection = models.ForeignKey(
        Inspection, on_delete=models.CASCADE, null=True, blank=True, related_name="photos"
    )
    visit = models.ForeignKey(
        Visit, on_delete=models.CASCADE, null=True, blank=True, related_name="photos"
    )
    stored_name = models.CharField(max_length=80)
    original_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("现场照片")
        verbose_name_plural = _("现场照片")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(inspection__isnull=False, visit__isnull=True)
                | Q(inspection__isnull=True, visit__isnull=False),
                name="fieldphoto_one_parent",
            )
        ]

    def __str__(self) -> str:
        return self.original_name or self.stored_name
