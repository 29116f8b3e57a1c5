"""What apps contribute to backup and restore: the stored files their rows reference
(:func:`register_file_references`) and the integrity checks run after a restore
(:func:`register_integrity_check`) — core never imports them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models

from credo.core.registry import Registry, callable_key

# A file reference: (root, path relative to the root, what references it). Root "documents" is
# CREDO_DOCUMENT_ROOT, "media" is MEDIA_ROOT.
FileRef = tuple[str, str, str]
FileReferences = Callable[[], Iterable[FileRef]]

_file_references: Registry[FileReferences] = Registry(
    "stored file references", on_duplicate="replace"
)


def register_file_references(fn: FileReferences, *, key: str | None = None) -> FileReferences:
    """``fn()`` yields ``(root, relative path, label)`` for every stored file a row references;
    a restore reports the rows whose file is missing. Django ``FileField``s are found
    without registration."""
    _file_references.register(key or callable_key(fn), fn)
    return fn


@dataclass
class IntegrityResult:
    ok: bool
    message: str
    details: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class IntegrityCheck:
    key: str
    label: str
    run: Callable[[], IntegrityResult]


_integrity_checks: Registry[IntegrityCheck] = Registry(
    "restore integrity checks", on_duplicate="replace"
)


def register_integrity_check(
    key: str, label: str, run: Callable[[], IntegrityResult]
) -> IntegrityCheck:
    """A check run after every restore (after the audit chain), e.g. the lending ledger."""
    return _integrity_checks.register(key, IntegrityCheck(key, label, run))


def integrity_checks() -> list[IntegrityCheck]:
    """The registered checks, in registration order (the audit chain first)."""
    return list(_integrity_checks)


def _filefield_references() -> Iterator[FileRef]:
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if not isinstance(f, models.FileField):
                continue
            qs = model._default_manager.exclude(**{f.attname: ""}).exclude(
                **{f"{f.attname}__isnull": True}
            )
            for pk, name in qs.values_list("pk", f.attname).order_by("pk").iterator():
                yield ("media", str(name), f"{model._meta.label_lower}.{f.name} pk={pk}")


def iter_file_references() -> Iterator[FileRef]:
    yield from _filefield_references()
    for fn in _file_references:
        yield from fn()
