"""Issue 16 item 6: uploaded customer-import files are private (0600), deleted after the import
and after a short expiry by a scheduled cleanup task."""

from __future__ import annotations

import os
import stat
import time

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from credo.customers.models import Customer
from tests.customers.conftest import make_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def io_client(client, owner, customer_perms, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    customer_perms.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="customers", codename__in=["import_customers"]
        )
    )
    client.force_login(owner)
    return client


def _csv():
    text = (
        f"客户类型,名称/姓名,身份证号,手机号,所在地区\n个人,张三,{make_id(81)},13812345678,140105\n"
    )
    return SimpleUploadedFile("客户.csv", text.encode("utf-8-sig"), content_type="text/csv")


def _files(tmp_path):
    folder = tmp_path / "imports"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_upload_is_private_and_deleted_after_the_import(io_client, tmp_path):
    old_umask = os.umask(0o022)
    try:
        io_client.post(reverse("customers:import"), {"file": _csv()})
    finally:
        os.umask(old_umask)
    [stored] = _files(tmp_path)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    io_client.post(reverse("customers:import_confirm"), {"mode": "valid_only"})
    assert Customer.objects.count() == 1 and _files(tmp_path) == []


def test_a_new_upload_deletes_the_abandoned_one(io_client, tmp_path):
    io_client.post(reverse("customers:import"), {"file": _csv()})
    io_client.post(reverse("customers:import"), {"file": _csv()})
    assert len(_files(tmp_path)) == 1


def test_expired_upload_is_refused_and_purged_by_the_scheduled_task(io_client, tmp_path, settings):
    from credo.core.scheduling.registry import registered_schedules
    from credo.core.tasks import purge_import_files

    [spec] = [s for s in registered_schedules() if s.name == "core.purge_import_files"]
    assert spec.task_path == "credo.core.tasks.purge_import_files"
    settings.IMPORT_FILE_TTL_HOURS = 24
    io_client.post(reverse("customers:import"), {"file": _csv()})
    [stored] = _files(tmp_path)
    assert purge_import_files.call() == 0 and stored.exists()
    old = time.time() - 25 * 3600
    os.utime(stored, (old, old))
    resp = io_client.get(reverse("customers:import_preview"), follow=True)
    assert "导入文件已失效" in resp.content.decode() and not stored.exists()

    io_client.post(reverse("customers:import"), {"file": _csv()})
    [abandoned] = _files(tmp_path)
    os.utime(abandoned, (old, old))
    assert purge_import_files.call() == 1 and _files(tmp_path) == []
