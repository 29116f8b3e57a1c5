"""`credo` reads `.env` from the working directory outside production; an exported variable
always wins (issue 15, items 13 and 14)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from credo.cli import load_dotenv

DEMO_ENV = """# written by make demo
CREDO_ENVIRONMENT=development
CREDO_SECRET_KEY=dev-secret-from-dotenv-0123456789abcdef0123456789
DATABASE_URL=sqlite:///var/credo.sqlite3
"""


def _write(tmp_path: Path, text: str = DEMO_ENV) -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


def test_values_from_dotenv_fill_the_environment(tmp_path):
    env: dict[str, str] = {}
    taken = load_dotenv(_write(tmp_path), env)
    assert env["CREDO_SECRET_KEY"].startswith("dev-secret-from-dotenv")
    assert env["DATABASE_URL"] == "sqlite:///var/credo.sqlite3"
    assert set(taken) == {"CREDO_ENVIRONMENT", "CREDO_SECRET_KEY", "DATABASE_URL"}


def test_exported_variable_wins_over_dotenv(tmp_path):
    env = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/credo"}
    load_dotenv(_write(tmp_path), env)
    assert env["DATABASE_URL"] == "postgres://postgres@127.0.0.1:5432/credo"


def test_a_file_handed_secret_keeps_precedence(tmp_path):
    env = {"CREDO_SECRET_KEY_FILE": "/run/secrets/key"}
    load_dotenv(_write(tmp_path), env)
    assert "CREDO_SECRET_KEY" not in env  # both set would be refused as ambiguous


def test_ignored_in_production(tmp_path):
    env = {"CREDO_ENVIRONMENT": "production"}
    assert load_dotenv(_write(tmp_path), env) == []
    assert "CREDO_SECRET_KEY" not in env
    # A file that does not say it is for development is not read either (default production).
    env2: dict[str, str] = {}
    assert load_dotenv(_write(tmp_path, "CREDO_SECRET_KEY=x\n"), env2) == []
    assert env2 == {}


def test_missing_file_is_fine(tmp_path):
    assert load_dotenv(tmp_path / ".env", {}) == []


def test_credo_command_reads_dotenv_in_working_directory(tmp_path):
    """After `make demo`, `credo schedule …` works without exporting anything."""
    from credo.devsecrets import render

    _write(tmp_path, render(tmp_path / "var"))  # exactly what `make demo` writes
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CREDO_") and k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    args = ["--principal", "1000000", "--annual-rate", "4.9", "--months", "12"]
    args += ["--method", "equal_installment", "--start", "2026-01-15", "--format", "json"]
    result = subprocess.run(
        [sys.executable, "-m", "credo", "schedule", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert '"installments"' in result.stdout or '"period"' in result.stdout, result.stdout
