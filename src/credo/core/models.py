"""Core tables shared by every app: the business-number counters (:mod:`credo.core.sequence`)
and the holiday calendar (:mod:`credo.core.holidays`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BusinessSequence(models.Model):
    """One counter per (name, period): loan numbers per day, application numbers per day, …"""

    name = models.CharField(max_length=40)
    period = models.CharField(max_length=20, default="")
    last = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "period"], name="businesssequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name}/{self.period} #{self.last}"


class Holiday(models.Model):
    """One day of the lender's working calendar that differs from the plain week: a statutory
    holiday or 调休 rest day (放假), or a weekend day worked instead (调休上班). Weekdays not
    listed are working days, Saturdays and Sundays not listed are rest days."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("放假")
        WORKDAY = "workday", _("调休上班")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=40, blank=True, default="")
    year = models.PositiveSmallIntegerField(_("年度"), db_index=True)
    source = models.CharField(_("来源"), max_length=120, blank=True, default="")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("节假日")
        verbose_name_plural = _("节假日")
        ordering = ["date"]
        permissions = [("manage_holidays", _("管理节假日"))]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()} {self.name}".strip()
