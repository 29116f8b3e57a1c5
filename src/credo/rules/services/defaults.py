"""Shipped default decision models, installed as published version 1 on first use."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core.audit.services import audit_record
from credo.rules import engine
from credo.rules.errors import NotPublished
from credo.rules.models import DecisionModel, DecisionTestCase, DecisionVersion
from credo.rules.registry import get_spec, registered


def ensure_model(key: str) -> DecisionModel:
    """The model row for a registered key; version 1 = the shipped default, published, with the
    shipped test cases (only when the model has no versions yet)."""
    spec = get_spec(key)
    model = DecisionModel.objects.filter(key=key).first()
    if model is not None and (spec is None or model.versions.exists()):
        return model
    if spec is None:
        raise NotPublished(_("决策模型 %(k)s 不存在。") % {"k": key})
    try:
        with transaction.atomic():
            model, _created = DecisionModel.objects.get_or_create(
                key=key, defaults={"name": str(spec.name), "description": str(spec.description)}
            )
            if model.versions.exists():
                return model
            content = spec.default_content()
            engine.compile_content(content)
            DecisionVersion.objects.create(
                model=model,
                number=1,
                status=DecisionVersion.Status.PUBLISHED,
                content=content,
                note=_("系统默认版本"),
                published_at=timezone.now(),
            )
            for case in spec.tests:
                DecisionTestCase.objects.create(
                    model=model,
                    name=case["name"],
                    input=case["input"],
                    expected=case["expected"],
                )
            audit_record(action="rules.default_installed", obj=model, metadata={"key": key})
    except IntegrityError:  # installed concurrently by another process
        model = DecisionModel.objects.get(key=key)
    return model


def ensure_defaults() -> list[DecisionModel]:
    return [ensure_model(spec.key) for spec in registered()]
