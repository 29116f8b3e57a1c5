"""Backup and restore (issue 19 item 7).

The restore drill runs the real ``credo backup`` / ``credo restore`` commands in subprocesses:
data made through the services is backed up from the test database and restored into a second,
fresh PostgreSQL database with its own data directory; a tampered backup and a non-empty target
are refused with nothing restored. On SQLite the same round trip goes through a database file.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.db import connection

from credo.core import backup
from credo.core.audit.models import AuditEntry
from credo.core.backup import checks as backup_checks
from credo.core.backup import dbtools as backup_dbtools
from credo.core.money import Money
from tests.factories import RoleFactory, UserFactory

REPO = Path(__file__).resolve().parents[2]
# Committed data: the subprocesses (and pg_dump) read the database from other connections.
committed = pytest.mark.django_db(transaction=True)
on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite only")


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (6, 6), (10, 120, 200)).save(buf, format="PNG")
    return buf.getvalue()


def _perms(app_label: str, *codenames: str):
    return Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)


@pytest.fixture
def source_dirs(settings, tmp_path):
    """The source system's data directory, as ``credo backup`` in a subprocess will see it."""
    data = tmp_path / "source-data"
    settings.CREDO_DOCUMENT_ROOT = str(data / "documents")
    settings.MEDIA_ROOT = str(data / "files")
    return data


@pytest.fixture
def book(source_dirs, owner, manager_role, org):
    """A customer with an authorisation scan (media), an application with an uploaded document
    (documents), a disbursed loan with a repayment — every step audited."""
    from credo.core.validators import uscc_check_char
    from credo.customers import services as customer_services
    from credo.customers.models import DataKind
    from credo.customers.services.risk import authorization_record
    from credo.lending import services as lending
    from credo.lending.models import Loan, Product, ProductVersion
    from credo.origination import services as origination

    manager_role.permissions.add(
        *_perms("origination", "view_application", "add_application", "change_application"),
        *_perms("customers", "view_customer", "add_customer", "change_customer"),
        *_perms("lending", "view_loan", "view_product"),
    )
    finance_role = RoleFactory(code="finance_bk", name="财务BK", data_scope="all")
    finance_role.permissions.add(
        *_perms("lending", "disburse_loan", "post_repayment", "backdate_disbursement")
    )
    finance = UserFactory(
        username="finance_bk", display_name="周财务", org_unit=org["head"], roles=[finance_role]
    )
    product = Product.objects.create(code="jy-bk", name="经营贷")
    version = ProductVersion.objects.create(
        product=product,
        number=1,
        status="published",
        min_amount=Money("10000"),
        max_amount=Money("5000000"),
        min_months=3,
        max_months=60,
        min_rate=Decimal("4"),
        max_rate=Decimal("18"),
        method="equal_installment",
        penalty_multiplier=Decimal("1.5"),
        allocation_order=["penalty", "fee", "interest", "principal"],
        required_documents=["营业执照"],
    )
    body = "91140100MA0B00001"
    customer = customer_services.customer_create(
        actor=owner,
        data={
            "kind": "enterprise",
            "name": "太原备份演练有限公司",
            "uscc": body + uscc_check_char(body),
            "region_code": "140105",
        },
    )
    from credo.core import clock

    authorization_record(
        customer=customer,
        actor=owner,
        scope=DataKind.values[0],
        granted_by="法定代表人",
        valid_from=clock.today(),
        valid_until=clock.today() + dt.timedelta(days=365),
        document=ContentFile(b"%PDF-1.4 authorisation scan\n%%EOF\n", name="auth.pdf"),
    )
    app = origination.application_create(
        customer=customer,
        product_version=version,
        amount=Money("300000"),
        months=12,
        annual_rate=Decimal("12"),
        purpose="采购原材料",
        actor=owner,
    )
    png = _png()
    document = origination.document_upload(
        application=app, item="营业执照", name="licence.png", data=png, actor=owner
    )
    loan = lending.loan_create(
        customer=customer,
        product_version=version,
        principal=Money("120000"),
        annual_rate=Decimal("12"),
        months=12,
        actor=owner,
    )
    booked = dt.datetime(2025, 1, 2, 9, tzinfo=dt.UTC)
    Loan.objects.filter(pk=loan.pk).update(created_at=booked)
    loan.created_at = booked
    value_date = dt.date(2025, 1, 15)
    loan = lending.loan_disburse(loan=loan, actor=finance, value_date=value_date)
    lending.repayment_post(
        loan=loan,
        amount=Money("5000"),
        received_on=value_date + dt.timedelta(days=20),
        actor=finance,
    )
    return {"document": document, "png": png, "loan": loan, "customer": customer}


def _credo(*args: str, database_url: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url,
        "CREDO_DATA_DIR": str(data_dir),
    }
    env.pop("CREDO_DOCUMENT_ROOT", None)
    return subprocess.run(  # noqa: S603
        [sys.executable, "-m", "credo", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _report(proc: subprocess.CompletedProcess[str]) -> dict:
    assert proc.stdout.strip(), proc.stderr
    return json.loads(proc.stdout)


def _steps(report: dict) -> dict[str, dict]:
    return {s["name"]: s for s in report["steps"]}


def _files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- PostgreSQL: the restore drill -------------------------------------------------------------------
def _pg_url(name: str) -> str:
    s = connection.settings_dict
    auth = s["USER"] or "postgres"
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def _pg_admin():
    import psycopg

    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        user=s["USER"] or "postgres",
        password=s.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    )


def _pg_fresh(name: str) -> None:
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def _pg_counts(name: str, tables: list[str]) -> dict[str, int]:
    import psycopg

    with psycopg.connect(_pg_url(name)) as conn:
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def _pg_tables(name: str) -> int:
    import psycopg

    with psycopg.connect(_pg_url(name)) as conn:
        return conn.execute(
            "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()[0]


@pytest.fixture
def restore_db():
    name = f"{connection.settings_dict['NAME']}_restore"
    _pg_fresh(name)
    yield name
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@committed
@on_postgres
def test_restore_drill_postgresql(book, source_dirs, restore_db, tmp_path):
    source_url = _pg_url(connection.settings_dict["NAME"])
    target = tmp_path / "backup-1"
    made = _credo(
        "backup",
        "--to",
        str(target),
        "--format",
        "json",
        database_url=source_url,
        data_dir=source_dirs,
    )
    assert made.returncode == 0, made.stderr
    assert _report(made)["ok"] is True
    assert sorted(p.name for p in target.iterdir()) == [
        "database.dump",
        "documents",
        "manifest.json",
        "media",
    ]
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["database"]["vendor"] == "postgresql"
    assert manifest["keys"]["included"] is False
    assert "0001_initial" in manifest["migrations"]["lending"]
    stored = book["document"].stored_name
    listed = {f["path"]: f for f in manifest["files"]}
    assert listed[f"documents/{stored[:2]}/{stored}"]["size"] == len(book["png"])
    assert any(p.startswith("media/authorizations/") for p in listed)
    # Counted in the dump's snapshot, i.e. before `credo backup` audited itself.
    assert manifest["row_counts"]["audit_auditentry"] == AuditEntry.objects.count() - 1
    assert AuditEntry.objects.filter(action="core.backup").count() == 1

    tables = [
        "customers_customer",
        "lending_loan",
        "lending_posting",
        "audit_auditentry",
        "origination_document",
        "lending_journalline",
    ]
    expected = {t: manifest["row_counts"][t] for t in tables}
    assert all(expected.values()), expected

    dest = tmp_path / "restored-data"
    url = _pg_url(restore_db)
    done = _credo(
        "restore", "--from", str(target), "--format", "json", database_url=url, data_dir=dest
    )
    report = _report(done)
    assert done.returncode == 0, done.stdout + done.stderr
    steps = _steps(report)
    assert report["ok"] and report["restored"]
    for name in (
        "checksums",
        "database",
        "documents",
        "row_counts",
        "migrations",
        "documents_missing",
        "keys",
        "audit",
        "ledger",
    ):
        assert steps[name]["ok"], steps[name]
    assert _pg_counts(restore_db, tables) == {
        **expected,
        "audit_auditentry": expected["audit_auditentry"] + 1,  # + "core.restore"
    }
    assert (dest / "documents" / stored[:2] / stored).read_bytes() == book["png"]
    assert len(_files_under(dest / "files")) == 1

    # A non-empty target is refused without --force, and nothing changes.
    again = _credo(
        "restore", "--from", str(target), "--format", "json", database_url=url, data_dir=dest
    )
    assert again.returncode != 0
    report = _report(again)
    assert report["restored"] is False
    assert "--force" in _steps(report)["target"]["message"]
    assert _pg_counts(restore_db, ["audit_auditentry"])["audit_auditentry"] == (
        expected["audit_auditentry"] + 1
    )
    # With --force the whole schema is replaced: the counts are the backup's again.
    forced = _credo(
        "restore",
        "--from",
        str(target),
        "--force",
        "--format",
        "json",
        database_url=url,
        data_dir=dest,
    )
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert _pg_counts(restore_db, ["lending_loan", "audit_auditentry"]) == {
        "lending_loan": expected["lending_loan"],
        "audit_auditentry": expected["audit_auditentry"] + 1,
    }

    # One changed byte in one document: refused before anything is written.
    doc = target / "documents" / stored[:2] / stored
    data = bytearray(doc.read_bytes())
    data[-1] ^= 0xFF
    doc.write_bytes(bytes(data))
    _pg_fresh(restore_db)
    fresh = tmp_path / "fresh-data"
    tampered = _credo(
        "restore", "--from", str(target), "--format", "json", database_url=url, data_dir=fresh
    )
    assert tampered.returncode != 0
    report = _report(tampered)
    assert report["restored"] is False
    checksums = _steps(report)["checksums"]
    assert not checksums["ok"]
    assert any(stored in d for d in checksums["details"])
    assert _pg_tables(restore_db) == 0
    assert _files_under(fresh) == []


# --- SQLite round trip ---------------------------------------------------------------------------------
@committed
@on_sqlite
def test_sqlite_round_trip(book, source_dirs, tmp_path):
    target = tmp_path / "bk"
    result = backup.create_backup(target)
    assert result.vendor == "sqlite" and result.documents == 2
    manifest = result.manifest
    dest = tmp_path / "restored-data"
    db_file = tmp_path / "restored" / "credo.sqlite3"

    def restore() -> subprocess.CompletedProcess[str]:
        return _credo(
            "restore",
            "--from",
            str(target),
            "--format",
            "json",
            database_url=f"sqlite:///{db_file}",
            data_dir=dest,
        )

    proc = restore()
    report = _report(proc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert all(s["ok"] for s in report["steps"]), report
    assert {"audit", "ledger", "row_counts", "documents_missing"} <= set(_steps(report))
    conn = sqlite3.connect(db_file)
    try:
        loans = conn.execute("SELECT COUNT(*) FROM lending_loan").fetchone()[0]
        audit = conn.execute("SELECT COUNT(*) FROM audit_auditentry").fetchone()[0]
    finally:
        conn.close()
    assert loans == manifest["row_counts"]["lending_loan"] == 1
    assert audit == manifest["row_counts"]["audit_auditentry"] + 1  # + "core.restore"
    stored = book["document"].stored_name
    assert (dest / "documents" / stored[:2] / stored).read_bytes() == book["png"]

    again = restore()
    assert again.returncode != 0
    assert _report(again)["restored"] is False


# --- both vendors, in process --------------------------------------------------------------------------
@committed
def test_backup_never_contains_key_material(source_dirs, tmp_path, monkeypatch):
    documents = source_dirs / "documents"
    (documents / "ab").mkdir(parents=True)
    (documents / "ab" / "contract.pdf").write_bytes(b"%PDF-1.4 contract")
    key_file = documents / "encryption_keys"  # a key file misplaced among the documents
    key_file.write_text("k9:c2VjcmV0LWtleS1tYXRlcmlhbC0wMTIzNDU2Nzg5YWI=")
    monkeypatch.setenv("CREDO_ENCRYPTION_KEYS_FILE", str(key_file))
    imports = source_dirs / "files" / "imports"
    imports.mkdir(parents=True)
    (imports / "upload.xlsx").write_bytes(b"PK personal data")
    target = tmp_path / "bk"
    result = backup.create_backup(target)
    paths = {f["path"] for f in result.manifest["files"]}
    assert "documents/ab/contract.pdf" in paths
    assert "documents/encryption_keys" not in paths
    assert not any("imports" in p for p in paths)
    everything = b"".join(p.read_bytes() for p in _files_under(target))
    assert b"c2VjcmV0LWtleS1tYXRlcmlhbC0wMTIzNDU2Nzg5YWI=" not in everything
    assert "documents/encryption_keys" in result.manifest["documents"]["excluded"]
    entry = AuditEntry.objects.get(action="core.backup")
    assert entry.metadata["documents"] == 1


@committed
def test_backup_refuses_a_non_empty_directory_and_leaves_no_temporary(source_dirs, tmp_path):
    target = tmp_path / "bk"
    target.mkdir()
    (target / "old.txt").write_text("x")
    with pytest.raises(backup.BackupError, match="不为空"):
        backup.create_backup(target)
    assert not (tmp_path / "bk.tmp").exists()
    assert sorted(p.name for p in target.iterdir()) == ["old.txt"]
    assert not AuditEntry.objects.filter(action="core.backup").exists()
    # an empty directory is fine: the complete backup is renamed onto it
    empty = tmp_path / "empty"
    empty.mkdir()
    backup.create_backup(empty)
    assert (empty / "manifest.json").is_file()
    assert not (tmp_path / "empty.tmp").exists()


@committed
def test_a_backup_that_cannot_be_audited_is_not_left_behind(source_dirs, tmp_path, monkeypatch):
    from credo.core.audit import services as audit_services

    def refuse(**kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr(audit_services, "audit_record", refuse)
    with pytest.raises(RuntimeError, match="audit down"):
        backup.create_backup(tmp_path / "bk")
    assert not (tmp_path / "bk").exists()
    assert not (tmp_path / "bk.tmp").exists()


@committed
def test_verify_files_reports_changes_unlisted_files_and_bad_paths(source_dirs, tmp_path):
    (source_dirs / "documents").mkdir(parents=True)
    (source_dirs / "documents" / "a.pdf").write_bytes(b"%PDF-1.4 a")
    target = tmp_path / "bk"
    backup.create_backup(target)
    manifest = backup.read_manifest(target)
    assert backup.verify_files(target, manifest) == []
    (target / "documents" / "extra.pdf").write_bytes(b"%PDF planted")
    (target / "documents" / "a.pdf").write_bytes(b"%PDF-1.4 b")
    manifest["files"].append({"path": "../etc/passwd", "sha256": "0", "size": 1})
    problems = backup.verify_files(target, manifest)
    assert any("SHA-256" in p and "documents/a.pdf" in p for p in problems)
    assert any("清单外" in p and "documents/extra.pdf" in p for p in problems)
    assert any("不合法" in p for p in problems)


@committed
def test_restore_refuses_another_vendor_before_touching_anything(source_dirs, tmp_path):
    target = tmp_path / "bk"
    backup.create_backup(target)
    manifest_path = target / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    other = "sqlite" if connection.vendor == "postgresql" else "postgresql"
    manifest["database"]["vendor"] = other  # the manifest itself is not in its file list
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    before = AuditEntry.objects.count()
    report = backup.restore_backup(target, force=True)
    assert not report.ok and not report.restored
    vendor = report.steps[-1]
    assert vendor.name == "vendor"
    assert "PostgreSQL" in vendor.message and "SQLite" in vendor.message
    assert AuditEntry.objects.count() == before


def _applied() -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        return backup_dbtools.applied_migrations(cursor)


@pytest.mark.django_db
def test_a_backup_from_newer_code_is_reported():
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) VALUES (%s, %s, %s)",
            ["lending", "9999_from_the_future", "2030-01-01 00:00:00"],
        )
    report = backup.RestoreReport(source="x")
    backup_checks.compare_migrations(report, {"migrations": _applied(), "credo_version": "9.9"})
    (step,) = report.steps
    assert not step.ok
    assert "较新的 Credo" in step.message and step.details == ["lending.9999_from_the_future"]


@pytest.mark.django_db
@on_postgres
def test_newer_code_than_the_backup_runs_migrate():
    # The restored database lacks testapp's last migration (rolled back with the test).
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE testapp_secretrecord")
        cursor.execute(
            "DELETE FROM django_migrations WHERE app = 'testapp' AND name = '0002_secretrecord'"
        )
    report = backup.RestoreReport(source="x")
    backup_checks.compare_migrations(report, {"migrations": _applied()})
    (step,) = report.steps
    assert step.ok and step.warning and "migrate" in step.message
    assert report.migrated == ["testapp.0002_secretrecord"]
    assert "0002_secretrecord" in _applied()["testapp"]


def test_restore_refuses_a_directory_without_manifest(tmp_path):
    (tmp_path / "half").mkdir()
    report = backup.restore_backup(tmp_path / "half")
    assert not report.ok and not report.restored
    assert "manifest.json" in report.steps[0].message


def test_pg_tool_missing_gives_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDO_PG_BIN_DIR", str(tmp_path))
    with pytest.raises(backup.BackupError, match="CREDO_PG_BIN_DIR=.*pg_dump"):
        backup.find_pg_tool("pg_dump", 15)
    monkeypatch.delenv("CREDO_PG_BIN_DIR")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(backup_dbtools, "_TOOL_DIRS", ())
    with pytest.raises(backup.BackupError, match="找不到 pg_restore.*postgresql-client"):
        backup.find_pg_tool("pg_restore", 15)


def test_pg_tool_older_than_the_server_is_refused(tmp_path, monkeypatch):
    tool = tmp_path / "pg_dump"
    tool.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 13.4'\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(backup_dbtools, "_TOOL_DIRS", ())
    with pytest.raises(backup.BackupError, match="版本过旧.*PostgreSQL 15"):
        backup.find_pg_tool("pg_dump", 15)
    assert backup.find_pg_tool("pg_dump", 13) == tool
