"""Bounded schemathesis run over the whole API (issue 16).

Every operation of ``/api/v1/openapi.json`` is exercised in-process (schemathesis' WSGI app
mode, no network) with a real bearer token of an all-data-scope superuser: fixed seed,
deterministic generation, the coverage phase with valid values (boundaries, enums) and
``EXAMPLES_PER_OPERATION`` fuzzed examples (valid and invalid data) per operation, about 850
requests in all. Checks: no 5xx, every status code and every response body documented by the
schema. Run alone with ``pytest -m fuzz -s`` (prints the request count).
"""

from __future__ import annotations

import time

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from credo.accounts.models import DataScope
from credo.api.api import api
from credo.api.services import token_create
from credo.wsgi import application
from tests.factories import RoleFactory, UserFactory

SEED = 20161
EXAMPLES_PER_OPERATION = 4

schema = schemathesis.openapi.from_dict(
    api.get_openapi_schema(path_prefix="/api/v1"),
    config=schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "phases": {
                "coverage": {"generation": {"mode": "positive"}, "unexpected-methods": []},
                "stateful": {"enabled": False},
            },
            "generation": {"max-examples": EXAMPLES_PER_OPERATION, "deterministic": True},
        }
    ),
)
schema.app = application

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]
CALLS = [0]


@pytest.fixture(scope="module", autouse=True)
def _report_calls():
    """With ``-s``: how many requests the run made (the budget is a few hundred)."""
    start = time.monotonic()
    yield
    print(f"\nschemathesis: {CALLS[0]} requests in {time.monotonic() - start:.0f}s")


@pytest.fixture
def _keep_test_connection():
    """Django's test client stops a request from closing the test transaction's connection;
    schemathesis calls the WSGI app directly, so do the same here."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_headers(org, _keep_test_connection):
    role = RoleFactory(code="fuzz_admin", name="接口测试管理员", data_scope=DataScope.ALL)
    user = UserFactory(
        username="fuzzadmin",
        display_name="接口测试",
        org_unit=org["head"],
        roles=[role],
        is_superuser=True,
    )
    _, plain = token_create(
        user=user, name="schemathesis", scopes=["read", "write"], expires_in_days=1, actor=user
    )
    return {"Authorization": f"Bearer {plain}"}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case, api_headers):
    CALLS[0] += 1
    case.call_and_validate(
        headers=api_headers,
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )
