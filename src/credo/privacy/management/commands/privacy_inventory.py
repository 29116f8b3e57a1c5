"""``credo privacy_inventory``: the personal-information inventory as Markdown."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print the personal-information inventory (个人信息清单) as Markdown."

    def handle(self, *args: Any, **options: Any) -> None:
        from credo.privacy.inventory import inventory, markdown

        self.stdout.write(markdown(inventory()))
