from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class MonitoringError(Exception):
    code = "monitoring_error"
    default_message = _("操作无法完成。")

    def __init__(self, message: str | None = None) -> None:
        self.message = str(message or self.default_message)
        super().__init__(self.message)


class InvalidAction(MonitoringError):
    code = "invalid_action"


class InvalidState(MonitoringError):
    code = "invalid_state"
