"""Cron schedules stored in the database, and the record of each slot they fired for."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from credo.core.scheduling.cron import cron_error


def validate_cron(value: str) -> None:
    error = cron_error(value)
    if error:
        raise ValidationError(error)


class Schedule(models.Model):
    name = models.CharField(_("名称"), max_length=100, unique=True)
    task_path = models.CharField(
        _("任务"), max_length=200, help_text=_("django-tasks 任务的导入路径")
    )
    cron = models.CharField(_("Cron 表达式"), max_length=100, validators=[validate_cron])
    kwargs = models.JSONField(_("参数"), default=dict, blank=True)
    queue = models.CharField(_("队列"), max_length=32, default="default")
    enabled = models.BooleanField(_("启用"), default=True)
    last_slot = models.DateTimeField(_("最近触发时间点"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("定时任务")
        verbose_name_plural = _("定时任务")
        ordering = ["name"]
        permissions = [
            ("view_tasks", _("查看任务运行")),
            ("manage_schedules", _("管理定时任务")),
        ]

    def __str__(self) -> str:
        return self.name


class ScheduleFiring(models.Model):
    """One row per (schedule, slot). The unique constraint is what makes two schedulers safe:
    only the one whose INSERT wins enqueues the task."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="firings")
    slot = models.DateTimeField(_("时间点"))
    task_result_id = models.CharField(_("任务结果 ID"), max_length=64, blank=True)
    manual = models.BooleanField(_("手动触发"), default=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("触发记录")
        verbose_name_plural = _("触发记录")
        ordering = ["-slot"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "slot"], name="scheduling_firing_once")
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id}@{self.slot.isoformat()}"
