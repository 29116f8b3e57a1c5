"""credo.core.registry.Registry: ordered, keyed, strict about duplicates unless told otherwise."""

from __future__ import annotations

import pytest

from credo.core.registry import DuplicateRegistration, Registry


def test_keeps_registration_order_and_looks_up_by_key():
    reg: Registry[int] = Registry("numbers")
    assert reg.register("b", 2) == 2
    reg.register("a", 1)
    reg.register("c", 3)
    assert list(reg) == [2, 1, 3]
    assert reg.keys() == ["b", "a", "c"]
    assert reg.values() == [2, 1, 3]
    assert reg.items() == [("b", 2), ("a", 1), ("c", 3)]
    assert len(reg) == 3
    assert "a" in reg and "z" not in reg
    assert reg["a"] == 1
    assert reg.get("z") is None and reg.get("z", 9) == 9
    assert "numbers" in repr(reg) and "3" in repr(reg)


def test_missing_key_names_the_registry():
    reg: Registry[int] = Registry("numbers")
    with pytest.raises(KeyError, match="numbers"):
        reg["nope"]


def test_duplicate_policies():
    strict: Registry[int] = Registry("strict")
    strict.register("a", 1)
    with pytest.raises(DuplicateRegistration):
        strict.register("a", 2)
    assert strict["a"] == 1

    keep: Registry[int] = Registry("keep", on_duplicate="keep")
    keep.register("a", 1)
    assert keep.register("a", 2) == 1  # the first registration wins and is returned
    assert keep["a"] == 1

    replace: Registry[int] = Registry("replace", on_duplicate="replace")
    replace.register("a", 1)
    replace.register("b", 2)
    replace.register("a", 3)
    assert replace["a"] == 3
    assert replace.keys() == ["a", "b"]  # replacing keeps the original position

    with pytest.raises(ValueError):
        Registry("bad", on_duplicate="ignore")


def test_decorator_unregister_and_clear():
    reg: Registry[object] = Registry("functions")

    @reg.decorator("f")
    def f() -> int:
        return 1

    assert reg["f"] is f and f() == 1
    reg.unregister("f")
    reg.unregister("f")  # unregistering twice is harmless
    assert "f" not in reg
    reg.register("g", object())
    reg.clear()
    assert len(reg) == 0


def test_iteration_is_a_snapshot():
    reg: Registry[int] = Registry("numbers")
    reg.register("a", 1)
    for _item in reg:
        reg.register("b", 2)  # registering while iterating does not break the loop
    assert reg.keys() == ["a", "b"]


def test_callable_key_is_stable_for_functions_and_bound_methods():
    from credo.core.registry import callable_key

    calls: list[int] = []
    other: list[int] = []
    assert callable_key(calls.append) == callable_key(calls.append)  # new bound object each time
    assert callable_key(calls.append) != callable_key(other.append)
    assert callable_key(callable_key) == "credo.core.registry.callable_key"
    first, second = (lambda: 1), (lambda: 2)
    assert callable_key(first) != callable_key(second)
