from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LendingConfig(AppConfig):
    name = "credo.lending"
    label = "lending"
    verbose_name = _("贷款核心")

    def ready(self) -> None:
        from credo.core.ui.nav import NavItem, register_nav
        from credo.customers.selectors import register_business_provider, register_figure_provider
        from credo.lending.figures import customer_figures, customer_loans

        register_figure_provider(customer_figures)
        register_business_provider(customer_loans)

        register_nav(
            NavItem(
                _("还款计划试算"), "lending:calculator", "calculator", section="lending", order=90
            )
        )
