"""The ``credo`` console script: Django's management entry with Credo's settings."""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from pathlib import Path


def load_dotenv(
    path: Path | None = None, environ: MutableMapping[str, str] | None = None
) -> list[str]:
    """Read ``.env`` from the working directory into the environment, outside production.

    ``make demo`` writes development settings there; without this, ``credo schedule …`` after
    the demo failed with "CREDO_SECRET_KEY is required". An exported variable always wins over
    the file (a ``DATABASE_URL`` pointing at PostgreSQL is never switched back to SQLite), and
    a variable handed over as ``NAME_FILE`` keeps precedence over ``NAME`` in the file. The file
    is ignored when the environment — exported, or else the file's own ``CREDO_ENVIRONMENT``,
    or else the default — is production: a server never picks up a stray ``.env``.

    Returns the names taken from the file.
    """
    from dotenv import dotenv_values

    env = os.environ if environ is None else environ
    path = Path(".env") if path is None else path
    if not path.is_file():
        return []
    values = {k: v for k, v in dotenv_values(path).items() if v is not None}
    environment = env.get("CREDO_ENVIRONMENT") or values.get("CREDO_ENVIRONMENT") or "production"
    if environment == "production":
        return []
    taken = []
    for name, value in values.items():
        base = name.removesuffix("_FILE")
        if name in env or base in env or f"{base}_FILE" in env:
            continue
        env[name] = value
        taken.append(name)
    return taken


def main(argv: list[str] | None = None) -> None:
    load_dotenv()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credo.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["credo", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
