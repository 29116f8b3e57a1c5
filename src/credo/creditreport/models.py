"""征信报送: submissions (one per reported month, plus the corrections queued for it), the
records they carry and the files generated from them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credo.core.fields import EncryptedTextField
from credo.core.money import MoneyField


class Submission(models.Model):
    """One month's credit-reporting submission (报送批次): generated after the month is closed,
    validated, approved by a second person, exported through a writer and marked 已报送.
    Corrections and deletions queued since the last submission travel with it."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("已生成")
        APPROVED = "approved", _("已审核")
        SUBMITTED = "submitted", _("已报送")
        CANCELLED = "cancelled", _("已作废")

    month = models.DateField(_("报送月份"))  # the first day of the month
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("生成人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    generated_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报送人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=300, blank=True)
    counts = models.JSONField(_("统计"), default=dict, blank=True)
    seconds = models.FloatField(_("生成耗时（秒）"), default=0)

    class Meta:
        verbose_name = _("征信报送批次")
        verbose_name_plural = _("征信报送批次")
        ordering = ["-month", "-id"]
        permissions = [("manage", _("征信报送（生成、校验、审核、导出）"))]
        constraints = [
            models.UniqueConstraint(
                fields=["month"], condition=~Q(status="cancelled"), name="cr_submission_one_live"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} #{self.pk}"

    @property
    def label(self) -> str:
        return self.month.strftime("%Y-%m")

    @property
    def error_count(self) -> int:
        return int((self.counts or {}).get("errors", 0))


class CreditRecord(models.Model):
    """One loan account's record for one month, as reported (or queued as a correction or
    deletion of a month already reported). Amounts in fen; identity as of generation."""

    class Kind(models.TextChoices):
        MONTHLY = "monthly", _("月度报送")
        CORRECTION = "correction", _("更正")
        DELETION = "deletion", _("删除")

    submission = models.ForeignKey(
        Submission,
        verbose_name=_("报送批次"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="records",
    )
    kind = models.CharField(_("记录类型"), max_length=12, choices=Kind.choices)
    month = models.DateField(_("数据月份"))
    loan = models.ForeignKey(
        "lending.Loan", verbose_name=_("贷款"), on_delete=models.PROTECT, related_name="+"
    )
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("借款人"), on_delete=models.PROTECT, related_name="+"
    )
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("更正的记录"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    borrower_name = models.CharField(_("借款人名称"), max_length=120)
    id_type = models.CharField(_("证件类型"), max_length=10)
    id_number = EncryptedTextField(_("证件号码"), mask_kind="id_number", blank=True, default="")
    account_number = models.CharField(_("账户编号"), max_length=40)
    open_date = models.DateField(_("开立日期"))
    maturity_date = models.DateField(_("到期日期"), null=True, blank=True)
    amount = MoneyField(_("借款金额"))
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    repayment_method = models.CharField(_("还款方式"), max_length=32)
    repayment_frequency = models.CharField(_("还款频率"), max_length=10)
    guarantee_type = models.CharField(_("担保方式"), max_length=16)
    balance = MoneyField(_("余额"), default=0)
    five_class = models.CharField(_("五级分类"), max_length=16)
    overdue_periods = models.PositiveIntegerField(_("当前逾期期数"), default=0)
    overdue_amount = MoneyField(_("当前逾期总额"), default=0)
    overdue_principal = MoneyField(_("逾期本金"), default=0)
    overdue_days = models.PositiveIntegerField(_("逾期天数"), default=0)
    due_in_month = MoneyField(_("本月应还"), default=0)
    status_string = models.CharField(_("24个月还款状态"), max_length=24)
    account_status = models.CharField(_("账户状态"), max_length=12)
    closed_on = models.DateField(_("结清/核销日期"), null=True, blank=True)
    events = models.JSONField(_("特殊事件"), default=list, blank=True)
    ledger_balance = models.BigIntegerField(_("总账余额（分）"), null=True, blank=True)
    fingerprint = models.CharField(max_length=64)
    errors = models.JSONField(_("校验错误"), default=list, blank=True)
    changed = models.JSONField(_("更正字段"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("征信报送记录")
        verbose_name_plural = _("征信报送记录")
        ordering = ["submission", "id"]
        indexes = [
            models.Index(fields=["loan", "month"], name="cr_record_loan_month"),
            models.Index(fields=["month", "kind"], name="cr_record_month_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.account_number} {self.month:%Y-%m} {self.get_kind_display()}"


class SubmissionFile(models.Model):
    """A file generated from a submission by one writer, kept under the document root."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="files")
    writer = models.CharField(_("格式"), max_length=40)
    encoding = models.CharField(_("编码"), max_length=12, blank=True)
    file_name = models.CharField(_("文件名"), max_length=120)
    stored_name = models.CharField(max_length=120, unique=True)
    size = models.PositiveBigIntegerField(_("大小（字节）"), default=0)
    sha256 = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("征信报送文件")
        verbose_name_plural = _("征信报送文件")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.file_name
