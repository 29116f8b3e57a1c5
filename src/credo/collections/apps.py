from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CollectionsConfig(AppConfig):
    name = "credo.collections"
    label = "collections"
    verbose_name = _("催收")

    def ready(self) -> None:
        from credo.accounts.roles import register_role_permissions
        from credo.collections.services import register_templates
        from credo.collections.strategy import spec
        from credo.collections.tasks import on_eod_done
        from credo.core.scheduling.registry import register_schedule
        from credo.core.ui.nav import NavItem, register_nav
        from credo.lending.eod import register_eod_done_listener
        from credo.rules.registry import register_decision

        register_decision(spec())
        register_templates()
        register_eod_done_listener(on_eod_done)
        register_schedule("collections.reminders", "credo.collections.tasks.reminders", "0 9 * * *")
        register_nav(
            NavItem(
                _("催收工作台"),
                "collections:workbench",
                "phone-call",
                permission="collections.view_collectioncase",
                section="risk",
                order=30,
            )
        )
        register_nav(
            NavItem(
                _("法务队列"),
                "collections:legal",
                "gavel",
                permission="collections.manage_cases",
                section="risk",
                order=31,
            )
        )
        register_nav(
            NavItem(
                _("催收合规日志"),
                "collections:compliance",
                "shield-check",
                permission="collections.view_compliance",
                section="risk",
                order=32,
            )
        )
        base = ["collections.view_collectioncase", "collections.contact_case"]
        register_role_permissions("collector_junior", base)
        register_role_permissions("collector_senior", [*base, "collections.manage_cases"])
        for code in ("risk_manager", "management"):
            register_role_permissions(
                code,
                [
                    *base,
                    "collections.manage_cases",
                    "collections.view_compliance",
                    "collections.change_collectionscript",
                ],
            )
