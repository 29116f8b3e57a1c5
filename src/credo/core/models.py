"""Core tables shared by every app: the business-number counters (:mod:`credo.core.sequence`)."""

from __future__ import annotations

from django.db import models


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
