from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LendingConfig(AppConfig):
    name = "credo.lending"
    label = "lending"
    verbose_name = _("贷款核心")

    def ready(self) -> None:
        from credo.core.ui.nav import NavItem, register_nav

        register_nav(
            NavItem(
                _("还款计划试算"), "lending:calculator", "calculator", section="lending", order=90
            )
        )
