"""Issue 19 (9): `credo deploy` renders an installation; `credo check --deploy` refuses the
simulated providers, an empty lender identity, missing HSTS and DEBUG; the rendered settings
run gunicorn + worker + scheduler (smoke test on PostgreSQL)."""

from __future__ import annotations

import http.client
import io
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from credo.core import checks
from credo.core.deploy import KEY_FILES, DeployOptions, env_for, parse_env, render

LENDER = {
    "CREDO_ORG_NAME": "晋信小额贷款有限公司",
    "CREDO_ORG_USCC": "91140100MA0L00000N",
    "CREDO_ORG_ADDRESS": "山西省太原市小店区示例路1号",
}


def _options(tmp_path: Path, **kw) -> DeployOptions:
    values = {
        "target": tmp_path / "etc",
        "domain": "credo.example.cn",
        "user": "credo",
        "workers": 3,
        "database_url": "postgres://credo:pw@db.internal:5432/credo",
        "data_dir": tmp_path / "data",
        "multiproc_dir": tmp_path / "prom",
        "bin_dir": Path("/opt/credo/venv/bin"),
        "backup": True,
    }
    values.update(kw)
    return DeployOptions(**values)


# --- rendering ----------------------------------------------------------------------------------
def test_render_writes_env_keys_units_and_nginx(tmp_path):
    options = _options(tmp_path)
    result = render(options)
    etc = options.target.resolve()

    keys = etc / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert sorted(p.name for p in keys.iterdir()) == sorted(KEY_FILES)
    for path in keys.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert len(path.read_text().strip()) >= 32
    assert stat.S_IMODE((etc / "credo.env").stat().st_mode) == 0o600
    assert len(result.keys_created) == len(KEY_FILES) and not result.keys_kept

    env = parse_env((etc / "credo.env").read_text())
    assert env["CREDO_ENVIRONMENT"] == "production"
    assert env["CREDO_DEBUG"] == "false"
    assert env["DATABASE_URL"] == "postgres://credo:pw@db.internal:5432/credo"
    assert env["REDIS_URL"] == "redis://127.0.0.1:6379/0"
    assert env["CREDO_ALLOWED_HOSTS"] == "credo.example.cn"
    assert env["CREDO_CSRF_TRUSTED_ORIGINS"] == "https://credo.example.cn"
    assert env["CREDO_BEHIND_TLS_PROXY"] == "true"
    assert env["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path / "prom")
    assert env["CREDO_DATA_DIR"] == str(tmp_path / "data")
    for var in ("CREDO_ORG_NAME", "CREDO_ORG_USCC", "CREDO_ORG_ADDRESS"):
        assert env[var] == ""  # placeholders `credo check --deploy` flags
    for name in KEY_FILES:
        var = {"encryption_keys": "CREDO_ENCRYPTION_KEYS_FILE"}.get(
            name, f"CREDO_{name.upper()}_FILE"
        )
        assert env[var] == str(keys / name)
        assert var.removesuffix("_FILE") not in env  # never the key itself
    # the generated encryption key parses
    from credo.core.crypto import parse_keys

    assert len(parse_keys((keys / "encryption_keys").read_text().strip()).keys) == 1

    systemd = etc / "systemd"
    web = (systemd / "credo-web.service").read_text()
    assert "ExecStart=/opt/credo/venv/bin/gunicorn --config " + str(etc / "gunicorn.conf.py") in web
    assert "credo.wsgi:application" in web
    assert "3 workers" in web
    worker = (systemd / "credo-worker.service").read_text()
    assert "ExecStart=/opt/credo/venv/bin/credo worker\n" in worker
    scheduler = (systemd / "credo-scheduler.service").read_text()
    assert "ExecStart=/opt/credo/venv/bin/credo scheduler\n" in scheduler
    for unit in (web, worker, scheduler):
        assert f"EnvironmentFile={etc / 'credo.env'}" in unit
        assert "User=credo" in unit
    backup = (systemd / "credo-backup.service").read_text()
    assert "credo backup --to " in backup
    assert "OnCalendar=" in (systemd / "credo-backup.timer").read_text()

    gunicorn = (etc / "gunicorn.conf.py").read_text()
    compile(gunicorn, "gunicorn.conf.py", "exec")
    assert "workers = 3" in gunicorn and "mark_process_dead" in gunicorn

    nginx = (etc / "nginx" / "credo.conf").read_text()
    assert "server_name credo.example.cn;" in nginx
    assert "listen 443 ssl;" in nginx and "return 301 https://" in nginx
    assert 'Strict-Transport-Security "max-age=31536000; includeSubDomains" always' in nginx
    assert f"alias {tmp_path / 'data'}/static/;" in nginx
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in nginx
    assert "proxy_set_header X-Forwarded-For   $proxy_add_x_forwarded_for;" in nginx
    assert "client_max_body_size 200m;" in nginx  # CREDO_SCORECARD_MAX_UPLOAD_MB
    assert "{{" not in nginx + web + worker + gunicorn


def test_rerun_never_replaces_keys_and_keeps_filled_in_values(tmp_path):
    options = _options(tmp_path)
    render(options)
    etc = options.target.resolve()
    before = {p.name: p.read_text() for p in (etc / "keys").iterdir()}
    env_path = etc / "credo.env"
    text = env_path.read_text().replace("CREDO_ORG_NAME=\n", "CREDO_ORG_NAME=晋信 小额贷款\n")
    env_path.write_text(text + "CREDO_REQUIRE_2FA=true\n")

    again = render(_options(tmp_path, database_url="postgres://other/db", given={"database_url"}))

    assert {p.name: p.read_text() for p in (etc / "keys").iterdir()} == before
    assert not again.keys_created and len(again.keys_kept) == len(KEY_FILES)
    env = parse_env(env_path.read_text())
    assert env["CREDO_ORG_NAME"] == "晋信 小额贷款"
    assert env["CREDO_REQUIRE_2FA"] == "true"
    assert env["DATABASE_URL"] == "postgres://other/db"  # given again: replaced
    assert stat.S_IMODE(env_path.stat().st_mode) == 0o600


def test_no_backup_units_without_the_backup_command(tmp_path):
    options = _options(tmp_path, backup=False)
    render(options)
    assert not (options.target / "systemd" / "credo-backup.timer").exists()


def test_deploy_command_prints_what_remains(tmp_path):
    out = io.StringIO()
    call_command(
        "deploy",
        "--target",
        str(tmp_path / "etc"),
        "--domain",
        "credo.example.cn",
        "--data-dir",
        str(tmp_path / "data"),
        "--database-url",
        "postgres://postgres@127.0.0.1:1/nothing",
        "--redis-url",
        "",
        stdout=out,
    )
    text = out.getvalue()
    assert "credo check --deploy" in text
    remaining = text.split("What remains to do:")[1]
    # the written settings were checked: no lender, simulated e-signature, no database yet
    assert "CREDO_ORG_NAME" in remaining and "CREDO_ESIGN_PROVIDER" in remaining
    assert "credo.E041" in remaining
    assert "credo migrate" in remaining and "systemctl enable" in remaining


# --- check --deploy -----------------------------------------------------------------------------
@pytest.fixture
def deployable(settings, db):
    """Everything `check --deploy` wants, so each test breaks one thing."""
    from credo.notify.models import Channel

    for name, value in LENDER.items():
        setattr(settings, name, value)
    settings.CREDO_ESIGN_PROVIDER = "fadada"
    settings.CREDO_FADADA_APP_ID = "fdd-app"
    settings.CREDO_FADADA_APP_SECRET = "fdd-secret"
    settings.CREDO_FADADA_OPEN_CORP_ID = "corp-1"
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.DEBUG = False
    settings.CREDO_NOTIFY_SIMULATE = False
    Channel.objects.create(name="短信网关", engine="sms_http", url="https://sms.example.cn/send")
    return settings


def _deploy_errors() -> dict[str, str]:
    return {
        f.code: f.variable
        for f in checks.config_report(deploy=True)
        if f.level == checks.ERROR and f.code != "credo.E001"  # the test secret key
    }


@pytest.mark.django_db
def test_check_deploy_passes_a_complete_configuration(deployable):
    assert _deploy_errors() == {}


@pytest.mark.django_db
def test_check_deploy_fails_on_the_simulated_esign_provider(deployable):
    deployable.CREDO_ESIGN_PROVIDER = "simulated"
    assert _deploy_errors() == {"credo.E091": "CREDO_ESIGN_PROVIDER"}


@pytest.mark.django_db
def test_check_deploy_fails_without_hsts(deployable):
    deployable.SECURE_HSTS_SECONDS = 0
    assert _deploy_errors() == {"credo.E090": "CREDO_HSTS_SECONDS"}


@pytest.mark.django_db
def test_check_deploy_fails_with_debug_even_outside_production(deployable):
    deployable.DEBUG = True
    assert _deploy_errors() == {"credo.E030": "CREDO_DEBUG"}
    assert checks.check_debug(deploy=False) == []  # plain `check` in the test environment


@pytest.mark.django_db
def test_check_deploy_fails_on_an_empty_lender_identity(deployable):
    deployable.CREDO_ORG_USCC = ""
    assert _deploy_errors() == {"credo.E080": "CREDO_ORG_USCC"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "setup, reason",
    [
        ("no_channel", "no SMS gateway"),
        ("disabled_gateway", "no SMS gateway"),
        ("simulated_for_sms", "simulated channel"),
        ("simulated_for_all", "simulated channel"),
        ("simulate_fallback", "CREDO_NOTIFY_SIMULATE"),
    ],
)
def test_check_deploy_fails_without_a_real_sms_gateway(deployable, setup, reason):
    from credo.notify.models import Channel

    gateway = Channel.objects.get(engine="sms_http")
    if setup == "disabled_gateway":
        Channel.objects.filter(pk=gateway.pk).update(enabled=False)
    else:
        gateway.delete()
    if setup == "simulated_for_sms":
        Channel.objects.create(name="模拟", engine="simulated", simulates=["email", "sms"])
    if setup == "simulated_for_all":
        Channel.objects.create(name="模拟", engine="simulated", simulates=[])
    if setup == "simulate_fallback":
        deployable.CREDO_NOTIFY_SIMULATE = True
    [finding] = checks.check_sms_channel()
    assert finding.level == checks.ERROR and finding.code == "credo.E092"
    assert reason in finding.message


@pytest.mark.django_db
def test_a_simulated_channel_for_other_kinds_only_is_not_an_sms_problem(deployable):
    from credo.notify.models import Channel

    Channel.objects.create(name="模拟邮件", engine="simulated", simulates=["email"])
    [finding] = checks.check_sms_channel()
    assert finding.level == checks.OK


@pytest.mark.django_db
def test_deploy_checks_stay_out_of_startup_checks(settings):
    """A server with the simulated provider still starts (demo, evaluation); only `check
    --deploy` refuses it."""
    settings.CREDO_ESIGN_PROVIDER = "simulated"
    settings.SECURE_HSTS_SECONDS = 0
    assert checks.check_esign_provider not in checks.STARTUP_CHECKS
    codes = {f.code for f in checks.config_report(deploy=False)}
    assert not codes & {"credo.E090", "credo.E091", "credo.E092"}


# --- smoke test: the rendered settings run ------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Http:
    """A client the way nginx forwards: Host, X-Forwarded-Proto https, cookies by hand
    (the session and CSRF cookies are Secure; a plain-HTTP client would drop them)."""

    def __init__(self, port: int, host: str) -> None:
        self.port, self.host = port, host
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str = "", headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        all_headers = {
            "Host": self.host,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "198.51.100.7",
            **(headers or {}),
        }
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body.encode() if body else None, headers=all_headers)
            response = conn.getresponse()
            data = response.read().decode("utf-8", "replace")
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, dict(response.getheaders()), data
        finally:
            conn.close()


def _wait_for(predicate, timeout: float, what: str, procs) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in procs.items():
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited early ({proc.returncode})")
        try:
            value = predicate()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_rendered_installation_serves_logs_in_and_is_ready(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the production smoke test runs on PostgreSQL")
    from credo.core.scheduling.models import Schedule
    from credo.core.scheduling.registry import sync_schedules

    db = connection.settings_dict
    port = _free_port()
    options = DeployOptions(
        target=tmp_path / "etc",
        domain="credo.test",
        workers=1,
        database_url=f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        redis_url="",
        data_dir=tmp_path / "data",
        multiproc_dir=tmp_path / "prom",
        bind=f"127.0.0.1:{port}",
        backup=False,
    )
    render(options)
    (tmp_path / "data" / "static").mkdir(parents=True)
    env_file = options.target.resolve() / "credo.env"
    with env_file.open("a") as handle:  # what the operator fills in
        handle.writelines(f"{k}={v}\n" for k, v in LENDER.items())
    env = env_for(env_file)
    bin_dir = Path(sys.executable).parent
    credo = (
        [str(bin_dir / "credo")]
        if (bin_dir / "credo").exists()
        else [sys.executable, "-m", "credo"]
    )

    password_file = tmp_path / "pw"
    password_file.write_text("Smoke-Test-Passw0rd!\n")
    password_file.chmod(0o600)
    subprocess.run(
        [*credo, "createuser", "--username", "smoke", "--superuser", "--password-file",
         str(password_file)],
        env=env, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    # An installation that ran before: its per-minute schedule is due at the first tick.
    sync_schedules()
    Schedule.objects.filter(name="notify.send_due").update(
        last_slot=timezone.now() - timezone.timedelta(hours=1)
    )

    logs = {name: (tmp_path / f"{name}.log").open("w") for name in ("web", "worker", "scheduler")}
    commands = {
        "web": [str(bin_dir / "gunicorn"), "--config", str(options.target / "gunicorn.conf.py"),
                "--bind", options.bind, "credo.wsgi:application"],
        "worker": [*credo, "worker", "--no-startup-delay", "--interval", "0.5"],
        "scheduler": [*credo, "scheduler", "--interval", "1"],
    }  # fmt: skip
    procs: dict[str, subprocess.Popen] = {}
    try:
        for name, command in commands.items():
            procs[name] = subprocess.Popen(  # noqa: S603
                command, env=env, cwd=tmp_path, stdout=logs[name], stderr=subprocess.STDOUT
            )
        client = Http(port, "credo.test")
        _wait_for(lambda: client.request("GET", "/healthz")[0] == 200, 120, "gunicorn", procs)

        status, _headers, page = client.request("GET", "/accounts/login/")
        assert status == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        assert "csrftoken" in client.cookies
        status, headers, _ = client.request(
            "POST",
            "/accounts/login/",
            body=f"csrfmiddlewaretoken={token}&username=smoke&password=Smoke-Test-Passw0rd%21",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": "https://credo.test",
                "Referer": "https://credo.test/accounts/login/",
            },
        )
        assert status == 302, _
        assert "sessionid" in client.cookies
        status, headers, home = client.request("GET", "/")
        assert status == 200
        assert "Strict-Transport-Security" in headers  # production over (proxied) TLS

        def ready():
            status, _h, body = client.request("GET", "/readyz")
            return (status, body) if status == 200 else None

        status, body = _wait_for(ready, 120, "/readyz 200", procs)
        import json

        report = json.loads(body)
        assert report["checks"] == {
            "database": "ok",
            "migrations": "ok",
            "task_queue": "ok",
            "scheduler": "ok",
        }
        assert report["scheduler_heartbeat_age_seconds"] < 60
        assert "last_close_of_business" in report

        metrics_token = (options.target / "keys" / "metrics_token").read_text().strip()
        status, _h, text = client.request(
            "GET", "/metrics", headers={"Authorization": f"Bearer {metrics_token}"}
        )
        assert status == 200
        assert 'credo_http_requests_total{method="POST",status="302",view="accounts:login"}' in text
        assert "credo_task_queue_depth" in text

        # The worker holds its lease (it is up and taking tasks) before the installation stops.
        from credo.core.scheduling.models import WorkerLease

        _wait_for(
            lambda: WorkerLease.objects.filter(pid=procs["worker"].pid).exists(),
            120,
            "the worker's lease",
            procs,
        )
    finally:
        codes = {}
        for name, proc in procs.items():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in procs.items():
            try:
                codes[name] = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = "killed"
        for handle in logs.values():
            handle.close()
    output = {name: (tmp_path / f"{name}.log").read_text()[-3000:] for name in commands}
    assert codes == {"web": 0, "worker": 0, "scheduler": 0}, output
    assert os.listdir(tmp_path / "prom")  # the gunicorn workers shared their counters there
