"""The database side: finding ``pg_dump``/``pg_restore`` and running them with the connection of
``DATABASES["default"]``, and reading the tables, row counts and applied migrations (also of a
SQLite backup file)."""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.db import connection

from credo.core.backup.common import BackupError

_TOOL_DIRS = (
    "/usr/lib/postgresql/*/bin",
    "/usr/pgsql-*/bin",
    "/usr/local/pgsql/bin",
    "/opt/homebrew/opt/postgresql@*/bin",
    "/usr/local/opt/postgresql@*/bin",
)


def tool_major(path: Path) -> int | None:
    try:
        out = subprocess.run(  # noqa: S603 — a fixed argument list, no shell
            [str(path), "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(m.group(1)) if m else None


def find_pg_tool(name: str, server_major: int | None = None) -> Path:
    """``pg_dump`` / ``pg_restore``: from ``CREDO_PG_BIN_DIR`` when set, else on PATH or in the
    usual install folders; the one matching the server's major version, else the oldest newer
    one (a pg_dump older than the server refuses to dump it)."""
    configured = os.environ.get("CREDO_PG_BIN_DIR", "").strip()
    if configured:
        path = Path(configured) / name
        if not os.access(path, os.X_OK):
            raise BackupError(f"CREDO_PG_BIN_DIR={configured} 下没有可执行的 {name}。")
        return path
    candidates: list[Path] = []
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))
    for pattern in _TOOL_DIRS:
        candidates.extend(Path(d) / name for d in sorted(glob.glob(pattern)))
    usable: list[tuple[int, Path]] = []
    seen: set[Path] = set()
    for path in candidates:
        real = path.resolve()
        if real in seen or not os.access(path, os.X_OK):
            continue
        seen.add(real)
        major = tool_major(path)
        if major is not None:
            usable.append((major, path))
    need = f"（版本不低于服务器的 {server_major}）" if server_major else ""
    if not usable:
        raise BackupError(
            f"找不到 {name}：请安装 PostgreSQL 客户端工具{need}（Debian/Ubuntu："
            f"apt install postgresql-client），或用 CREDO_PG_BIN_DIR 指定其所在目录。"
        )
    if server_major is None:
        return max(usable, key=lambda t: t[0])[1]
    exact = [p for major, p in usable if major == server_major]
    if exact:
        return exact[0]
    newer = sorted((t for t in usable if t[0] > server_major), key=lambda t: t[0])
    if newer:
        return newer[0][1]
    found = "、".join(f"{p}（{major}）" for major, p in usable)
    raise BackupError(
        f"{name} 版本过旧：服务器是 PostgreSQL {server_major}，找到的只有 {found}。"
        f"请安装 {server_major} 或更新版本的客户端工具，或用 CREDO_PG_BIN_DIR 指定。"
    )


_PG_ENV = {
    "NAME": "PGDATABASE",
    "USER": "PGUSER",
    "PASSWORD": "PGPASSWORD",
    "HOST": "PGHOST",
    "PORT": "PGPORT",
}
_PG_OPTION_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "options": "PGOPTIONS",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


def pg_env() -> dict[str, str]:
    """The environment for pg_dump/pg_restore: the connection of DATABASES["default"] as
    PG* variables (the password never appears on a command line)."""
    db = connection.settings_dict
    env = dict(os.environ)
    for key, var in _PG_ENV.items():
        value = db.get(key)
        if value not in (None, ""):
            env[var] = str(value)
    for key, var in _PG_OPTION_ENV.items():
        value = (db.get("OPTIONS") or {}).get(key)
        if value not in (None, ""):
            env[var] = str(value)
    return env


def run_tool(args: list[str], what: str) -> None:
    proc = subprocess.run(  # noqa: S603 — a fixed argument list, no shell
        args, env=pg_env(), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout or "").strip().splitlines()[-8:])
        raise BackupError(f"{what} 失败（退出码 {proc.returncode}）：{tail}")


def server_major(cursor: Any) -> tuple[int, str]:
    cursor.execute(
        "SELECT current_setting('server_version_num'), current_setting('server_version')"
    )
    num, text = cursor.fetchone()
    return int(num) // 10000, str(text)


# --- reading database state ------------------------------------------------------------------------
def table_names(cursor: Any) -> list[str]:
    return sorted(connection.introspection.table_names(cursor))


def count_rows(cursor: Any, tables: Iterable[str], quote: Callable[[str], str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    names = list(tables)
    for start in range(0, len(names), 50):
        batch = names[start : start + 50]
        sql = " UNION ALL ".join(
            f"SELECT %s, COUNT(*) FROM {quote(t)}"  # noqa: S608 — quoted introspected names
            for t in batch
        )
        cursor.execute(sql, batch)
        counts.update({str(t): int(n) for t, n in cursor.fetchall()})
    return dict(sorted(counts.items()))


def applied_migrations(cursor: Any) -> dict[str, list[str]]:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    applied: dict[str, list[str]] = {}
    for app, name in cursor.fetchall():
        applied.setdefault(str(app), []).append(str(name))
    return applied


def _sqlite_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sqlite_state(path: Path) -> tuple[dict[str, int], dict[str, list[str]]]:
    conn = sqlite3.connect(path)
    try:
        cur = conn.cursor()
        cur.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        tables = sorted(str(r[0]) for r in cur.fetchall())
        counts = count_rows(_QmarkCursor(cur), tables, _sqlite_quote)
        return counts, applied_migrations(cur)
    finally:
        conn.close()


class _QmarkCursor:
    """%s placeholders (Django style) on a plain sqlite3 cursor."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.cursor = cursor

    def execute(self, sql: str, params: Iterable[Any] = ()) -> None:
        self.cursor.execute(sql.replace("%s", "?"), list(params))

    def fetchall(self) -> list[Any]:
        return self.cursor.fetchall()
