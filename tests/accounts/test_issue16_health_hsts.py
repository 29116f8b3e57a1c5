"""Issue 16: HSTS in production; both health endpoints check the database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError, connections
from django.test import Client

import credo

pytestmark = pytest.mark.django_db

BASE_ENV = {
    "CREDO_SECRET_KEY": "x" * 40,
    "CREDO_ENCRYPTION_KEYS": "k1:dGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY=",
    "PATH": "/usr/bin:/bin",
    # the subprocess imports the same credo package as this test run
    "PYTHONPATH": str(Path(credo.__file__).resolve().parent.parent),
}
PRINT = (
    "import json, credo.settings as s; print(json.dumps([s.SECURE_HSTS_SECONDS, "
    "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD]))"
)


def hsts_settings(**env: str) -> list:
    proc = subprocess.run(
        [sys.executable, "-c", PRINT],
        env={**BASE_ENV, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_hsts_on_by_default_in_production():
    assert hsts_settings(CREDO_ENVIRONMENT="production") == [31536000, True, False]


def test_hsts_is_configurable_and_off_outside_production():
    assert hsts_settings(CREDO_ENVIRONMENT="development")[0] == 0
    assert hsts_settings(CREDO_ENVIRONMENT="test")[0] == 0
    # production over plain HTTP (secure cookies turned off): no HSTS unless asked for
    assert hsts_settings(CREDO_ENVIRONMENT="production", CREDO_SECURE_COOKIES="false")[0] == 0
    assert hsts_settings(
        CREDO_ENVIRONMENT="production",
        CREDO_HSTS_SECONDS="600",
        CREDO_HSTS_INCLUDE_SUBDOMAINS="false",
        CREDO_HSTS_PRELOAD="true",
    ) == [600, False, True]


def test_hsts_header_sent_over_https(client: Client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    resp = client.get("/healthz", secure=True)
    assert resp["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@pytest.fixture
def database_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 port 5432 failed")

    monkeypatch.setattr(connections["default"], "cursor", refuse)


def test_health_endpoints_ok_with_database(client: Client):
    resp = client.get("/api/v1/health")
    assert resp.status_code == 200
    assert resp.json()["status"] == "ok"
    assert resp.json()["checks"] == {"database": "ok"}
    assert client.get("/healthz").json() == {"status": "ok"}


def test_api_health_is_503_when_database_is_down(client: Client, database_down):
    resp = client.get("/api/v1/health")
    assert resp.status_code == 503
    body = resp.json()
    assert body == {
        "code": "service_unavailable",
        "message": "服务不可用：数据库无法连接",
        "details": {"checks": {"database": "unavailable"}},
    }
    assert "5432" not in resp.content.decode()  # no connection details to the public


def test_healthz_is_503_when_database_is_down(client: Client, database_down):
    resp = client.get("/healthz")
    assert resp.status_code == 503
    assert resp.json() == {"status": "unavailable", "checks": {"database": "unavailable"}}
