"""Typed readers for environment variables.

Every setting comes from the environment. A secret may also come from ``<NAME>_FILE`` (a path
whose contents are the value), which is how container and systemd secrets are usually handed
over. A bad value raises ``ImproperlyConfigured`` naming the variable, so a misconfigured
deployment fails at start-up instead of at the first request that touches the value.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class _Missing:
    pass


MISSING = _Missing()


def _raw(name: str) -> str | None:
    """Return the value of ``name`` or the contents of the file ``name_FILE`` points to."""
    file_var = f"{name}_FILE"
    path = os.environ.get(file_var)
    if path:
        if name in os.environ:
            raise ImproperlyConfigured(f"{name} and {file_var} are both set; set only one.")
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{file_var}: cannot read {path!r}: {exc}") from exc
    return os.environ.get(name)


def source(name: str) -> str:
    """Where ``name`` came from: 'file', 'env' or 'unset' (used by ``credo check``)."""
    if os.environ.get(f"{name}_FILE"):
        return "file"
    if name in os.environ:
        return "env"
    return "unset"


def env_str(name: str, default: str | _Missing = MISSING) -> str:
    value = _raw(name)
    if value is None or value == "":
        if isinstance(default, _Missing):
            raise ImproperlyConfigured(f"Environment variable {name} is required but not set.")
        return default
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"Environment variable {name} must be true/false, got {value!r}.")


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"Environment variable {name} must be an integer, got {value!r}."
        ) from exc
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"Environment variable {name} must be >= {minimum}.")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"Environment variable {name} must be <= {maximum}.")
    return number


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    value = _raw(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = float(value)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"Environment variable {name} must be a number, got {value!r}."
        ) from exc
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"Environment variable {name} must be >= {minimum}.")
    return number


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = _raw(name)
    if value is None or value.strip() == "":
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(
            f"Environment variable {name} must be one of {', '.join(choices)}, got {value!r}."
        )
    return value
