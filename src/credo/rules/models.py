"""Decision models (ZEN JDM JSON) with versions, test cases and stored evaluations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credo.core import versioning


def _version_display(name: str, number: int) -> str:
    return str(_("%(name)s 第%(n)s版")) % {"name": name, "n": number}


class DecisionModel(models.Model):
    """One configurable decision (e.g. ``leads.assignment``), declared by an app's registry."""

    key = models.CharField(_("标识"), max_length=80, unique=True)
    name = models.CharField(_("名称"), max_length=120)
    description = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("决策模型")
        verbose_name_plural = _("决策模型")
        ordering = ["key"]
        permissions = [
            ("edit_rules", _("编辑决策模型草稿")),
            ("publish_rules", _("发布决策模型")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"


class DecisionVersion(versioning.VersionRecord):
    model = models.ForeignKey(DecisionModel, on_delete=models.CASCADE, related_name="versions")
    content = models.JSONField(_("JDM 内容"))

    class Meta:
        verbose_name = _("决策模型版本")
        verbose_name_plural = _("决策模型版本")
        ordering = ["model", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["model", "number"], name="decision_version_unique"),
            models.UniqueConstraint(
                fields=["model"],
                condition=Q(status="published"),
                name="decision_one_published",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model.key} v{self.number}"

    @property
    def display_name(self) -> str:
        """For business users: the model's name and version ("贷款准入 第1版"), never its key."""
        return _version_display(self.model.name, self.number)


class DecisionTestCase(models.Model):
    """Input → expected output (a subset of the result) that a version must meet to publish."""

    model = models.ForeignKey(DecisionModel, on_delete=models.CASCADE, related_name="test_cases")
    name = models.CharField(_("用例名称"), max_length=120)
    input = models.JSONField(_("输入"), default=dict)
    expected = models.JSONField(_("期望输出"), default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("测试用例")
        verbose_name_plural = _("测试用例")
        ordering = ["model", "id"]

    def __str__(self) -> str:
        return self.name


class Evaluation(models.Model):
    """One stored decision: which model version decided what for which subject, and why."""

    model_key = models.CharField(max_length=80, db_index=True)
    version = models.ForeignKey(DecisionVersion, on_delete=models.PROTECT, related_name="+")
    subject_type = models.CharField(max_length=60, blank=True)
    subject_id = models.CharField(max_length=40, blank=True)
    input = models.JSONField(default=dict)
    output = models.JSONField(default=dict)
    reasons = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("决策记录")
        verbose_name_plural = _("决策记录")
        indexes = [
            models.Index(
                fields=["subject_type", "subject_id", "-id"], name="evaluation_subject_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_key} → {self.subject_type}:{self.subject_id}"
