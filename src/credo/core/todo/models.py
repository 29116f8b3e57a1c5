from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credo.core import clock


class Todo(models.Model):
    """One task on a user's list. Apps create them through ``services.todo_create``; a
    ``dedupe_key`` (e.g. ``"loan:42:repayment-due"``) lets an app upsert its own task."""

    class Status(models.TextChoices):
        OPEN = "open", _("待办")
        DONE = "done", _("已完成")
        CANCELLED = "cancelled", _("已取消")

    class Priority(models.IntegerChoices):
        LOW = 10, _("低")
        NORMAL = 20, _("普通")
        HIGH = 30, _("高")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责人"),
        on_delete=models.CASCADE,
        related_name="todos",
    )
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    due_date = models.DateField(_("截止日期"), null=True, blank=True)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    source = models.CharField(_("来源"), max_length=50, blank=True)
    dedupe_key = models.CharField(_("去重键"), max_length=200, null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status, default=Status.OPEN)
    priority = models.PositiveSmallIntegerField(
        _("优先级"), choices=Priority, default=Priority.NORMAL
    )
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("待办事项")
        verbose_name_plural = _("待办事项")
        ordering = ["due_date", "-priority", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "dedupe_key"],
                condition=Q(dedupe_key__isnull=False),
                name="todo_unique_user_dedupe_key",
            )
        ]
        indexes = [models.Index(fields=["user", "status", "due_date"], name="todo_user_status_due")]

    def __str__(self) -> str:
        return self.title

    @property
    def source_label(self) -> str:
        """What users see for ``source`` (a label, never the app key)."""
        from credo.core.todo.sources import source_label

        return source_label(self.source)

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_date is not None and self.due_date < clock.today()

    @property
    def is_due_today(self) -> bool:
        return self.is_open and self.due_date == clock.today()
