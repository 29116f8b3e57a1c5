"""Import ``credo.settings`` in a fresh interpreter: settings are read from the environment once,
at import, so a test of how an environment variable configures them needs a new process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def settings_in_subprocess(
    code: str, env: dict[str, str], *, unset: Iterable[str] = ()
) -> subprocess.CompletedProcess:
    """Run ``code`` with this process's environment minus ``unset``, plus ``env``."""
    drop = set(unset)
    base = {k: v for k, v in os.environ.items() if k not in drop}
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        env={**base, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
