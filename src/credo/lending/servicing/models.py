"""The two request models of servicing (app label ``lending``; imported by lending.models)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credo.core.money import MoneyField


class RequestStatus(models.TextChoices):
    REQUESTED = "requested", _("待审批")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("已拒绝")
    CANCELLED = "cancelled", _("已撤回")


class WaiverRequest(models.Model):
    """罚息减免申请: amounts per component (fen) the borrower no longer owes from ``value_date``."""

    Status = RequestStatus

    loan = models.ForeignKey(
        "lending.Loan", verbose_name=_("贷款"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=RequestStatus.choices,
        default=RequestStatus.REQUESTED,
        db_index=True,
    )
    value_date = models.DateField(_("减免生效日"))
    # {"penalty": fen, "fee": fen, …}: only components with an amount > 0
    amounts = models.JSONField(_("减免金额"), default=dict)
    total = MoneyField(_("减免合计"))
    # what was owed per component at the value date when the request was made (for the approver)
    owed = models.JSONField(_("申请时应还"), default=dict, blank=True)
    reason = models.TextField(_("减免原因"))
    attachment = models.FileField(
        _("附件"), upload_to="servicing/waivers/%Y/%m/", blank=True, max_length=200
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=200, blank=True)
    # the applied waiver event (LoanWaiver of the replay service), its id
    waiver_ref = models.BigIntegerField(null=True, blank=True)

    class Meta:
        app_label = "lending"
        verbose_name = _("罚息减免申请")
        verbose_name_plural = _("罚息减免申请")
        ordering = ["-id"]
        permissions = [
            ("request_waiver", _("申请罚息减免")),
            ("approve_waiver", _("审批罚息减免")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(total__gt=0), name="waiverrequest_positive"),
        ]
        indexes = [models.Index(fields=["loan", "status"], name="waiverrequest_loan_idx")]

    def __str__(self) -> str:
        return f"减免#{self.pk} {self.loan_id}"


class ClassificationRequest(models.Model):
    """人工分类调整申请: a five-level class for a loan, until a date (the downgrade floor)."""

    Status = RequestStatus

    loan = models.ForeignKey(
        "lending.Loan", verbose_name=_("贷款"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"),
        max_length=10,
        choices=RequestStatus.choices,
        default=RequestStatus.REQUESTED,
        db_index=True,
    )
    from_class = models.CharField(_("原分类"), max_length=16)
    to_class = models.CharField(_("调整为"), max_length=16)
    until = models.DateField(_("有效期至"), null=True, blank=True)
    dpd = models.PositiveIntegerField(_("申请时逾期天数"), default=0)
    reason = models.TextField(_("调整原因"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=200, blank=True)

    class Meta:
        app_label = "lending"
        verbose_name = _("人工分类调整申请")
        verbose_name_plural = _("人工分类调整申请")
        ordering = ["-id"]
        permissions = [
            ("request_classification", _("申请人工分类调整")),
            ("approve_classification", _("审批人工分类调整")),
        ]
        indexes = [models.Index(fields=["loan", "status"], name="classrequest_loan_idx")]

    def __str__(self) -> str:
        return f"分类调整#{self.pk} {self.loan_id}"

    def get_from_class_display(self) -> str:
        return class_label(self.from_class)

    def get_to_class_display(self) -> str:
        return class_label(self.to_class)


def class_label(value: str) -> str:
    from credo.lending.models import Loan

    try:
        return str(Loan.Classification(value).label)
    except ValueError:
        return value or "—"
