from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TodoConfig(AppConfig):
    name = "credo.core.todo"
    label = "todo"
    verbose_name = _("我的待办")

    def ready(self) -> None:
        from credo.core.ui.nav import NavItem, register_nav

        register_nav(NavItem(_("我的待办"), "todo:list", "checklist", section="work", order=10))
