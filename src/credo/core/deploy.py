"""``credo deploy``: write a production installation into one directory.

    DIR/credo.env              production settings (mode 0600)
    DIR/keys/*                 generated key files (mode 0600; an existing one is never replaced)
    DIR/gunicorn.conf.py       gunicorn settings (workers, bind, Prometheus multiprocess hooks)
    DIR/systemd/*.service      credo-web, credo-worker, credo-scheduler (+ credo-backup.timer)
    DIR/nginx/credo.conf       the nginx site: TLS, HSTS, static files, proxy headers

then runs ``credo check --deploy`` against the written settings and lists what remains to do.
Re-running it is safe: the values already in ``credo.env`` are kept (except those given again on
the command line) and no key file is rewritten — a new encryption key would make every
encrypted field unreadable.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from credo.core.crypto import generate_key_entry

TEMPLATES = "deploy_templates"
#: key file → how its content is made (see credo.devsecrets for the development equivalents).
KEY_FILES: dict[str, str] = {
    "secret_key": "token48",
    "encryption_keys": "encryption",
    "blind_index_key": "token32",
    "audit_anchor_key": "token32",
    "esign_secret": "token32",
    "metrics_token": "token32",
}
UNITS = ("credo-web.service", "credo-worker.service", "credo-scheduler.service")
BACKUP_UNITS = ("credo-backup.service", "credo-backup.timer")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_ENV_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
#: Variables a re-run takes from the command line when given there, else from the old file.
OPTION_VARS = {
    "domain": ("CREDO_ALLOWED_HOSTS", "CREDO_CSRF_TRUSTED_ORIGINS"),
    "database_url": ("DATABASE_URL",),
    "redis_url": ("REDIS_URL",),
    "data_dir": ("CREDO_DATA_DIR",),
    "multiproc_dir": ("PROMETHEUS_MULTIPROC_DIR",),
}


@dataclass
class DeployOptions:
    target: Path
    domain: str = "credo.example.com"
    user: str = "credo"
    workers: int = 0  # 0: 2 × CPU cores + 1
    database_url: str = "postgres://credo@127.0.0.1:5432/credo"
    redis_url: str = "redis://127.0.0.1:6379/0"
    data_dir: Path = Path("/var/lib/credo")
    backup_dir: Path = Path("/var/backups/credo")
    multiproc_dir: Path = Path("/run/credo/prometheus")
    bin_dir: Path = field(default_factory=lambda: Path(sys.executable).parent)
    bind: str = "127.0.0.1:8000"
    log_format: str = "json"
    backup: bool | None = None  # None: when the `credo backup` command exists
    given: set[str] = field(default_factory=set)  # options given on the command line

    def worker_count(self) -> int:
        return self.workers or default_workers()


def default_workers() -> int:
    """gunicorn's rule of thumb: 2 × CPU cores + 1 (sync workers; docs/deployment.md)."""
    return 2 * (os.cpu_count() or 1) + 1


@dataclass
class DeployResult:
    written: list[Path] = field(default_factory=list)
    keys_created: list[Path] = field(default_factory=list)
    keys_kept: list[Path] = field(default_factory=list)
    env_file: Path | None = None
    check_output: str = ""
    check_ok: bool = False
    todo: list[str] = field(default_factory=list)


# --- rendering ----------------------------------------------------------------------------------
def template(name: str) -> str:
    return resources.files("credo.core").joinpath(TEMPLATES, name).read_text(encoding="utf-8")


def render_template(name: str, values: dict[str, str]) -> str:
    """``{{name}}`` placeholders (nginx and systemd use ``$``); an unknown one is an error."""

    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise KeyError(f"{name}: no value for {{{{{key}}}}}")
        return values[key]

    return _PLACEHOLDER.sub(sub, template(name))


def parse_env(text: str) -> dict[str, str]:
    """``NAME=value`` lines as systemd's EnvironmentFile and python-dotenv read them."""
    from io import StringIO

    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(stream=StringIO(text)).items() if v is not None}


def _quote(value: str) -> str:
    if value and not re.search(r"[\s#\"'\\$`]", value):
        return value
    if not value:
        return ""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def merge_env(rendered: str, existing: dict[str, str], overrides: set[str]) -> str:
    """The rendered env file with the values of ``existing`` kept, except for the variables in
    ``overrides`` (given again on the command line); variables only in ``existing`` are
    appended so nothing an administrator added is lost."""
    seen: set[str] = set()
    lines: list[str] = []
    for line in rendered.splitlines():
        match = _ENV_LINE.match(line)
        if match:
            name = match.group(1)
            seen.add(name)
            if name in existing and name not in overrides:
                line = f"{name}={_quote(existing[name])}"
        lines.append(line)
    extra = [name for name in existing if name not in seen]
    if extra:
        lines += ["", "# kept from the previous credo.env"]
        lines += [f"{name}={_quote(existing[name])}" for name in extra]
    return "\n".join(lines) + "\n"


def new_key(kind: str) -> str:
    if kind == "encryption":
        return generate_key_entry(f"k{dt.date.today():%Y%m%d}")  # noqa: DTZ011 — a key id
    if kind == "token48":
        return secrets.token_urlsafe(48)
    return secrets.token_urlsafe(32)


def write_secret(path: Path, content: str) -> bool:
    """Create ``path`` with mode 0600; False (and untouched) when it exists already."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content + "\n")
    os.chmod(path, 0o600)  # whatever the umask
    return True


def _write(path: Path, content: str, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    return path


def backup_command_exists() -> bool:
    from django.core.management import get_commands

    return "backup" in get_commands()


def max_upload_mb() -> int:
    from django.conf import settings

    return int(getattr(settings, "CREDO_SCORECARD_MAX_UPLOAD_MB", 200))


def template_values(options: DeployOptions) -> dict[str, str]:
    target = options.target.resolve()
    return {
        "generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "target": str(target),
        "keys_dir": str(target / "keys"),
        "env_file": str(target / "credo.env"),
        "data_dir": str(options.data_dir),
        "backup_dir": str(options.backup_dir),
        "multiproc_dir": str(options.multiproc_dir),
        "bin_dir": str(options.bin_dir),
        "database_url": options.database_url,
        "redis_url": options.redis_url,
        "domain": options.domain,
        "user": options.user,
        "workers": str(options.worker_count()),
        "bind": options.bind,
        "log_format": options.log_format,
        "org_name": "",
        "org_uscc": "",
        "org_address": "",
        "esign_provider": "simulated",
        "hsts_seconds": "31536000",
        "max_upload_mb": str(max_upload_mb()),
    }


def _chown(paths: list[Path], user: str) -> None:
    """Give the service user its files when run as root and the user exists."""
    if os.geteuid() != 0:
        return
    import pwd

    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return
    for path in paths:
        os.chown(path, entry.pw_uid, entry.pw_gid)


def render(options: DeployOptions) -> DeployResult:
    """Write every file into ``options.target``; never replace a key file."""
    result = DeployResult()
    target = options.target.resolve()
    target.mkdir(parents=True, exist_ok=True)
    keys = target / "keys"
    keys.mkdir(mode=0o700, exist_ok=True)
    os.chmod(keys, 0o700)
    for name, kind in KEY_FILES.items():
        path = keys / name
        if write_secret(path, new_key(kind)):
            result.keys_created.append(path)
        else:
            result.keys_kept.append(path)

    values = template_values(options)
    env_path = target / "credo.env"
    existing = parse_env(env_path.read_text(encoding="utf-8")) if env_path.exists() else {}
    overrides = {var for opt in options.given for var in OPTION_VARS.get(opt, ())}
    env_text = merge_env(render_template("credo.env.tmpl", values), existing, overrides)
    result.written.append(_write(env_path, env_text, 0o600))
    result.env_file = env_path

    result.written.append(
        _write(target / "gunicorn.conf.py", render_template("gunicorn.conf.py.tmpl", values))
    )
    units = list(UNITS)
    with_backup = backup_command_exists() if options.backup is None else options.backup
    if with_backup:
        units += BACKUP_UNITS
    for unit in units:
        result.written.append(
            _write(target / "systemd" / unit, render_template(f"{unit}.tmpl", values))
        )
    result.written.append(
        _write(target / "nginx" / "credo.conf", render_template("nginx-credo.conf.tmpl", values))
    )
    _chown([keys, *result.keys_created, env_path], options.user)
    return result


# --- check --------------------------------------------------------------------------------------
#: Variables of the calling shell that must not leak into the check of the written settings.
def _clean_environ() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CREDO_", "DATABASE_", "REDIS_", "PROMETHEUS_", "DJANGO_"))
    }


def env_for(env_file: Path) -> dict[str, str]:
    """The process environment the systemd units get: this file on a clean environment."""
    return {
        **_clean_environ(),
        **parse_env(env_file.read_text(encoding="utf-8")),
        "DJANGO_SETTINGS_MODULE": "credo.settings",
    }


def run_check(env_file: Path, bin_dir: Path) -> tuple[bool, str]:
    """``credo check --deploy`` in a fresh process with the written settings."""
    credo = bin_dir / "credo"
    command = [str(credo)] if credo.exists() else [sys.executable, "-m", "credo"]
    proc = subprocess.run(  # noqa: S603 — our own console script
        [*command, "check", "--deploy"],
        env=env_for(env_file),
        cwd=str(env_file.parent),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return proc.returncode == 0, (proc.stdout + proc.stderr).strip()


_FINDING = re.compile(r"^\s*ERROR\s+(\S+)(?:\s+\[(\w+)\])?\s+(.*)$")


def todo_list(options: DeployOptions, result: DeployResult, check_output: str) -> list[str]:
    target = options.target.resolve()
    todo: list[str] = []
    for line in check_output.splitlines():
        match = _FINDING.match(line)
        if match:
            todo.append(f"fix {match.group(1)}: {match.group(3)}")
    if "Configuration error" in check_output or (not todo and not result.check_ok):
        todo.append(f"`credo check --deploy` failed:\n{check_output}")
    todo += [
        f"create the service user: useradd --system --home {options.data_dir} {options.user}",
        f"create {options.data_dir} (owned by {options.user}) and the PostgreSQL database",
        f"set -a; . {target}/credo.env; credo migrate && credo collectstatic --no-input",
        "credo createuser --username admin --role admin --password-file /root/pw",
        f"put the TLS certificate and key for {options.domain} at /etc/nginx/tls/, then "
        f"install {target}/nginx/credo.conf as an nginx site and reload nginx",
        f"cp {target}/systemd/* /etc/systemd/system/ && systemctl daemon-reload && "
        "systemctl enable --now credo-web credo-worker credo-scheduler"
        + (" credo-backup.timer" if (target / "systemd" / "credo-backup.timer").exists() else ""),
        f"back up {target}/keys separately from the database backups",
    ]
    return todo


def deploy(options: DeployOptions, *, check: bool = True) -> DeployResult:
    result = render(options)
    if check and result.env_file is not None:
        result.check_ok, result.check_output = run_check(result.env_file, options.bin_dir)
    result.todo = todo_list(options, result, result.check_output)
    return result
