from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "credo.api"
    label = "api"
    verbose_name = _("开放接口")

    def ready(self) -> None:
        from credo.core.scheduling.registry import register_schedule
        from credo.core.ui.nav import NavItem, register_nav

        register_nav(NavItem(_("API 令牌"), "apiui:token_list", "key", section="system", order=60))
        register_nav(NavItem(_("API 文档"), "apiui:docs", "api", section="system", order=61))
        register_schedule(
            "api.purge_idempotency_keys",
            "credo.api.tasks.purge_idempotency_keys",
            "10 3 * * *",
        )
