"""Per-consumer position in the sealed audit chain."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventCursor(models.Model):
    """How far one consumer has read the event stream: every sealed audit row with
    ``seq <= cursor.seq`` has been handed to it (or skipped as not of interest)."""

    name = models.CharField(_("消费者"), max_length=80, unique=True)
    seq = models.BigIntegerField(_("已处理序号"), default=0)
    delivered = models.BigIntegerField(_("已投递事件数"), default=0)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    last_error = models.TextField(_("最近错误"), blank=True, default="")

    class Meta:
        verbose_name = _("事件游标")
        verbose_name_plural = _("事件游标")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} @ {self.seq}"
