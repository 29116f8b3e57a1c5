"""Risk indicators (E1), monitoring alerts (E2) and retention suggestions (F5)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credo.core.money import MoneyField


class LoanIndicator(models.Model):
    """One row per loan, updated in place by the nightly set-based computation (``as_of``).
    Customer-level facts (related parties, judicial data, fund flows) are copied onto each of
    the customer's loans so a rule sees one flat row."""

    loan = models.OneToOneField(
        "lending.Loan", on_delete=models.CASCADE, primary_key=True, related_name="indicator"
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="loan_indicators"
    )
    # not indexed: every row carries the same date after a nightly run (an index on it made
    # each nightly rewrite of a row a non-HOT update touching all three indexes)
    as_of = models.DateField(_("计算日期"))
    open = models.BooleanField(default=True)
    dpd = models.PositiveIntegerField(_("逾期天数"), default=0)
    dpd_30d_ago = models.PositiveIntegerField(_("30天前逾期天数"), default=0)
    days_since_payment = models.PositiveIntegerField(_("距上次还款天数"), default=0)
    partial_streak = models.PositiveIntegerField(_("连续未按时足额还款期数"), default=0)
    last_payment = models.BigIntegerField(_("最近还款金额（分）"), default=0)
    avg_prev_payment = models.BigIntegerField(_("此前平均还款（分）"), default=0)
    payment_drop_pct = models.PositiveIntegerField(_("还款金额降幅（%）"), default=0)
    inflow_30d = models.BigIntegerField(_("近30天流入（分）"), default=0)
    inflow_avg_3m = models.BigIntegerField(_("前3个月月均流入（分）"), default=0)
    inflow_drop_pct = models.PositiveIntegerField(_("流入降幅（%）"), default=0)
    related_overdue = models.BooleanField(_("关联方逾期"), default=False)
    related_judgment_debtor = models.BooleanField(_("关联方被执行"), default=False)
    judgment_debtor = models.BooleanField(_("被执行人"), default=False)
    new_litigation = models.BooleanField(_("新增涉诉"), default=False)
    negative_news = models.BooleanField(_("负面舆情"), default=False)
    installments_left = models.PositiveIntegerField(_("剩余期数"), default=0)
    paid_off = models.BooleanField(_("已结清"), default=False)
    late_12m = models.PositiveIntegerField(_("近12个月逾期期数"), default=0)
    on_time_pct = models.PositiveIntegerField(_("近12个月按时还款率（%）"), default=100)

    class Meta:
        verbose_name = _("风险指标")
        verbose_name_plural = _("风险指标")

    def __str__(self) -> str:
        return f"{self.loan_id} @ {self.as_of}"

    def rule_input(self) -> dict[str, object]:
        return {f: getattr(self, f) for f in RULE_FIELDS}


RULE_FIELDS = (
    "dpd",
    "dpd_30d_ago",
    "days_since_payment",
    "partial_streak",
    "payment_drop_pct",
    "inflow_drop_pct",
    "related_overdue",
    "related_judgment_debtor",
    "judgment_debtor",
    "new_litigation",
    "negative_news",
    "installments_left",
    "paid_off",
    "late_12m",
    "on_time_pct",
)


class Severity(models.TextChoices):
    LOW = "low", _("低")
    MEDIUM = "medium", _("中")
    HIGH = "high", _("高")
    CRITICAL = "critical", _("严重")


class Alert(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        ACKNOWLEDGED = "acknowledged", _("已确认")
        IN_PROGRESS = "in_progress", _("处理中")
        ESCALATED = "escalated", _("已升级")
        CLOSED = "closed", _("已关闭")

    rule_code = models.CharField(_("规则编码"), max_length=40)
    rule_name = models.CharField(_("规则名称"), max_length=80)
    severity = models.CharField(_("严重程度"), max_length=10, choices=Severity.choices)
    loan = models.ForeignKey(
        "lending.Loan", verbose_name=_("贷款"), on_delete=models.CASCADE, related_name="alerts"
    )
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.CASCADE,
        related_name="alerts",
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    reasons = models.JSONField(_("触发原因"), default=list, blank=True)
    snapshot = models.JSONField(_("指标快照"), default=dict, blank=True)
    rules_version = models.ForeignKey(
        "rules.DecisionVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    business_date = models.DateField(_("业务日期"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="monitoring_alerts",
    )
    # Data scope: the customer's owner/team/branch, copied so lists filter without joins.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    branch = models.ForeignKey(
        "accounts.OrgUnit",
        verbose_name=_("机构"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    due_at = models.DateTimeField(_("处理时限"))
    conclusion = models.TextField(_("处理结论"), blank=True)
    created_at = models.DateTimeField(_("产生时间"), auto_now_add=True)
    last_seen_on = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Pushed alerts (issue 23): when the assignee was told (todo + message; never twice), whether
    # the alert waits for the assignee's daily digest, and the SLA escalations so far.
    pushed_at = models.DateTimeField(_("推送时间"), null=True, blank=True)
    digest_pending = models.BooleanField(_("待每日汇总"), default=False)
    digested_at = models.DateTimeField(_("汇总时间"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("升级次数"), default=0)
    escalated_at = models.DateTimeField(_("升级时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-id"]
        permissions = [
            ("handle_alert", _("处理预警")),
            ("manage_retention", _("审批客户维护建议")),
        ]
        constraints = [
            # One open alert per (rule, loan): concurrent runs insert with ON CONFLICT DO NOTHING.
            models.UniqueConstraint(
                fields=["rule_code", "loan"],
                condition=~Q(status="closed"),
                name="alert_one_open_per_rule_loan",
            )
        ]
        indexes = [
            models.Index(fields=["status", "severity"], name="alert_status_sev_idx"),
            # the SLA scan: not-closed alerts past their time limit
            models.Index(fields=["status", "due_at"], name="alert_status_due_idx"),
            models.Index(
                fields=["assignee"],
                condition=Q(digest_pending=True),
                name="alert_digest_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_name} · {self.loan_id}"


class AlertAction(models.Model):
    class Kind(models.TextChoices):
        CREATED = "created", _("产生")
        ACKNOWLEDGE = "acknowledge", _("确认")
        CONTACT = "contact", _("联系客户")
        REQUEST_GUARANTEE = "request_guarantee", _("要求追加担保")
        ADJUST_LIMIT = "adjust_limit", _("调整授信额度")
        FREEZE_LIMIT = "freeze_limit", _("冻结授信额度")
        ESCALATE = "escalate", _("升级")
        CLOSE = "close", _("关闭")
        AUTO_CLOSE = "auto_close", _("自动关闭")

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(_("动作"), max_length=20, choices=Kind.choices)
    note = models.TextField(_("说明"), blank=True)
    detail = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("预警处理记录")
        verbose_name_plural = _("预警处理记录")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.kind}"


class SameDayCheck(models.Model):
    """A loan to re-check today because a risk-changing event happened (a reversed repayment,
    new litigation or news data, a risk flag): written by the event-stream consumer
    ``monitoring.sameday``, taken by the task ``monitoring_sameday`` (``checked_at``)."""

    loan = models.ForeignKey(
        "lending.Loan", verbose_name=_("贷款"), on_delete=models.CASCADE, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("客户"), on_delete=models.CASCADE, related_name="+"
    )
    event_key = models.CharField(_("事件"), max_length=40)
    action = models.CharField(_("事件类型"), max_length=60)
    requested_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    checked_at = models.DateTimeField(_("检查时间"), null=True, blank=True)
    result = models.JSONField(_("检查结果"), default=dict, blank=True)

    class Meta:
        verbose_name = _("当日风险复查")
        verbose_name_plural = _("当日风险复查")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["event_key", "loan"], name="sameday_one_per_event_loan")
        ]
        indexes = [
            models.Index(
                fields=["id"], condition=Q(checked_at__isnull=True), name="sameday_pending_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_key} → {self.loan_id}"


class RetentionTrigger(models.Model):
    """A retention trigger that fired, never twice for the same ``key``: per loan
    (``loan:<id>:renewal``) or per customer and year (``customer:<id>:good_customer:2026``)."""

    key = models.CharField(max_length=80, unique=True)
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    loan = models.ForeignKey("lending.Loan", on_delete=models.CASCADE, related_name="+")
    trigger = models.CharField(max_length=30)
    business_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.key


class RetentionSuggestion(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已驳回")

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("客户"), on_delete=models.CASCADE, related_name="+"
    )
    loan = models.ForeignKey(
        "lending.Loan", verbose_name=_("贷款"), on_delete=models.CASCADE, related_name="+"
    )
    trigger = models.CharField(_("触发条件"), max_length=30)
    reason = models.CharField(_("理由"), max_length=200, blank=True)
    current_amount = MoneyField(_("当前额度"), default=0)
    suggested_amount = MoneyField(_("建议额度"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    branch = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("额度提升建议")
        verbose_name_plural = _("额度提升建议")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.suggested_amount}"
