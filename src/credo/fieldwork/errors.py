from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class FieldworkError(Exception):
    code = "fieldwork_error"
    default_message = _("操作无法完成。")

    def __init__(self, message: str | None = None, errors: dict[str, str] | None = None) -> None:
        self.message = str(message or self.default_message)
        # field name → readable message, for the form (and the JSON the phone syncs against)
        self.errors = dict(errors or {})
        super().__init__(self.message)


class InvalidSubmission(FieldworkError):
    code = "invalid_submission"
    default_message = _("提交内容不完整，请按提示补充。")


class InvalidState(FieldworkError):
    code = "invalid_state"


class NotPermitted(FieldworkError):
    code = "not_permitted"
    default_message = _("无权执行此操作。")
