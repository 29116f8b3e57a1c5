"""Test-only models (installed by tests/settings.py, no migrations) for kernel features that
have no business model yet: data scope, encrypted fields, blind indexes."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ScopedRecord(models.Model):
    """Shaped like every business record: an owner plus the owner's team and branch."""

    name = models.CharField(max_length=50)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.PROTECT, null=True, related_name="+"
    )
    branch = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.PROTECT, null=True, related_name="+"
    )

    def __str__(self) -> str:
        return self.name
