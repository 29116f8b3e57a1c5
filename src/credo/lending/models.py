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
from credo.lending.servicing.models import (  # noqa: F401  (servicing approvals: lending models)
    ClassificationRequest,
    RequestStatus,
    WaiverRequest,
)

DEFAULT_ALLOCATION = ["penalty", "fee", "interest", "principal"]


class Method(models.TextChoices):
    EQUAL_INSTALLMENT = "equal_installment", _("等额本息")
    EQUAL_PRINCIPAL = "equal_principal", _("等额本金")
    INTEREST_ONLY = "interest_only", _("按月付息到期还本（先息后本）")
    BULLET = "bullet", _("到期一次还本付息")
    INTEREST_QUARTERLY = "interest_quarterly", _("按季付息到期还本")
    EQUAL_INSTALLMENT_QUARTERLY = "equal_installment_quarterly", _("按季等额本息")


class RateType(models.TextChoices):
    FIXED = "fixed", _("固定利率")
    LPR = "lpr", _("LPR 浮动利率")


class LprTenor(models.TextChoices):
    ONE_YEAR = "1y", _("1 年期 LPR")
    FIVE_YEAR = "5y", _("5 年期以上 LPR")


class HolidayRule(models.TextChoices):
    """A due date on a rest day (节假日/周末; calendar: credo.core.holidays)."""

    NONE = "none", _("不调整")
    NEXT_WORKING_DAY = "next_working_day", _("顺延至下一工作日（还款日调整）")
    DEFER_PENALTY = "defer_penalty", _("节假日顺延（还款日不变，下一工作日前不计罚息）")


class Repricing(models.TextChoices):
    ANNUAL_JAN1 = "annual_jan1", _("每年1月1日")
    ANNIVERSARY = "anniversary", _("放款对应日（每年）")
    MONTHLY = "monthly", _("每月放款对应日")


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
    method = models.CharField(_("还款方式"), max_length=32, choices=Method.choices)
    rate_type = models.CharField(
        _("利率类型"), max_length=8, choices=RateType.choices, default=RateType.FIXED
    )
    lpr_tenor = models.CharField(
        _("LPR 期限"), max_length=4, choices=LprTenor.choices, default=LprTenor.ONE_YEAR
    )
    spread_bp = models.IntegerField(
        _("加点（基点）"), default=0, help_text=_("可为负数；100 基点 = 1%")
    )
    repricing = models.CharField(
        _("重定价日"), max_length=12, choices=Repricing.choices, default=Repricing.ANNUAL_JAN1
    )
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
    # 民法典 第六百七十条 (no 砍头息): the full principal is disbursed; the upfront fee is a
    # separate receivable the borrower pays at disbursement or with the first installment
    upfront_fee_timing = models.CharField(
        _("一次性手续费收取方式"),
        max_length=20,
        choices=[
            ("disbursement", _("放款时收取")),
            ("first_installment", _("随首期还款收取")),
        ],
        default="disbursement",
        help_text=_("本金全额放款，手续费不从放款金额中扣除"),
    )
    installment_fee = MoneyField(_("每期服务费"), default=0)
    penalty_multiplier = models.DecimalField(
        _("罚息倍数"), max_digits=4, decimal_places=2, default=Decimal("1.5")
    )
    # 综合融资成本上限: the APR (IRR method, all fees) no loan of this version may exceed.
    max_apr = models.DecimalField(
        _("年化利率上限（%）"),
        max_digits=6,
        decimal_places=2,
        default=Decimal("24"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("按 IRR 法计算、含全部费用的年化利率（单利）不得超过此值"),
    )
    grace_days = models.PositiveSmallIntegerField(_("宽限期（天）"), default=0)
    penalty_days_in_year = models.PositiveSmallIntegerField(
        _("罚息计息天数"), choices=[(360, "actual/360"), (365, "actual/365")], default=360
    )
    compound_interest = models.BooleanField(
        _("逾期利息计复利"),
        default=True,
        help_text=_("按罚息利率对逾期利息计收复利（银发〔2003〕251号）"),
    )
    penalty_from = models.CharField(
        _("宽限期后罚息起算"),
        max_length=10,
        choices=[("due_date", _("自还款日起算")), ("grace_end", _("自宽限期届满起算"))],
        default="due_date",
    )
    allocation_order = models.JSONField(_("还款冲抵顺序"), default=list)
    required_documents = models.JSONField(_("必备资料"), default=list, blank=True)
    holiday_rule = models.CharField(
        _("还款日遇节假日"),
        max_length=20,
        choices=HolidayRule.choices,
        default=HolidayRule.DEFER_PENALTY,
    )
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
    method = models.CharField(_("还款方式"), max_length=32, choices=Method.choices)
    rate_type = models.CharField(
        _("利率类型"), max_length=8, choices=RateType.choices, default=RateType.FIXED
    )
    lpr_tenor = models.CharField(
        _("LPR 期限"), max_length=4, choices=LprTenor.choices, default=LprTenor.ONE_YEAR
    )
    spread_bp = models.IntegerField(
        _("加点（基点）"), default=0, help_text=_("可为负数；100 基点 = 1%")
    )
    repricing = models.CharField(
        _("重定价日"), max_length=12, choices=Repricing.choices, default=Repricing.ANNUAL_JAN1
    )
    repayment_day = models.PositiveSmallIntegerField(_("还款日"), null=True, blank=True)
    upfront_fee = MoneyField(_("一次性手续费"), default=0)
    # how the upfront fee is collected (copied from the product version); "deducted": loans
    # disbursed before migration 0022, whose fee was taken out of the amount paid out
    upfront_fee_timing = models.CharField(
        _("一次性手续费收取方式"),
        max_length=20,
        choices=[
            ("disbursement", _("放款时收取")),
            ("first_installment", _("随首期还款收取")),
            ("deducted", _("从放款金额中扣除（历史放款）")),
        ],
        default="disbursement",
    )
    installment_fee = MoneyField(_("每期服务费"), default=0)
    penalty_multiplier = models.DecimalField(_("罚息倍数"), max_digits=4, decimal_places=2)
    grace_days = models.PositiveSmallIntegerField(_("宽限期（天）"), default=0)
    penalty_days_in_year = models.PositiveSmallIntegerField(default=360)
    compound_interest = models.BooleanField(_("逾期利息计复利"), default=True)
    penalty_from = models.CharField(
        _("宽限期后罚息起算"),
        max_length=10,
        choices=[("due_date", _("自还款日起算")), ("grace_end", _("自宽限期届满起算"))],
        default="due_date",
    )
    classification_floor = models.CharField(
        _("五级分类下限"), max_length=16, choices=Classification.choices, blank=True
    )
    classification_floor_until = models.DateField(_("分类下限有效至"), null=True, blank=True)
    # the day a 不良 loan's arrears were last fully repaid (upgrade observation, 2023 办法)
    cure_since = models.DateField(null=True, blank=True)
    allocation_order = models.JSONField(default=list)
    holiday_rule = models.CharField(
        _("还款日遇节假日"),
        max_length=20,
        choices=HolidayRule.choices,
        default=HolidayRule.DEFER_PENALTY,
    )

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
    compound_due = MoneyField(_("复利"), default=0)  # the 复利 part of penalty_due
    waived = models.JSONField(_("已减免"), default=dict, blank=True)
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
        ADJUSTMENT = "adjustment", _("倒起息调整")
        RECOVERY = "recovery", _("核销收回")
        RESTRUCTURE = "restructure", _("重组")
        ACCRUAL = "accrual", _("利息计提")
        NON_ACCRUAL = "non_accrual", _("转非应计")
        PROVISION = "provision", _("贷款损失准备")
        UPFRONT_FEE = "upfront_fee", _("前置手续费")

    kind = models.CharField(max_length=15, choices=Kind.choices)
    # A portfolio entry (daily accrual per product, monthly provisions) has no single loan: its
    # per-loan detail lives in the sub-ledger of that kind; ``product`` says which product it is.
    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, related_name="entries", null=True, blank=True
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
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
        subject = self.loan if self.loan_id else (self.product or "")
        return f"{self.get_kind_display()} {subject} {self.business_date}"


class JournalLine(models.Model):
    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="lines")
    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, related_name="journal_lines", null=True, blank=True
    )
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


class LoanWaiver(models.Model):
    """减免: a value-dated reduction of what is owed (罚息/复利/费用/利息), applied by replay."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="waivers")
    value_date = models.DateField(_("起息日"))
    amounts = models.JSONField(_("减免金额"), default=dict)
    reason = models.CharField(_("原因"), max_length=200)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("减免")
        verbose_name_plural = _("减免")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.loan} {self.value_date} {self.amounts}"


class LoanCharge(models.Model):
    """收费: an ad hoc fee (手续费/违约金/其他费用) charged on a loan with a value date; a
    value-dated event of the replay (due with the oldest unpaid installment due on that date,
    else the next one). Reversal (冲销) keeps the row; waiving goes through 减免 (费用)."""

    class Kind(models.TextChoices):
        HANDLING = "handling", _("手续费")
        BREACH = "breach", _("违约金")
        OTHER = "other", _("其他费用")

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="charges")
    kind = models.CharField(_("费用类型"), max_length=10, choices=Kind.choices)
    amount = MoneyField(_("金额"))
    charged_on = models.DateField(_("起息日"))
    memo = models.CharField(_("说明"), max_length=200, blank=True)
    # the period the last replay put it on (None: not applied); lets the replay tell the
    # schedule's own fee from the charges it carries
    due_period = models.PositiveSmallIntegerField(_("计入期次"), null=True, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    reversed_at = models.DateTimeField(_("冲销时间"), null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reverse_reason = models.CharField(_("冲销原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("收费")
        verbose_name_plural = _("收费")
        ordering = ["-id"]
        permissions = [("charge_fee", _("收取贷款费用"))]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="loancharge_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.loan} {self.charged_on} {self.get_kind_display()} {self.amount}"


class LoanReplay(models.Model):
    """One value-dated replay (倒起息重放) of a loan and its correcting entry, if any."""

    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="replays")
    from_date = models.DateField(_("起息日"))
    as_of = models.DateField(_("重算至"))
    reason = models.CharField(_("原因"), max_length=200)
    trigger_posting = models.ForeignKey(
        "Posting", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    entry = models.OneToOneField(
        JournalEntry, on_delete=models.SET_NULL, null=True, blank=True, related_name="replay"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("倒起息重放")
        verbose_name_plural = _("倒起息重放")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.loan} {self.from_date}→{self.as_of}"


class LoanClassHistory(models.Model):
    """五级分类 per date: written by the close of business, replay and manual classification."""

    class Reason(models.TextChoices):
        AUTO = "auto", _("日终自动")
        MANUAL = "manual", _("人工认定")
        RESTRUCTURE = "restructure", _("重组")
        REPLAY = "replay", _("倒起息重算")

    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="class_history")
    date = models.DateField(_("日期"))
    from_class = models.CharField(_("原分类"), max_length=16, choices=Loan.Classification.choices)
    to_class = models.CharField(_("新分类"), max_length=16, choices=Loan.Classification.choices)
    dpd = models.PositiveIntegerField(_("逾期天数"), default=0)
    reason = models.CharField(_("原因"), max_length=12, choices=Reason.choices, default="auto")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("五级分类历史")
        verbose_name_plural = _("五级分类历史")
        ordering = ["loan", "date", "id"]
        indexes = [models.Index(fields=["loan", "date"], name="loanclasshistory_idx")]

    def __str__(self) -> str:
        return f"{self.loan} {self.date} {self.from_class}→{self.to_class}"


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


class BookImport(models.Model):
    """One migration of an existing loan book (存量贷款迁移, ``credo book import``): the file's
    name and sha256, the as-of date of the catch-up, who ran it, the counts and the
    reconciliation (对账) as JSON. Only a written import is recorded; a rejected one writes
    nothing but its audit entry."""

    class Status(models.TextChoices):
        IMPORTED = "imported", _("已导入")

    file_name = models.CharField(_("文件名"), max_length=200)
    sha256 = models.CharField(_("文件摘要"), max_length=64, db_index=True)
    as_of = models.DateField(_("追溯至"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.IMPORTED
    )
    counts = models.JSONField(default=dict, blank=True)
    reconciliation = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("存量贷款导入")
        verbose_name_plural = _("存量贷款导入")
        ordering = ["-id"]
        permissions = [("import_book", _("导入存量贷款"))]

    def __str__(self) -> str:
        return self.file_name


class BookImportLoan(models.Model):
    """A loan brought in by a book import, with the canonical form of its rows (loan and
    repayments) so a re-import recognises it as unchanged or reports the row as a conflict."""

    book_import = models.ForeignKey(BookImport, on_delete=models.PROTECT, related_name="loans")
    loan = models.OneToOneField(Loan, on_delete=models.PROTECT, related_name="book_import_row")
    fingerprint = models.CharField(max_length=64)
    row = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("存量导入贷款")
        verbose_name_plural = _("存量导入贷款")

    def __str__(self) -> str:
        return f"{self.book_import_id} {self.loan_id}"


class Restructuring(models.Model):
    """展期 / 重组 / 借新还旧 of a loan: requested with new terms and a reason, quoted (the new
    schedule), approved (approval flow ``lending.restructure``), then executed with its journal
    entries (:mod:`credo.lending.restructure`). Status machine in :mod:`credo.lending.states`."""

    class Kind(models.TextChoices):
        EXTENSION = "extension", _("展期")
        RESTRUCTURE = "restructure", _("重组")
        REFINANCE = "refinance", _("借新还旧")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("待审批")
        APPROVED = "approved", _("已审批")
        EXECUTED = "executed", _("已执行")
        REJECTED = "rejected", _("已拒绝")
        CANCELLED = "cancelled", _("已撤销")

    loan = models.ForeignKey(
        Loan, verbose_name=_("贷款"), on_delete=models.PROTECT, related_name="restructurings"
    )
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.REQUESTED
    )
    reason = models.TextField(_("原因"))
    old_terms = models.JSONField(_("原条款"), default=dict)
    new_terms = models.JSONField(_("新条款"), default=dict)
    quote = models.JSONField(_("试算"), default=dict, blank=True)
    classification_before = models.CharField(_("重组前五级分类"), max_length=16, blank=True)
    new_loan = models.OneToOneField(
        Loan,
        verbose_name=_("新贷款"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refinanced_from",
    )
    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    executed_on = models.DateField(_("执行日期"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("贷款重组")
        verbose_name_plural = _("贷款重组")
        ordering = ["-id"]
        permissions = [
            ("request_restructure", _("申请展期/重组/借新还旧")),
            ("approve_restructure", _("审批展期/重组/借新还旧")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["loan"],
                condition=Q(status__in=["requested", "approved"]),
                name="restructuring_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.loan} {self.get_kind_display()}"

    @property
    def created_by_id(self) -> int:
        """The requester, for the approval flows' segregation of duties (``subject_creator``)."""
        return self.requested_by_id

    @property
    def customer(self) -> object:
        """The loan's customer (the approval flow writes its decisions on their timeline)."""
        return self.loan.customer


class OffBalance(models.Model):
    """表外登记 of a written-off loan (账销案存): the principal written off and the interest, fees
    and 罚息 unpaid at write-off, and what has been recovered of each (已核销贷款收回)."""

    # derived from the write-off entry (which protects the loan): never in the way of a delete
    loan = models.OneToOneField(Loan, on_delete=models.CASCADE, related_name="off_balance")
    written_off_on = models.DateField(_("核销日期"))
    principal = MoneyField(_("表外本金"), default=0)
    interest = MoneyField(_("表外利息"), default=0)
    fee = MoneyField(_("表外费用"), default=0)
    penalty = MoneyField(_("表外罚息"), default=0)
    recovered_principal = MoneyField(_("已收回本金"), default=0)
    recovered_interest = MoneyField(_("已收回利息"), default=0)
    recovered_fee = MoneyField(_("已收回费用"), default=0)
    recovered_penalty = MoneyField(_("已收回罚息"), default=0)
    entry = models.ForeignKey(
        JournalEntry, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("核销表外登记")
        verbose_name_plural = _("核销表外登记")
        constraints = [
            models.CheckConstraint(
                condition=Q(recovered_principal__lte=models.F("principal"))
                & Q(recovered_interest__lte=models.F("interest"))
                & Q(recovered_fee__lte=models.F("fee"))
                & Q(recovered_penalty__lte=models.F("penalty")),
                name="offbalance_not_over_recovered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.loan} 表外"

    def remaining(self, component: str) -> int:
        return getattr(self, component).fen - getattr(self, f"recovered_{component}").fen


class Recovery(models.Model):
    """已核销贷款收回: money received on a written-off loan (Dr 银行存款 / Cr 核销收回)."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="recoveries")
    amount = MoneyField(_("收回金额"))
    received_on = models.DateField(_("到账日期"))
    reference = models.CharField(_("流水号/备注"), max_length=80, blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    allocation = models.JSONField(_("冲减表外明细"), default=dict)
    entry = models.OneToOneField(JournalEntry, on_delete=models.PROTECT, related_name="recovery")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("核销收回")
        verbose_name_plural = _("核销收回")
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="recovery_positive")]

    def __str__(self) -> str:
        return f"{self.loan} {self.amount} {self.received_on}"


# Models defined in subpackages and registered here: accounting periods, close balances and
# voucher code maps (issue 20, lending.books); net assets and concentration limits (issue 22,
# lending.exposure); the LPR table and floating-rate changes (issue 18, lending.rates).
from credo.lending.accruals.models import AccrualBatch, BookSettings, LoanAccrual  # noqa: E402, F401
from credo.lending.books.models import (  # noqa: E402, F401
    AccountingPeriod,
    LedgerDaySeal,
    LedgerDayTotal,
    PeriodBalance,
    VoucherAccountMap,
)
from credo.lending.exposure.models import ConcentrationLimits, NetAssets  # noqa: E402, F401
from credo.lending.provisions.models import (  # noqa: E402, F401
    ProvisionLine,
    ProvisionPosting,
    ProvisionRates,
    ProvisionRun,
)
from credo.lending.rates.models import LoanRateChange, LprRate  # noqa: E402, F401
