"""Products (versioned terms), loans, installments, the double-entry ledger and postings.

Money is integer fen everywhere (``MoneyField``). Posted money never changes: corrections are
reversal entries. A loan copies the terms of the product version it was signed with.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credo.core.money import MoneyField

DEFAULT_ALLOCATION = ["penalty", "fee", "interest", "principal"]


class Method(models.TextChoices):
    EQUAL_INSTALLMENT = "equal_installment", _("等额本息")
    EQUAL_PRINCIPAL = "equal_principal", _("等额本金")
    INTEREST_ONLY = "interest_only", _("先息后本")
    BULLET = "bullet", _("到期一次还本付息")


class Product(models.Model):
    code = models.SlugField(_("产品编码"), max_length=40, unique=True)
    name = models.CharField(_("产品名称"), max_length=80)
    is_active = models.BooleanField(_("在售"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("贷款产品")
        verbose_name_plural = _("贷款产品")
        ordering = ["code"]
        permissions = [("manage_products", _("管理贷款产品"))]

    def __str__(self) -> str:
        return self.name

    @property
    def published(self) -> ProductVersion | None:
        return self.versions.filter(status=ProductVersion.Status.PUBLISHED).first()


class ProductVersion(models.Model):
    """The terms a loan is signed with. Published versions are immutable; edit a new draft."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        RETIRED = "retired", _("已停用")

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    min_amount = MoneyField(_("最低金额"))
    max_amount = MoneyField(_("最高金额"))
    min_months = models.PositiveSmallIntegerField(
        _("最短期限（月）"), validators=[MinValueValidator(1)]
    )
    max_months = models.PositiveSmallIntegerField(
        _("最长期限（月）"), validators=[MaxValueValidator(600)]
    )
    min_rate = models.DecimalField(_("最低年利率（%）"), max_digits=7, decimal_places=4)
    max_rate = models.DecimalField(_("最高年利率（%）"), max_digits=7, decimal_places=4)
    method = models.CharField(_("还款方式"), max_length=20, choices=Method.choices)
    repayment_day = models.PositiveSmallIntegerField(
        _("固定还款日"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text=_("留空表示按放款日对应日还款"),
    )
    upfront_fee_rate = models.DecimalField(
        _("一次性手续费率（%）"), max_digits=6, decimal_places=4, default=Decimal("0")
    )
    installment_fee = MoneyField(_("每期服务费"), default=0)
    penalty_multiplier = models.DecimalField(
        _("罚息倍数"), max_digits=4, decimal_places=2, default=Decimal("1.5")
    )
    grace_days = models.PositiveSmallIntegerField(_("宽限期（天）"), default=0)
    penalty_days_in_year = models.PositiveSmallIntegerField(
        _("罚息计息天数"), choices=[(360, "actual/360"), (365, "actual/365")], default=360
    )
    allocation_order = models.JSONField(_("还款冲抵顺序"), default=list)
    required_documents = models.JSONField(_("必备资料"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("产品版本")
        verbose_name_plural = _("产品版本")
        ordering = ["product", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["product", "number"], name="productversion_unique"),
            models.UniqueConstraint(
                fields=["product"],
                condition=Q(status="published"),
                name="productversion_one_published",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} v{self.number}"


class Loan(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待放款")
        ACTIVE = "active", _("正常")
        OVERDUE = "overdue", _("逾期")
        PAID_OFF = "paid_off", _("已结清")
        WRITTEN_OFF = "written_off", _("已核销")

    class Classification(models.TextChoices):
        NORMAL = "normal", _("正常")
        SPECIAL_MENTION = "special_mention", _("关注")
        SUBSTANDARD = "substandard", _("次级")
        DOUBTFUL = "doubtful", _("可疑")
        LOSS = "loss", _("损失")

    number = models.CharField(_("贷款编号"), max_length=20, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("客户"), on_delete=models.PROTECT, related_name="loans"
    )
    product_version = models.ForeignKey(
        ProductVersion, verbose_name=_("产品版本"), on_delete=models.PROTECT, related_name="loans"
    )
    principal = MoneyField(_("贷款本金"))
    annual_rate = models.DecimalField(_("年利率（%）"), max_digits=7, decimal_places=4)
    months = models.PositiveSmallIntegerField(_("期限（月）"))
    method = models.CharField(_("还款方式"), max_length=20, choices=Method.choices)
    repayment_day = models.PositiveSmallIntegerField(_("还款日"), null=True, blank=True)
    upfront_fee = MoneyField(_("一次性手续费"), default=0)
    installment_fee = MoneyField(_("每期服务费"), default=0)
    penalty_multiplier = models.DecimalField(_("罚息倍数"), max_digits=4, decimal_places=2)
    grace_days = models.PositiveSmallIntegerField(_("宽限期（天）"), default=0)
    penalty_days_in_year = models.PositiveSmallIntegerField(default=360)
    allocation_order = models.JSONField(default=list)

    status = models.CharField(
        _("状态"), max_length=15, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    classification = models.CharField(
        _("五级分类"), max_length=16, choices=Classification.choices, default="normal"
    )
    dpd = models.PositiveIntegerField(_("逾期天数"), default=0)
    start_date = models.DateField(_("起息日"), null=True, blank=True, db_index=True)
    maturity_date = models.DateField(_("到期日"), null=True, blank=True)
    outstanding_principal = MoneyField(_("剩余本金"), default=0)
    credit_balance = MoneyField(_("溢缴款"), default=0)
    last_eod_date = models.DateField(null=True, blank=True)

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="loans"
    )
    team = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    branch = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    disbursed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    disbursed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("贷款")
        verbose_name_plural = _("贷款")
        ordering = ["-id"]
        permissions = [
            ("disburse_loan", _("确认放款")),
            ("post_repayment", _("登记还款")),
            ("reverse_posting", _("冲正还款")),
            ("run_eod", _("执行日终批处理")),
            ("write_off_loan", _("核销贷款")),
            ("create_loan_directly", _("直接新建贷款（不经申请审批）")),
            ("backdate_disbursement", _("放款日倒签（超出允许天数）")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(outstanding_principal__gte=0), name="loan_outstanding_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(credit_balance__gte=0), name="loan_credit_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.number


COMPONENTS = ("penalty", "fee", "interest", "principal")


def owed_expression(
    *, penalty: bool = True, fee: bool = True, interest: bool = True, principal: bool = True
) -> models.Expression:
    """The ONE definition of "amount owed" on an installment: ``due − paid`` summed over the
    components asked for. Named variants, not copies: ``owed_expression()`` (everything the
    borrower owes), ``owed_expression(penalty=False)`` (owed before 罚息, e.g. the 应还 of a due
    reminder), ``owed_expression(penalty=False, fee=False, interest=False)`` (principal only)."""
    wanted = [
        c
        for c, on in (
            ("principal", principal),
            ("interest", interest),
            ("fee", fee),
            ("penalty", penalty),
        )
        if on
    ]
    if not wanted:
        raise ValueError("owed_expression needs at least one component")
    expr: models.Expression = models.F(f"{wanted[0]}_due") - models.F(f"{wanted[0]}_paid")
    for c in wanted[1:]:
        expr = expr + models.F(f"{c}_due") - models.F(f"{c}_paid")
    return models.ExpressionWrapper(expr, output_field=models.BigIntegerField())


class InstallmentQuerySet(models.QuerySet["Installment"]):
    def unpaid(self) -> InstallmentQuerySet:
        """Installments the borrower still owes on (not 已还清 / 已核销)."""
        return self.exclude(status__in=("paid", "written_off"))

    def outstanding(self, *, penalty: bool = True, fee: bool = True) -> InstallmentQuerySet:
        """Unpaid installments annotated with ``owed`` (integer fen, see :func:`owed_expression`)."""
        return self.unpaid().annotate(owed=owed_expression(penalty=penalty, fee=fee))

    def owed_total(self, *, penalty: bool = True, fee: bool = True, **parts: bool) -> int:
        """Sum of the amount owed over this queryset, in integer fen (0 for none)."""
        total = self.aggregate(t=models.Sum(owed_expression(penalty=penalty, fee=fee, **parts)))[
            "t"
        ]
        return int(total or 0)


class Installment(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("未到期")
        DUE = "due", _("已到期")
        OVERDUE = "overdue", _("逾期")
        PAID = "paid", _("已还清")
        WRITTEN_OFF = "written_off", _("已核销")

    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="installments")
    period = models.PositiveSmallIntegerField(_("期数"))
    due_date = models.DateField(_("还款日"), db_index=True)
    principal_due = MoneyField(_("应还本金"))
    interest_due = MoneyField(_("应还利息"))
    fee_due = MoneyField(_("应还费用"), default=0)
    penalty_due = MoneyField(_("罚息"), default=0)
    principal_paid = MoneyField(default=0)
    interest_paid = MoneyField(default=0)
    fee_paid = MoneyField(default=0)
    penalty_paid = MoneyField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED)
    paid_on = models.DateField(null=True, blank=True)

    objects = InstallmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("还款计划")
        verbose_name_plural = _("还款计划")
        ordering = ["loan", "period"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "period"], name="installment_unique"),
            models.CheckConstraint(
                condition=Q(principal_paid__lte=models.F("principal_due"))
                & Q(interest_paid__lte=models.F("interest_due"))
                & Q(fee_paid__lte=models.F("fee_due"))
                & Q(penalty_paid__lte=models.F("penalty_due")),
                name="installment_not_overpaid",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_date"], name="installment_due_idx")]

    def __str__(self) -> str:
        return f"{self.loan} #{self.period}"

    def amount_owed(self, *, penalty: bool = True, fee: bool = True) -> int:
        """Amount still owed on this installment in fen (same rule as :func:`owed_expression`)."""
        parts = (
            ["principal", "interest"] + (["fee"] if fee else []) + (["penalty"] if penalty else [])
        )
        return sum(getattr(self, f"{c}_due").fen - getattr(self, f"{c}_paid").fen for c in parts)


class LedgerAccount(models.Model):
    """Chart of accounts. ``export_code`` maps to the lender's GL (Kingdee/Yonyou)."""

    class Kind(models.TextChoices):
        ASSET = "asset", _("资产")
        LIABILITY = "liability", _("负债")
        INCOME = "income", _("收入")
        EXPENSE = "expense", _("费用")

    code = models.SlugField(_("科目"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    export_code = models.CharField(_("总账科目代码"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("会计科目")
        verbose_name_plural = _("会计科目")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class JournalEntry(models.Model):
    class Kind(models.TextChoices):
        DISBURSEMENT = "disbursement", _("放款")
        REPAYMENT = "repayment", _("还款")
        PENALTY = "penalty", _("罚息计提")
        WRITE_OFF = "write_off", _("核销")
        REVERSAL = "reversal", _("冲正")
        FEE = "fee", _("手续费")

    kind = models.CharField(max_length=15, choices=Kind.choices)
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="entries")
    business_date = models.DateField(_("记账日期"), db_index=True)
    memo = models.CharField(_("摘要"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("会计分录")
        verbose_name_plural = _("会计分录")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.loan} {self.business_date}"


class JournalLine(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="lines")
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="journal_lines")
    debit = MoneyField(default=0)
    credit = MoneyField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(credit__gt=0) & Q(debit=0)),
                name="journalline_one_side",
            )
        ]
        indexes = [models.Index(fields=["loan", "account"], name="journalline_loan_idx")]

    def __str__(self) -> str:
        return f"{self.account_id} D{self.debit} C{self.credit}"


class Posting(models.Model):
    """A repayment received (manual, statement import or API); reversible, never edited."""

    class Channel(models.TextChoices):
        MANUAL = "manual", _("柜面/手工")
        STATEMENT = "statement", _("银行流水")
        API = "api", _("接口")

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="postings")
    amount = MoneyField(_("还款金额"))
    received_on = models.DateField(_("到账日期"))
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    reference = models.CharField(_("流水号/备注"), max_length=80, blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    allocation = models.JSONField(_("冲抵明细"), default=dict)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="posting")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("还款记录")
        verbose_name_plural = _("还款记录")
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="posting_positive")]

    def __str__(self) -> str:
        return f"{self.loan} {self.amount} {self.received_on}"


class EodRun(models.Model):
    """One close-of-business run for a business date (日终批处理), chunked by loan-id range."""

    class Status(models.TextChoices):
        RUNNING = "running", _("运行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    business_date = models.DateField(_("业务日期"), unique=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    loans_total = models.PositiveIntegerField(default=0)
    loans_done = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("日终批处理")
        verbose_name_plural = _("日终批处理")
        ordering = ["-business_date"]

    def __str__(self) -> str:
        return f"EOD {self.business_date}"


class EodChunk(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待处理")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    run = models.ForeignKey(EodRun, on_delete=models.CASCADE, related_name="chunks")
    first_loan_id = models.BigIntegerField()
    last_loan_id = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    processed = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The latest claim (committed before the chunk's transaction): the claimant's lease is its
    # worker's heartbeat (credo.core.scheduling.reaper); attempts counts every claim.
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "first_loan_id"], name="eodchunk_unique")
        ]

    def __str__(self) -> str:
        return f"{self.run} [{self.first_loan_id}–{self.last_loan_id}]"


class EodJob(models.Model):
    """One after-close job (日终后续作业) of a business date's run: monitoring, collections,
    report snapshots, … (registered with ``credo.lending.eod.register_after_close_job``). Its
    own status, attempts and result; a DONE job is never run again for the date."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待执行")
        RUNNING = "running", _("执行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    run = models.ForeignKey(EodRun, on_delete=models.CASCADE, related_name="jobs")
    key = models.CharField(_("作业"), max_length=60)
    order = models.IntegerField(default=100)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration = models.DurationField(_("耗时"), null=True, blank=True)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("日终后续作业")
        verbose_name_plural = _("日终后续作业")
        ordering = ["run", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "key"], name="eodjob_unique")]

    def __str__(self) -> str:
        return f"{self.run} {self.key}"


class StatementImport(models.Model):
    """A bank statement file imported for repayment matching (银行流水导入)."""

    file_name = models.CharField(_("文件名"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("银行流水导入")
        verbose_name_plural = _("银行流水导入")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.file_name


class StatementLine(models.Model):
    class Status(models.TextChoices):
        UNMATCHED = "unmatched", _("未匹配")
        MATCHED = "matched", _("已匹配")
        POSTED = "posted", _("已入账")
        IGNORED = "ignored", _("已忽略")

    statement = models.ForeignKey(StatementImport, on_delete=models.CASCADE, related_name="lines")
    row_number = models.PositiveIntegerField(_("行号"))
    txn_date = models.DateField(_("交易日期"))
    amount = MoneyField(_("金额"))
    payer_name = models.CharField(_("付款人"), max_length=120, blank=True)
    payer_account = models.CharField(_("付款账号"), max_length=40, blank=True)
    reference = models.CharField(_("摘要/附言"), max_length=200, blank=True)
    bank_txn_id = models.CharField(_("银行流水号"), max_length=80, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.UNMATCHED, db_index=True
    )
    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, null=True, blank=True, related_name="statement_lines"
    )
    posting = models.OneToOneField(
        Posting, on_delete=models.PROTECT, null=True, blank=True, related_name="statement_line"
    )
    match_reason = models.CharField(_("匹配依据"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("流水明细")
        verbose_name_plural = _("流水明细")
        ordering = ["statement", "row_number"]

    def __str__(self) -> str:
        return f"{self.txn_date} {self.amount} {self.payer_name}"


class CreditLimit(models.Model):
    """授信额度: a customer's approved limit; loans draw on it (used = open principal)."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.PROTECT, related_name="credit_limit"
    )
    amount = MoneyField(_("授信额度"))
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    frozen = models.BooleanField(_("已冻结"), default=False)
    reason = models.CharField(_("最近调整原因"), max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("授信额度")
        verbose_name_plural = _("授信额度")
        permissions = [("manage_limits", _("调整/冻结授信额度"))]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="creditlimit_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.amount}"
