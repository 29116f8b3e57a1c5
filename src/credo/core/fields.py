"""Model fields for sensitive data.

``EncryptedTextField`` stores AES-GCM ciphertext (see ``credo.core.crypto``) and gives Python
code the clear text; it registers itself as a sensitive field (masked by default, see the
accounts app's field permissions). ``BlindIndexField`` is its searchable companion:

    id_number = EncryptedTextField(_("身份证号"), mask_kind="id_number", blank=True)
    id_number_bidx = BlindIndexField(source="id_number", kind="id_number")

    Customer.objects.filter(id_number_bidx=blind_index(raw, kind="id_number"))
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.db import models
from django.utils.translation import gettext_lazy as _

from credo.core.crypto import DecryptionError, blind_index, decrypt, encrypt
from credo.core.normalize import normalize
from credo.core.sensitive import register_sensitive_field

_ALLOWED_LOOKUPS = {"isnull"}


class EncryptedTextField(models.TextField):
    description = _("加密文本")

    def __init__(self, *args: Any, mask_kind: str = "all", **kwargs: Any) -> None:
        self.mask_kind = mask_kind
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["mask_kind"] = self.mask_kind
        return name, path, args, kwargs

    def contribute_to_class(self, cls: Any, name: str, *args: Any, **kwargs: Any) -> None:
        super().contribute_to_class(cls, name, *args, **kwargs)
        if not cls._meta.abstract and not getattr(cls._meta, "proxy", False):
            register_sensitive_field(self.key, self.verbose_name, self.mask_kind)

    @property
    def key(self) -> str:
        return f"{self.model._meta.label_lower}.{self.name}"

    @property
    def aad(self) -> str:
        return self.key

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in _ALLOWED_LOOKUPS:
            raise TypeError(
                f"{self.key} is encrypted: filter on its BlindIndexField instead of "
                f"'{lookup_name}'."
            )
        return super().get_lookup(lookup_name)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value, aad=self.aad)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value), aad=self.aad)

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        if getattr(self, "db_index", False) or self.unique:
            errors.append(
                checks.Error(
                    "EncryptedTextField cannot be indexed or unique (ciphertexts differ for "
                    "equal values); add a BlindIndexField.",
                    obj=self,
                    id="credo.E101",
                )
            )
        return errors


class BlindIndexField(models.CharField):
    """HMAC of the normalized value of ``source``; computed on save, indexed, never shown."""

    description = _("盲索引")

    def __init__(self, *args: Any, source: str = "", kind: str = "", **kwargs: Any) -> None:
        self.source = source
        self.kind = kind
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs["kind"] = self.kind
        for key, default in (("max_length", 64), ("db_index", True), ("editable", False)):
            if kwargs.get(key) == default:
                kwargs.pop(key)
        return name, path, args, kwargs

    def pre_save(self, model_instance: Any, add: bool) -> str:
        value = blind_index(getattr(model_instance, self.source) or "", kind=self.kind)
        setattr(model_instance, self.attname, value)
        return value

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        if not self.source or not self.kind:
            errors.append(checks.Error("BlindIndexField needs source= and kind=", obj=self))
        return errors


def encrypted_fields() -> list[EncryptedTextField]:
    """Every EncryptedTextField of every installed model (for ``credo keys``)."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                found.append(field)
    return found


__all__ = [
    "BlindIndexField",
    "DecryptionError",
    "EncryptedTextField",
    "encrypted_fields",
    "normalize",
]
