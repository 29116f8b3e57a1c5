"""Issue 16 item 6: lead-import preview rows (phones) are kept out of ``django_session``:
encrypted in the private import store, bound to the user, deleted on confirm and on expiry."""

from __future__ import annotations

import os
import stat
import time

import pytest
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from credo.leads import importing
from credo.leads.models import Lead

pytestmark = pytest.mark.django_db

PHONE = "13800001111"
CSV = f"名称,手机号,来源渠道,地区代码,业务类型,意向金额\n甲公司,{PHONE},线下活动,140105,经营贷,100000\n"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path / "imports"


def _upload(client):
    upload = SimpleUploadedFile("leads.csv", CSV.encode("utf-8"), content_type="text/csv")
    return client.post(reverse("leads:import"), {"file": upload, "default_source": "other"})


def _session_text() -> str:
    return " ".join(str(s.get_decoded()) + s.session_data for s in Session.objects.all())


def test_preview_rows_are_not_in_the_session_but_encrypted_in_a_private_file(
    client, team_lead, owner, media
):
    client.force_login(team_lead)
    resp = _upload(client)
    assert len(resp.context["checked"].valid) == 1
    assert PHONE not in _session_text() and "甲公司" not in _session_text()
    [stored] = list(media.iterdir())
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(media.stat().st_mode) == 0o700
    raw = stored.read_bytes()
    assert PHONE.encode() not in raw and "甲公司".encode() not in raw
    assert raw.startswith(b"v1:")  # the app's AES-GCM ciphertext format

    client.post(reverse("leads:import"), {"confirm": "1"})
    assert Lead.objects.get().phone == PHONE
    assert list(media.iterdir()) == []  # deleted after the import


def test_a_new_upload_replaces_the_previous_preview_file(client, team_lead, media):
    client.force_login(team_lead)
    _upload(client)
    _upload(client)
    assert len(list(media.iterdir())) == 1


def test_preview_is_bound_to_its_user_and_token(team_lead, owner, media):
    token = importing.preview_save(
        [{"_row": 2, "name": "甲", "phone": PHONE}],
        source="other",
        filename="a.csv",
        user_id=team_lead.pk,
    )
    assert importing.preview_load(token, user_id=team_lead.pk)["rows"][0]["phone"] == PHONE
    assert importing.preview_load(token, user_id=owner.pk) is None
    assert importing.preview_load("../../etc/passwd", user_id=team_lead.pk) is None


def test_abandoned_preview_expires_and_is_purged(client, team_lead, media, settings):
    from credo.core.tasks import purge_import_files

    settings.IMPORT_FILE_TTL_HOURS = 24
    client.force_login(team_lead)
    _upload(client)
    [stored] = list(media.iterdir())
    old = time.time() - 25 * 3600
    os.utime(stored, (old, old))
    resp = client.post(reverse("leads:import"), {"confirm": "1"}, follow=True)
    assert "导入已过期" in resp.content.decode() and Lead.objects.count() == 0
    assert not stored.exists()

    _upload(client)
    [fresh] = list(media.iterdir())
    assert purge_import_files.call() == 0 and fresh.exists()  # younger than the TTL
    os.utime(fresh, (old, old))
    assert purge_import_files.call() == 1 and not fresh.exists()
