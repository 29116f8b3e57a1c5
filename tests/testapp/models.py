"""Test-only models (installed by tests/settings.py, no migrations) for kernel features that
have no business model yet: data scope, encrypted fields, blind indexes."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from credo.core.fields import BlindIndexField, EncryptedTextField


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


class SecretRecord(models.Model):
    """An encrypted ID number and phone with their blind indexes."""

    name = models.CharField(max_length=50)
    id_number = EncryptedTextField("身份证号", mask_kind="id_number", blank=True)
    id_number_bidx = BlindIndexField(source="id_number", kind="id_number")
    phone = EncryptedTextField("手机号", mask_kind="phone", blank=True, null=True)
    phone_bidx = BlindIndexField(source="phone", kind="phone")

    def __str__(self) -> str:
        return self.name
