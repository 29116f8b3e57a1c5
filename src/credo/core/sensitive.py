"""Registry of sensitive fields (ID numbers, phones, bank accounts, ...).

Encrypted fields register themselves when their model class is built; plain fields that are
still sensitive can be registered by their app. Field-level permissions
(in the accounts app) and masking read this list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from credo.core.registry import Registry


@dataclass(frozen=True)
class SensitiveField:
    key: str  # "app_label.model_name.field_name"
    label: Any  # verbose name (lazy translation)
    mask_kind: str  # a kind known to credo.core.masking.mask(): "id_number", "phone", ...


#: "app_label.model_name.field_name" → field; the first registration of a key wins.
sensitive_registry: Registry[SensitiveField] = Registry("sensitive fields", on_duplicate="keep")


def field_key(model: Any, field_name: str) -> str:
    return f"{model._meta.label_lower}.{field_name}"


def register_sensitive_field(key: str, label: Any, mask_kind: str) -> SensitiveField:
    entry = SensitiveField(key=key, label=label, mask_kind=mask_kind)
    return sensitive_registry.register(key, entry)


def sensitive_fields() -> list[SensitiveField]:
    return sorted(sensitive_registry, key=lambda f: f.key)


def get_sensitive_field(key: str) -> SensitiveField | None:
    return sensitive_registry.get(key)
