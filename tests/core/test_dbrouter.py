"""Issue 19 (6): a read-replica alias used only inside ``read_replica()`` / ``@uses_replica``.

The tests configure a ``"replica"`` alias on the test database itself (what ``TEST: MIRROR``
does when ``DATABASE_REPLICA_URL`` is set) — a second connection — and look at which connection
ran which statement. Transactional tests: the replica connection sees committed rows only.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from django.db import connections, router, transaction
from django.http import StreamingHttpResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from credo.core.audit.models import AuditEntry
from credo.core.dbrouter import (
    ReplicaRouter,
    health,
    read_replica,
    replica_alias,
    replica_configured,
    uses_replica,
)
from credo.lending.models import Loan, Product
from tests.core.settings_probe import settings_in_subprocess
from tests.lending.conftest import (  # noqa: F401 (fixtures)
    borrower,
    finance,
    make_loan,
    product_version,
)
from tests.reports.conftest import portfolio, viewers  # noqa: F401 (fixtures)


@pytest.fixture
def replica(transactional_db):
    """A "replica" alias: a second connection to the test database."""
    settings_dict = dict(connections["default"].settings_dict)
    settings_dict["TEST"] = {**settings_dict.get("TEST", {}), "MIRROR": "default"}
    connections.settings["replica"] = settings_dict
    health.reset()
    try:
        # Connected here: the test case allowed the aliases that existed when it was set up,
        # and lets an established connection through.
        connections["replica"].connect()
        yield connections["replica"]
    finally:
        connections["replica"].close()
        del connections["replica"]
        del connections.settings["replica"]
        health.reset()


def _sql(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries]


def _touches(ctx: CaptureQueriesContext, table: str) -> list[str]:
    return [sql for sql in _sql(ctx) if table in sql]


def test_without_a_replica_everything_reads_from_default(db):
    assert not replica_configured() and replica_alias() == "default"
    with read_replica():
        assert router.db_for_read(Loan) == "default"
        assert router.db_for_write(Loan) == "default"
        assert Loan.objects.count() == 0


def test_reads_go_to_the_replica_only_inside_the_context(replica):
    Product.objects.create(code="p1", name="一号产品")
    assert replica_alias() == "replica"
    with (
        CaptureQueriesContext(replica) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_default,
    ):
        assert Product.objects.count() == 1  # outside: default
        with read_replica():
            assert list(Product.objects.values_list("code", flat=True)) == ["p1"]
            product = Product.objects.get(code="p1")
            assert product._state.db == "replica"
    assert len(_touches(on_replica, "lending_product")) == 2
    assert len(_touches(on_default, "lending_product")) == 1


def test_writes_go_to_default_and_pin_the_following_reads_there(replica):
    with (
        CaptureQueriesContext(replica) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_default,
    ):
        with read_replica():
            assert Product.objects.count() == 0  # replica
            Product.objects.create(code="p2", name="二号产品")  # default
            assert Product.objects.filter(code="p2").exists()  # default: reads its write
            with read_replica():  # nested: the outer block's state
                assert router.db_for_read(Product) == "default"
        with read_replica():  # a new block reads from the replica again
            assert router.db_for_read(Product) == "replica"
    assert [s.split()[0] for s in _touches(on_replica, "lending_product")] == ["SELECT"]
    assert [s.split()[0] for s in _touches(on_default, "lending_product")] == ["INSERT", "SELECT"]


def test_inside_a_transaction_and_for_update_reads_stay_on_default(replica):
    Product.objects.create(code="p3", name="三号产品")
    with CaptureQueriesContext(replica) as on_replica, read_replica():
        with transaction.atomic():
            assert router.db_for_read(Product) == "default"
            Product.objects.select_for_update().get(code="p3")
        assert router.db_for_read(Product) == "default"  # select_for_update counts as a write
    assert _touches(on_replica, "lending_product") == []


def test_only_default_is_migrated():
    r = ReplicaRouter()
    assert r.allow_migrate("replica", "lending") is False
    assert r.allow_migrate("default", "lending") is None


def test_lazy_template_and_streamed_responses_are_produced_inside_the_context(replica):
    Product.objects.create(code="p4", name="四号产品")
    template = engines["django"].from_string("{% for p in products %}{{ p.code }}{% endfor %}")

    @uses_replica
    def page(request):
        return TemplateResponse(request, template, {"products": Product.objects.all()})

    @uses_replica
    def stream(request):
        return StreamingHttpResponse(p.code for p in Product.objects.all())

    request = RequestFactory().get("/")
    with CaptureQueriesContext(replica) as on_replica:
        response = page(request)
        assert response.content == b"p4"
        body = b"".join(stream(request).streaming_content)
        assert body == b"p4"
    assert len(_touches(on_replica, "lending_product")) == 2


@pytest.mark.usefixtures("replica")
def test_dashboard_reads_the_book_on_the_replica_and_the_session_on_default(
    client,
    portfolio,  # noqa: F811
    owner,
):
    client.force_login(owner)
    replica_conn = connections["replica"]
    with (
        CaptureQueriesContext(replica_conn) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_default,
    ):
        page = client.get("/reports/?period=year")
    assert page.status_code == 200
    cards = {c["key"]: c for c in page.context["cards"]}
    assert cards["outstanding"]["value"] == 1_000_000 * 100
    assert _touches(on_replica, "lending_loan")
    assert not _touches(on_default, "lending_loan")
    # login: the session and the user come from the primary (before the view's block)
    assert _touches(on_default, "django_session") and not _touches(on_replica, "django_session")


@pytest.mark.usefixtures("replica")
def test_an_export_reads_on_the_replica_and_writes_its_audit_row_on_default(
    client,
    portfolio,  # noqa: F811
    owner,
):
    client.force_login(owner)
    with (
        CaptureQueriesContext(connections["replica"]) as on_replica,
        CaptureQueriesContext(connections["default"]) as on_default,
    ):
        response = client.get("/reports/standard/classification/?export=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert _touches(on_replica, "lending_loan")
    assert not _touches(on_default, "lending_loan")
    assert not [s for s in _sql(on_replica) if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert any(s.startswith("INSERT") for s in _touches(on_default, "audit"))
    assert AuditEntry.objects.filter(action="report.export").count() == 1


@pytest.mark.usefixtures("replica")
def test_other_pages_do_not_use_the_replica(client, owner):
    client.force_login(owner)
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        assert client.get("/reports/list/").status_code == 200
    assert _sql(on_replica) == []


def _settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = (
        "import json, credo.settings as s; d = s.DATABASES.get('replica'); print(json.dumps("
        "{'replica': d and {k: d[k] for k in ('ENGINE', 'NAME', 'HOST', 'TEST')}, "
        "'routers': s.DATABASE_ROUTERS}))"
    )
    return settings_in_subprocess(code, env, unset=["DATABASE_REPLICA_URL"])


def test_settings_define_the_replica_alias_from_the_url():
    primary = "postgres://credo@db1:5432/credo"
    proc = _settings({"DATABASE_URL": primary})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "replica": None,
        "routers": ["credo.core.dbrouter.ReplicaRouter"],
    }
    proc = _settings(
        {"DATABASE_URL": primary, "DATABASE_REPLICA_URL": "postgres://credo_ro@db2:5432/credo"}
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["replica"] == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "credo",
        "HOST": "db2",
        "TEST": {"MIRROR": "default"},
    }
    proc = _settings({"DATABASE_URL": primary, "DATABASE_REPLICA_URL": "sqlite:///x.sqlite3"})
    assert proc.returncode != 0 and "same engine" in proc.stderr


def test_a_replica_that_is_down_is_skipped_and_checked_again_later(
    replica, caplog, settings, monkeypatch
):
    from django.db import OperationalError

    def refused() -> None:
        raise OperationalError("connection to server at 127.0.0.1, port 5433 failed")

    Product.objects.create(code="p9", name="九号产品")
    monkeypatch.setattr(replica, "ensure_connection", refused)
    # the router closes a failed connection; the test keeps it (a test may not open a new one)
    monkeypatch.setattr(replica, "close", lambda: None)
    settings.CREDO_REPLICA_CHECK_SECONDS = 60
    health.reset()
    with read_replica():
        assert router.db_for_read(Product) == "default"
        assert list(Product.objects.values_list("code", flat=True)) == ["p9"]  # no error
        assert replica_alias() == "default"
    warnings = [r for r in caplog.records if "read replica not used" in r.getMessage()]
    assert len(warnings) == 1  # checked once, memoised for CREDO_REPLICA_CHECK_SECONDS
    # the server comes back: the next check uses it again
    monkeypatch.undo()
    settings.CREDO_REPLICA_CHECK_SECONDS = 0
    with read_replica():
        assert router.db_for_read(Product) == "replica"


def test_a_replica_too_far_behind_is_skipped(replica, settings, monkeypatch):
    import credo.core.dbrouter as dbrouter

    if replica.vendor != "postgresql":
        pytest.skip("the replay-lag check is PostgreSQL's (streaming replication)")
    settings.CREDO_REPLICA_MAX_LAG_SECONDS = 30
    monkeypatch.setattr(dbrouter, "LAG_SQL", "SELECT 45.0")
    health.reset()
    with read_replica():
        assert router.db_for_read(Product) == "default"
    monkeypatch.setattr(dbrouter, "LAG_SQL", "SELECT 2.0")
    health.reset()
    with read_replica():
        assert router.db_for_read(Product) == "replica"
