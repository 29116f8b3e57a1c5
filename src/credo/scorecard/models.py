"""Scorecards (评分卡): trained versions, the score of each application, monthly PSI checks.

A scorecard version is trained once (from the lender's book or an imported CSV), reviewed as a
draft and published; at most one version is published at a time and it scores every submitted
application. The trained model (bins, WOE, points, coefficients, metrics) is kept as JSON in
``model`` exactly as ``engine.TrainResult.to_dict()`` wrote it, so a score can always be
recomputed from what is stored.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Scorecard(models.Model):
    class Status(models.TextChoices):
        TRAINING = "training", _("训练中")
        FAILED = "failed", _("训练失败")
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        RETIRED = "retired", _("已停用")

    class Source(models.TextChoices):
        BOOK = "book", _("本机构贷款历史")
        CSV = "csv", _("CSV 导入")
        DEMO = "demo", _("演示合成历史")

    number = models.PositiveIntegerField(_("版本号"), unique=True)
    name = models.CharField(_("名称"), max_length=80)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.TRAINING, db_index=True
    )
    source = models.CharField(_("数据来源"), max_length=8, choices=Source.choices)
    source_name = models.CharField(_("数据说明"), max_length=200, blank=True)
    # engine.TrainConfig.to_dict() plus the outcome definition of book training
    # ({"outcome_dpd": 30, "outcome_months": 12}) and the CSV target column/bad value.
    config = models.JSONField(_("训练参数"), default=dict, blank=True)
    model = models.JSONField(_("模型"), default=dict, blank=True)
    rows = models.PositiveIntegerField(_("样本数"), default=0)
    bads = models.PositiveIntegerField(_("坏样本数"), default=0)
    auc = models.FloatField(_("AUC（验证集）"), null=True, blank=True)
    ks = models.FloatField(_("KS（验证集）"), null=True, blank=True)
    gini = models.FloatField(_("Gini（验证集）"), null=True, blank=True)
    feature_count = models.PositiveSmallIntegerField(_("入模特征数"), default=0)
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    progress_note = models.CharField(_("进度说明"), max_length=200, blank=True)
    error = models.TextField(_("错误"), blank=True)
    training_seconds = models.FloatField(_("训练耗时（秒）"), null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    trained_at = models.DateTimeField(_("训练完成时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("评分卡")
        verbose_name_plural = _("评分卡")
        ordering = ["-number"]
        permissions = [
            ("train_scorecard", _("训练评分卡")),
            ("publish_scorecard", _("发布评分卡")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="published"),
                name="scorecard_one_published",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"

    @property
    def label(self) -> str:
        return f"v{self.number}"

    @property
    def metrics(self) -> dict[str, Any]:
        return dict((self.model or {}).get("metrics") or {})


class ApplicationScore(models.Model):
    """The score of one application by one scorecard version (written at submission)."""

    application = models.ForeignKey(
        "origination.Application", on_delete=models.CASCADE, related_name="scores"
    )
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="scores")
    score = models.IntegerField(_("评分"))
    grade = models.CharField(_("等级"), max_length=1)
    # [{"feature", "label", "bin", "points", "lost"}] — the features that cost the most points.
    reasons = models.JSONField(_("主要扣分原因"), default=list, blank=True)
    points = models.JSONField(_("各特征得分"), default=dict, blank=True)
    # The feature values at scoring time: the application-time snapshot later training reuses.
    inputs = models.JSONField(_("评分输入"), default=dict, blank=True)
    created_at = models.DateTimeField(_("评分时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("申请评分")
        verbose_name_plural = _("申请评分")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "scorecard"], name="appscore_once_per_version"
            )
        ]
        indexes = [models.Index(fields=["scorecard", "created_at"], name="appscore_month_idx")]

    def __str__(self) -> str:
        return f"{self.score} ({self.grade})"


class PsiCheck(models.Model):
    """Population stability of one month's application scores against the training scores."""

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="psi_checks")
    month = models.DateField(_("月份"))  # first day of the month checked
    n = models.PositiveIntegerField(_("申请数"), default=0)
    psi = models.FloatField(_("PSI"), null=True, blank=True)
    shares = models.JSONField(_("分段占比"), default=list, blank=True)
    alerted = models.BooleanField(_("已预警"), default=False)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("稳定性检查")
        verbose_name_plural = _("稳定性检查")
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "month"], name="psi_once_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} PSI {self.psi}"
