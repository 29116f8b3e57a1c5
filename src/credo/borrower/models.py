"""借款人自助服务 (H5): one-time login codes, borrower sessions (separate from staff sessions),
privacy-notice acceptances and the requests a borrower files for staff to review.

Nothing here stores a login code or a session token in clear: both are kept as keyed hashes
(HMAC-SHA256 with a key derived from ``SECRET_KEY``), so a database reader cannot log in.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credo.core.money import MoneyField


class OtpChallenge(models.Model):
    """One SMS login code sent to one mobile number."""

    phone_bidx = models.CharField(max_length=64, db_index=True)  # the customers' blind index
    code_hash = models.CharField(max_length=100)  # "<salt>$<hmac>"
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)
    # Set when a newer code replaced this one, or too many wrong codes were entered.
    voided_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    message_id = models.BigIntegerField(null=True, blank=True)  # notify outbox row

    class Meta:
        verbose_name = _("登录验证码")
        verbose_name_plural = _("登录验证码")
        ordering = ["-id"]
        indexes = [models.Index(fields=["phone_bidx", "-id"], name="borrower_otp_phone_idx")]

    def __str__(self) -> str:
        return f"OTP#{self.pk}"


class BorrowerSession(models.Model):
    """A signed-in borrower (browser cookie ``CREDO_BORROWER_COOKIE`` holds the token; only
    its hash is stored). Never a staff session: django.contrib.auth is not involved."""

    token_hash = models.CharField(max_length=64, unique=True)
    phone_bidx = models.CharField(max_length=64, db_index=True)
    phone_masked = models.CharField(max_length=20, blank=True)
    # Every active customer whose registered mobile is this number (a person may be the
    # registered contact of an individual and of their company).
    customer_ids = models.JSONField(default=list)
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("借款人会话")
        verbose_name_plural = _("借款人会话")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.phone_masked} #{self.pk}"


class PrivacyAcceptance(models.Model):
    """The borrower read and accepted version ``notice_version`` of the privacy notice
    (个人信息处理规则, 个人信息保护法 第十七条) in the self-service pages."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="borrower_privacy"
    )
    notice_version = models.CharField(_("告知书版本"), max_length=20)
    accepted_at = models.DateTimeField(_("同意时间"))
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("隐私告知同意")
        verbose_name_plural = _("隐私告知同意")
        ordering = ["-accepted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "notice_version"], name="borrower_privacy_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.notice_version}"


class BorrowerRequest(models.Model):
    """A request the borrower filed in the self-service pages, reviewed by staff."""

    class Kind(models.TextChoices):
        PREPAY = "prepay", _("提前还款申请")
        RENEWAL = "renewal", _("续贷申请")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待处理")
        ACCEPTED = "accepted", _("已受理")
        REJECTED = "rejected", _("已拒绝")

    number = models.CharField(_("编号"), max_length=24, unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("客户"),
        on_delete=models.PROTECT,
        related_name="borrower_requests",
    )
    loan = models.ForeignKey(
        "lending.Loan",
        verbose_name=_("贷款"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="borrower_requests",
    )
    # prepay: the amount the borrower wants to pay (None = settle in full); renewal: the amount
    # asked for.
    amount = MoneyField(_("金额"), null=True, blank=True)  # type: ignore[misc]
    months = models.PositiveSmallIntegerField(_("期限（月）"), null=True, blank=True)
    preferred_date = models.DateField(_("期望日期"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    # The read-only prepayment quote shown to the borrower when they asked (amounts in yuan).
    quote = models.JSONField(_("试算结果"), default=dict, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.SUBMITTED, db_index=True
    )
    decision_note = models.CharField(_("处理意见"), max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("借款人申请")
        verbose_name_plural = _("借款人申请")
        ordering = ["-id"]
        permissions = [("review_borrowerrequest", _("处理借款人自助申请"))]
        constraints = [
            # One open request per loan (prepay) and per customer (renewal): a double tap or a
            # second tab never files two.
            models.UniqueConstraint(
                fields=["loan", "kind"],
                condition=Q(status="submitted", kind="prepay"),
                name="borrower_one_open_prepay",
            ),
            models.UniqueConstraint(
                fields=["customer", "kind"],
                condition=Q(status="submitted", kind="renewal"),
                name="borrower_one_open_renewal",
            ),
            models.CheckConstraint(
                condition=Q(kind="renewal") | Q(loan__isnull=False),
                name="borrower_prepay_has_loan",
            ),
        ]

    def __str__(self) -> str:
        return self.number
