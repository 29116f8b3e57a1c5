"""The draft → published → retired pattern, written once.

Product terms (ProductVersion), approval flows (FlowVersion) and decision tables
(DecisionVersion) are edited as drafts and published; publishing retires the version that was
published before, in the same transaction, and a partial unique index keeps "one published per
parent" true in the database. Each version model registers its status machine with
:func:`version_machine` and publishes through :func:`publish`, which locks the parent's
published row(s), checks the draft, moves both through :func:`credo.core.fsm.transition` and
returns what it retired so the caller can audit it with its own action name.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credo.core import fsm

DRAFT, PUBLISHED, RETIRED = "draft", "published", "retired"


class VersionRecord(models.Model):
    """The columns every versioned definition shares (number, status, who and when); the
    concrete model adds its parent foreign key, its content and its Meta constraints."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        RETIRED = "retired", _("已停用")

    number = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    note = models.CharField(_("变更说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


def version_machine(
    model: type[models.Model], *, choices: Any = None, shipped_published: bool = False
) -> fsm.Machine:
    """draft → published → retired (a draft may also be discarded where the model allows it:
    that is a delete, not a state)."""
    return fsm.machine(
        model,
        {DRAFT: {PUBLISHED}, PUBLISHED: {RETIRED}, RETIRED: set()},
        # Shipped defaults (approval flow v1, decision table v1) are created published.
        initial={DRAFT, PUBLISHED} if shipped_published else {DRAFT},
        choices=choices,
        note="draft → published → retired; publishing retires the previous version",
    )


def publish(
    version: models.Model,
    *,
    parent_field: str,
    actor: Any = None,
    published_by_field: str | None = None,
    published_at_field: str | None = "published_at",
    extra_update_fields: tuple[str, ...] = (),
) -> list[Any]:
    """Publish locked draft ``version`` and retire the published sibling(s) with the same
    ``parent_field``; returns the retired versions. Raises :class:`fsm.TransitionRefused` if
    ``version`` is not a draft. Call inside a transaction with ``version`` locked."""
    model = type(version)
    m = fsm.machine_for(model)
    m.check(str(version.status), PUBLISHED)  # type: ignore[attr-defined]
    parent_id = getattr(version, f"{parent_field}_id")
    previous = list(
        model._default_manager.select_for_update()
        .filter(**{f"{parent_field}_id": parent_id, "status": PUBLISHED})
        .exclude(pk=version.pk)
    )
    has_updated_at = any(f.name == "updated_at" for f in model._meta.concrete_fields)
    for old in previous:
        fsm.transition(old, RETIRED, update_fields=("updated_at",) if has_updated_at else ())
    update: list[str] = list(extra_update_fields)
    if published_by_field:
        setattr(version, published_by_field, actor)
        update.append(published_by_field)
    if published_at_field:
        setattr(version, published_at_field, timezone.now())
        update.append(published_at_field)
    if has_updated_at:
        update.append("updated_at")
    fsm.transition(version, PUBLISHED, update_fields=update)
    return previous
