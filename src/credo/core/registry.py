"""One small typed registry for every "apps contribute X at start-up" hook.

Credo's apps stay decoupled by contributing to registries owned by a lower layer (navigation
items, schedules, todo sources, search providers, approval panels, state machines, …) from
their ``AppConfig.ready()`` or a module it imports. Every such registry is a :class:`Registry`:
ordered by registration, keyed, and strict about duplicate keys unless told otherwise, so a
newcomer reads them all the same way.

    nav_items: Registry[NavItem] = Registry("navigation items")
    nav_items.register("customers.list", NavItem(...))
    for item in nav_items: ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class DuplicateRegistration(KeyError):
    pass


def callable_key(fn: Callable[..., object]) -> str:
    """A registry key for a listener registered without a name: its dotted path, or — for a
    bound method or closure with no stable path — its identity."""
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None) or type(fn).__name__
    owner = getattr(fn, "__self__", None)
    if owner is not None:  # a bound method: a new object on every access, its owner is not
        return f"{qualname}@{id(owner):x}"
    if module and "<locals>" not in qualname and "<lambda>" not in qualname:
        return f"{module}.{qualname}"
    return f"{qualname}@{id(fn):x}"


class Registry(Generic[T]):
    """Ordered, keyed registrations of ``T``.

    ``on_duplicate`` decides what registering an existing key does: ``"error"`` (default,
    a programming mistake), ``"keep"`` (the first registration wins — used where an app's
    ``ready()`` may run twice in tests) or ``"replace"``.
    """

    def __init__(self, name: str, *, on_duplicate: str = "error") -> None:
        if on_duplicate not in ("error", "keep", "replace"):
            raise ValueError(f"on_duplicate must be error, keep or replace, not {on_duplicate!r}")
        self.name = name
        self.on_duplicate = on_duplicate
        self._items: dict[str, T] = {}

    def register(self, key: str, item: T) -> T:
        if key in self._items:
            if self.on_duplicate == "keep":
                return self._items[key]
            if self.on_duplicate == "error":
                raise DuplicateRegistration(f"{self.name}: {key!r} is already registered")
        self._items[key] = item
        return item

    def decorator(self, key: str) -> Callable[[T], T]:
        """``@registry.decorator("key")`` registers the decorated function or class."""

        def wrap(item: T) -> T:
            self.register(key, item)
            return item

        return wrap

    def unregister(self, key: str) -> None:
        self._items.pop(key, None)

    def get(self, key: str, default: T | None = None) -> T | None:
        return self._items.get(key, default)

    def __getitem__(self, key: str) -> T:
        try:
            return self._items[key]
        except KeyError:
            raise KeyError(f"{self.name}: nothing registered as {key!r}") from None

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> list[str]:
        return list(self._items)

    def values(self) -> list[T]:
        return list(self._items.values())

    def items(self) -> list[tuple[str, T]]:
        return list(self._items.items())

    def clear(self) -> None:
        """For tests that register throw-away entries."""
        self._items.clear()

    def __repr__(self) -> str:
        return f"<Registry {self.name}: {len(self._items)} registered>"
