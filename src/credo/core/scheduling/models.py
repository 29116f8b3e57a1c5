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


class WorkerLease(models.Model):
    """One row per ``credo worker`` process: its heartbeat is the lease on every task (and EOD
    chunk) it has claimed. A claim whose worker stopped renewing is reaped
    (:mod:`credo.core.scheduling.reaper`)."""

    worker_id = models.CharField(_("工作进程"), max_length=64, primary_key=True)
    hostname = models.CharField(_("主机"), max_length=255, blank=True)
    pid = models.PositiveIntegerField(_("进程号"), null=True, blank=True)
    queues = models.CharField(_("队列"), max_length=255, blank=True)
    started_at = models.DateTimeField(_("启动时间"), auto_now_add=True)
    heartbeat_at = models.DateTimeField(_("最近心跳"), db_index=True)
    stopped_at = models.DateTimeField(_("退出时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("工作进程租约")
        verbose_name_plural = _("工作进程租约")
        ordering = ["-heartbeat_at"]

    def __str__(self) -> str:
        return self.worker_id


class TaskReap(models.Model):
    """A claimed task whose worker's lease expired, taken back by the reaper: re-queued
    (``retried``) or, once its claims reached the cap, failed (``failed``)."""

    class Outcome(models.TextChoices):
        RETRIED = "retried", _("已回收重试")
        FAILED = "failed", _("回收后失败")

    task_result = models.ForeignKey(
        "django_tasks_database.DBTaskResult", on_delete=models.CASCADE, related_name="credo_reaps"
    )
    task_path = models.TextField(_("任务"))
    worker_id = models.CharField(_("失联的工作进程"), max_length=64, blank=True)
    claimed_at = models.DateTimeField(_("领取时间"), null=True)
    heartbeat_at = models.DateTimeField(_("最后心跳"), null=True)
    attempt = models.PositiveIntegerField(_("第几次领取"))
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices)
    reason = models.TextField(_("原因"))
    reaped_by = models.CharField(_("回收者"), max_length=64)
    reaped_at = models.DateTimeField(_("回收时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("任务回收记录")
        verbose_name_plural = _("任务回收记录")
        ordering = ["-reaped_at", "-id"]

    def __str__(self) -> str:
        return f"{self.task_path} #{self.attempt} {self.outcome}"
