"""Message templates: apps register defaults (installed into the DB on first use), lenders
edit the DB copy; rendering with a sandboxed engine (no loaders, no tag libraries)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.utils.translation import gettext as _

from credo.core.audit.services import audit_record
from credo.core.registry import Registry
from credo.notify.errors import (
    InvalidTemplate,
)
from credo.notify.models import (
    Kind,
    MessageTemplate,
)


# --- templates ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TemplateSpec:
    code: str
    name: str
    subject: str
    body: str
    channels: list[str]
    sample: dict[str, Any] = field(default_factory=dict)


# Registered defaults by code; the first registration wins (lenders edit the DB copy).
_TEMPLATES: Registry[TemplateSpec] = Registry("notify templates", on_duplicate="keep")
# No loaders, no libraries: lender-edited templates cannot include files or load tag libraries.
_ENGINE = Engine(dirs=[], app_dirs=False, libraries={}, autoescape=False, loaders=[])


def register_template(
    code: str,
    *,
    name: Any,
    subject: str,
    body: str,
    channels: list[str],
    sample: dict[str, Any] | None = None,
) -> None:
    """Declare an app's default template; installed into the DB on first use. Lenders edit the
    DB copy afterwards (a later registration never overwrites their edits)."""
    unknown = [c for c in channels if c not in Kind.values]
    if unknown:
        raise ValueError(f"template {code!r}: unknown channels {unknown}")
    compile_template(subject, body)  # a broken default is a programming error: fail at startup
    _TEMPLATES.register(
        code, TemplateSpec(code, str(name), subject, body, list(channels), dict(sample or {}))
    )


def registered_templates() -> dict[str, TemplateSpec]:
    return dict(_TEMPLATES.items())


def template_spec(code: str) -> TemplateSpec | None:
    return _TEMPLATES.get(code)


def compile_template(subject: str, body: str) -> None:
    try:
        _ENGINE.from_string(subject)
        _ENGINE.from_string(body)
    except TemplateSyntaxError as exc:
        raise InvalidTemplate(_("模板语法错误：%(e)s") % {"e": exc}) from exc


def render_text(text: str, context: dict[str, Any]) -> str:
    return _render_compiled(_compile(text), context)


def _compile(text: str) -> Template:
    try:
        return _ENGINE.from_string(text)
    except TemplateSyntaxError as exc:
        raise InvalidTemplate(_("模板语法错误：%(e)s") % {"e": exc}) from exc


def _render_compiled(template: Template, context: Mapping[str, Any]) -> str:
    try:
        return template.render(Context(dict(context), autoescape=False))
    except TemplateSyntaxError as exc:
        raise InvalidTemplate(_("模板语法错误：%(e)s") % {"e": exc}) from exc
    except Exception as exc:  # noqa: BLE001 — a variable lookup that raised inside the template
        raise InvalidTemplate(_("模板渲染失败：%(e)s") % {"e": exc}) from exc


def render(subject: str, body: str, context: dict[str, Any]) -> tuple[str, str]:
    return render_text(subject, context).strip(), render_text(body, context).strip()


class CompiledTemplate:
    """A template's subject and body compiled once, rendered many times (the bulk path).

    Rendering gives exactly what :func:`render` gives for the same text and context; a syntax
    error raises :class:`InvalidTemplate` on the first :meth:`render` (as :func:`render` does).
    """

    def __init__(self, subject: str, body: str) -> None:
        self._source = (subject, body)
        self._compiled: tuple[Template, Template] | None = None

    def render(self, context: Mapping[str, Any]) -> tuple[str, str]:
        if self._compiled is None:
            self._compiled = (_compile(self._source[0]), _compile(self._source[1]))
        subject, body = self._compiled
        return _render_compiled(subject, context).strip(), _render_compiled(body, context).strip()


def install_templates() -> int:
    """Install every registered template missing from the DB (also used by the UI list)."""
    existing = set(MessageTemplate.objects.values_list("code", flat=True))
    created = 0
    for spec in _TEMPLATES:
        if spec.code not in existing:
            _install(spec)
            created += 1
    return created


def _install(spec: TemplateSpec) -> MessageTemplate:
    try:
        with transaction.atomic():
            return MessageTemplate.objects.create(
                code=spec.code,
                name=spec.name,
                subject=spec.subject,
                body=spec.body,
                channels=spec.channels,
            )
    except IntegrityError:  # installed concurrently
        return MessageTemplate.objects.get(code=spec.code)


def template_get(code: str) -> MessageTemplate:
    tpl = MessageTemplate.objects.filter(code=code).first()
    if tpl is not None:
        return tpl
    spec = _TEMPLATES.get(code)
    if spec is None:
        raise InvalidTemplate(_("消息模板 %(code)s 不存在。") % {"code": code})
    return _install(spec)


def _clean_channels(channels: list[str]) -> list[str]:
    if not channels:
        raise InvalidTemplate(_("至少选择一个渠道。"))
    unknown = [c for c in channels if c not in Kind.values]
    if unknown:
        raise InvalidTemplate(_("未知渠道：%(c)s") % {"c": "、".join(unknown)})
    return [c for c in Kind.values if c in channels]


@transaction.atomic
def template_update(
    *,
    template: MessageTemplate,
    name: str,
    subject: str,
    body: str,
    channels: list[str],
    actor: Any,
) -> MessageTemplate:
    """Edit a template; a syntax error raises and nothing is saved."""
    name = (name or "").strip()
    if not name:
        raise InvalidTemplate(_("请填写模板名称。"))
    if not (body or "").strip():
        raise InvalidTemplate(_("正文不能为空。"))
    compile_template(subject, body)
    channels = _clean_channels(channels)
    locked = MessageTemplate.objects.select_for_update().get(pk=template.pk)
    before = {f: getattr(locked, f) for f in ("name", "subject", "body", "channels")}
    after = {"name": name, "subject": subject, "body": body, "channels": channels}
    if before == after:
        return locked
    for key, value in after.items():
        setattr(locked, key, value)
    locked.version += 1
    locked.is_customized = True
    locked.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    locked.save()
    audit_record(
        action="notify.template_update",
        actor=actor,
        obj=locked,
        changes={k: [before[k], v] for k, v in after.items() if before[k] != v},
        metadata={"version": locked.version},
    )
    return locked


@transaction.atomic
def template_reset(*, template: MessageTemplate, actor: Any) -> MessageTemplate:
    spec = _TEMPLATES.get(template.code)
    if spec is None:
        raise InvalidTemplate(_("该模板没有系统默认内容。"))
    return template_update(
        template=template,
        name=spec.name,
        subject=spec.subject,
        body=spec.body,
        channels=spec.channels,
        actor=actor,
    )


def template_preview(
    *, subject: str, body: str, sample: dict[str, Any] | str | None
) -> dict[str, str]:
    """Render with sample variables (a dict or JSON text); raises InvalidTemplate."""
    if isinstance(sample, str):
        try:
            sample = json.loads(sample) if sample.strip() else {}
        except ValueError as exc:
            raise InvalidTemplate(_("示例变量不是有效的 JSON。")) from exc
    if not isinstance(sample, dict | None):
        raise InvalidTemplate(_("示例变量应为 JSON 对象。"))
    compile_template(subject, body)
    rendered_subject, rendered_body = render(subject, body, sample or {})
    return {"subject": rendered_subject, "body": rendered_body}
