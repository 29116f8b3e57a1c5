from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BorrowerConfig(AppConfig):
    name = "credo.borrower"
    label = "borrower"
    verbose_name = _("借款人自助服务")

    def ready(self) -> None:
        # Declarative wiring: each module registers its contributions when imported.
        from credo.borrower import nav, notifications, permissions, states  # noqa: F401
