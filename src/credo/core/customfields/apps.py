from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomFieldsConfig(AppConfig):
    name = "credo.core.customfields"
    label = "customfields"
    verbose_name = _("自定义字段")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from credo.core.customfields import nav, permissions  # noqa: F401
        from credo.core.customfields.engine import forget_active_fields
        from credo.core.customfields.models import CustomField

        for signal in (post_save, post_delete):
            signal.connect(forget_active_fields, sender=CustomField, dispatch_uid="cf-memo")
        for through in (CustomField.view_roles.through, CustomField.edit_roles.through):
            m2m_changed.connect(
                forget_active_fields, sender=through, dispatch_uid=f"cf-memo-{through.__name__}"
            )
