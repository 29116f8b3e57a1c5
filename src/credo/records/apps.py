from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "credo.records"
    label = "records"
    verbose_name = _("自定义表单")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from credo.core.events.catalogue import register_event
        from credo.records import listeners, nav, permissions  # noqa: F401

        group = _("自定义表单")
        register_event(
            "records.create",
            _("新建自定义表单记录"),
            "records.customrecord",
            group=group,
            description=_("填写了一条自定义表单记录（尽调报告、贷后检查表等）。"),
            fields=("record_type", "version", "parent"),
        )
        register_event(
            "records.update",
            _("修改自定义表单记录"),
            "records.customrecord",
            group=group,
            description=_("修改了自定义表单记录的内容；变更含每个字段的新旧值。"),
            fields=("record_type", "version"),
        )
