from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TodoConfig(AppConfig):
    name = "credo.core.todo"
    label = "todo"
    verbose_name = _("我的待办")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.core.todo import nav, states  # noqa: F401
