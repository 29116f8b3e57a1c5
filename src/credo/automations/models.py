"""Automations: trigger → condition → actions, versioned draft → published → retired, with test
cases and a run log per firing."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from credo.core import versioning


class Automation(models.Model):
    """One named automation; what it does lives in its versions."""

    name = models.CharField(_("名称"), max_length=120)
    description = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("自动化")
        verbose_name_plural = _("自动化")
        ordering = ["-id"]
        permissions = [("manage_automation", _("配置与发布自动化"))]

    def __str__(self) -> str:
        return self.name


class AutomationVersion(versioning.VersionRecord):
    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="versions")
    # {"type": "event"|"transition"|"date"|"eod"|"alert"|"cron", ...} — see triggers.py
    trigger = models.JSONField(_("触发条件"), default=dict)
    # {"kind": "none"|"expression"|"table", "expression": "...", "table": {JDM}}
    condition = models.JSONField(_("判断条件"), default=dict)
    # [{"type": "todo", ...}, ...] — see actions.py
    actions = models.JSONField(_("执行动作"), default=list)
    # the permissions the publisher held for these actions, checked at publish time
    granted = models.JSONField(_("发布时校验的权限"), default=list, blank=True)

    class Meta:
        verbose_name = _("自动化版本")
        verbose_name_plural = _("自动化版本")
        ordering = ["automation", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["automation", "number"], name="automation_version_unique"
            ),
            models.UniqueConstraint(
                fields=["automation"],
                condition=Q(status="published"),
                name="automation_one_published",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.automation.name} v{self.number}"


class AutomationTestCase(models.Model):
    """A record context (``record``, related records, ``event``) and whether it must fire."""

    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="test_cases")
    name = models.CharField(_("用例名称"), max_length=120)
    input = models.JSONField(_("输入"), default=dict)
    expected_fire = models.BooleanField(_("应触发"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("自动化测试用例")
        verbose_name_plural = _("自动化测试用例")
        ordering = ["automation", "id"]

    def __str__(self) -> str:
        return self.name


class AutomationRun(models.Model):
    """One firing of one published version for one occurrence (event, date reached, close of
    business result, schedule slot). Unique per (version, occurrence): the idempotency key."""

    class Status(models.TextChoices):
        RUNNING = "running", _("执行中")
        DONE = "done", _("已执行")
        SKIPPED = "skipped", _("条件不满足")
        FAILED = "failed", _("部分失败")
        BLOCKED = "blocked", _("循环保护拦截")

    automation = models.ForeignKey(Automation, on_delete=models.CASCADE, related_name="runs")
    version = models.ForeignKey(AutomationVersion, on_delete=models.PROTECT, related_name="runs")
    occurrence = models.CharField(_("触发事件"), max_length=120)
    trigger_type = models.CharField(_("触发类型"), max_length=20)
    object_type = models.CharField(_("对象类型"), max_length=80, blank=True)
    object_id = models.CharField(_("对象ID"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    event = models.JSONField(_("事件"), default=dict)
    inputs = models.JSONField(_("输入"), default=dict)
    condition_result = models.BooleanField(_("条件结果"), null=True)
    condition_detail = models.CharField(_("条件说明"), max_length=500, blank=True)
    outcomes = models.JSONField(_("动作结果"), default=list)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices)
    depth = models.PositiveSmallIntegerField(_("触发深度"), default=0)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("自动化运行记录")
        verbose_name_plural = _("自动化运行记录")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "occurrence"], name="automation_run_once_per_event"
            )
        ]
        indexes = [models.Index(fields=["automation", "-id"], name="automation_run_idx")]

    def __str__(self) -> str:
        return f"{self.version} ← {self.occurrence}"


class ScanState(models.Model):
    """Where a periodic scan stopped (the alert scan's last alert id, a cron automation's last
    slot)."""

    key = models.CharField(max_length=120, unique=True)
    value = models.CharField(max_length=120, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("扫描进度")
        verbose_name_plural = _("扫描进度")

    def __str__(self) -> str:
        return f"{self.key}={self.value}"
