"""Global search: apps register providers; the shell's search page queries them all.

Each provider is responsible for its own data scope: it receives the user and must return
only what that user may see. Register in ``AppConfig.ready()``::

    from credo.core.ui.search import SearchHit, register_search_provider

    register_search_provider("customers", _("客户"), search_customers)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from credo.core.registry import Registry

MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 100
DEFAULT_LIMIT = 10

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SearchHit:
    title: str
    subtitle: str = ""
    url: str = ""


SearchFunc = Callable[[Any, str, int], list[SearchHit]]


@dataclass(frozen=True)
class SearchProvider:
    key: str
    label: Any
    func: SearchFunc
    permission: str | None = None
    order: int = 100


search_providers_registry: Registry[SearchProvider] = Registry(
    "search providers", on_duplicate="replace"
)


def register_search_provider(
    key: str, label: Any, func: SearchFunc, *, permission: str | None = None, order: int = 100
) -> None:
    """Idempotent per key: a second registration with the same key replaces the first."""
    search_providers_registry.register(key, SearchProvider(key, label, func, permission, order))


def unregister_search_provider(key: str) -> None:
    search_providers_registry.unregister(key)


def search_providers() -> list[SearchProvider]:
    return sorted(search_providers_registry, key=lambda p: (p.order, p.key))


def run_search(user: Any, q: str, *, limit: int = DEFAULT_LIMIT) -> list[dict[str, Any]]:
    """``[{"key", "label", "hits": [SearchHit]}]`` for providers that found something."""
    groups: list[dict[str, Any]] = []
    for provider in search_providers():
        if provider.permission and not user.has_perm(provider.permission):
            continue
        try:
            hits = list(provider.func(user, q, limit))[:limit]
        except Exception:  # one broken module must not take the whole search page down
            logger.exception("search provider %s failed", provider.key)
            continue
        if hits:
            groups.append({"key": provider.key, "label": provider.label, "hits": hits})
    return groups
