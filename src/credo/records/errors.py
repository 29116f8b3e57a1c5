"""Errors of custom records; ``message`` and ``errors`` are for users (中文)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class RecordsError(Exception):
    code = "records_error"
    default_message = _("操作无法完成。")

    def __init__(self, message: str | None = None, errors: dict[str, str] | None = None) -> None:
        self.message = str(message or self.default_message)
        # field key (subtable cells: key.row.column) → message
        self.errors = dict(errors or {})
        super().__init__(self.message)


class InvalidDefinition(RecordsError):
    code = "invalid_definition"
    default_message = _("表单定义有误，请按提示修改。")


class InvalidValues(RecordsError):
    code = "invalid_values"
    default_message = _("填写内容有误，请按提示修改。")


class InvalidState(RecordsError):
    code = "invalid_state"


class NotPermitted(RecordsError):
    code = "not_permitted"
    default_message = _("无权执行此操作。")
