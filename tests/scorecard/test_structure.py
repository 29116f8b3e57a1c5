"""The scorecard engine stays Django-free (issue 17): it is trained and benchmarked without a
database or settings."""

from __future__ import annotations

import subprocess
import sys


def test_engine_imports_no_django():
    code = (
        "import credo.scorecard.engine, sys; "
        "assert not any(m.startswith('django') for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
