"""``credo deploy --target DIR [--domain …] [--user …] [--workers N] [--database-url …]``.

Writes the production settings (with generated key files, mode 0600), gunicorn settings,
systemd units and an nginx site into DIR, runs ``credo check --deploy`` against them and prints
what remains to do. See :mod:`credo.core.deploy` and docs/deployment.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from credo.core.deploy import DeployOptions, default_workers, deploy


class Command(BaseCommand):
    help = "Write a production installation (env file, key files, systemd units, nginx site)."
    # The running process may have no usable settings for the target (that is the point).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        d = DeployOptions(target=Path("."))
        parser.add_argument("--target", required=True, type=Path, help="e.g. /etc/credo")
        parser.add_argument("--domain", default=None, help=f"host name (default {d.domain})")
        parser.add_argument("--user", default=d.user, help="service user (default credo)")
        parser.add_argument(
            "--workers",
            type=int,
            default=0,
            help=f"gunicorn workers (default 2 × CPU cores + 1 = {default_workers()})",
        )
        parser.add_argument("--database-url", default=None, help=f"default {d.database_url}")
        parser.add_argument("--redis-url", default=None, help=f"default {d.redis_url}; '' for none")
        parser.add_argument("--data-dir", type=Path, default=None, help=f"default {d.data_dir}")
        parser.add_argument(
            "--backup-dir", type=Path, default=d.backup_dir, help=f"default {d.backup_dir}"
        )
        parser.add_argument(
            "--multiproc-dir",
            type=Path,
            default=None,
            help=f"PROMETHEUS_MULTIPROC_DIR (default {d.multiproc_dir})",
        )
        parser.add_argument("--bind", default=d.bind, help=f"gunicorn address (default {d.bind})")
        parser.add_argument(
            "--bin-dir",
            type=Path,
            default=d.bin_dir,
            help=f"directory of the credo and gunicorn executables (default {d.bin_dir})",
        )
        parser.add_argument("--log-format", choices=["json", "plain"], default=d.log_format)
        parser.add_argument("--no-check", action="store_true", help="skip `credo check --deploy`")

    def handle(self, *args: Any, **options: Any) -> None:
        given = {
            name
            for name in ("domain", "database_url", "redis_url", "data_dir", "multiproc_dir")
            if options[name] is not None
        }
        defaults = DeployOptions(target=options["target"])
        opts = DeployOptions(
            target=options["target"],
            domain=options["domain"] or defaults.domain,
            user=options["user"],
            workers=options["workers"],
            database_url=(
                defaults.database_url
                if options["database_url"] is None
                else options["database_url"]
            ),
            redis_url=defaults.redis_url if options["redis_url"] is None else options["redis_url"],
            data_dir=options["data_dir"] or defaults.data_dir,
            backup_dir=options["backup_dir"],
            multiproc_dir=options["multiproc_dir"] or defaults.multiproc_dir,
            bin_dir=options["bin_dir"],
            bind=options["bind"],
            log_format=options["log_format"],
            given=given,
        )
        result = deploy(opts, check=not options["no_check"])
        self.stdout.write("Written:")
        for path in result.written:
            self.stdout.write(f"  {path}")
        for path in result.keys_created:
            self.stdout.write(f"  {path} (new key, mode 0600)")
        for path in result.keys_kept:
            self.stdout.write(f"  {path} exists: kept")
        if result.check_output:
            self.stdout.write("\n`credo check --deploy` with these settings:")
            self.stdout.write(result.check_output)
        self.stdout.write("\nWhat remains to do:")
        for number, item in enumerate(result.todo, 1):
            self.stdout.write(f"  {number}. {item}")
