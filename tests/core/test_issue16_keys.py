"""Issue 16 item 13: a wrong (but well-formed) key is caught by ``credo keys status``; a
malformed key at start-up prints only the message."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from tests.testapp.models import SecretRecord

ID = "11010519491231002X"
K_OLD = "k1:" + base64.b64encode(b"o" * 32).decode()
K_NEW = "k9:" + base64.b64encode(b"n" * 32).decode()
K_OLD_WRONG = "k1:" + base64.b64encode(b"w" * 32).decode()


@pytest.mark.django_db
def test_keys_status_exits_non_zero_naming_a_key_that_does_not_decrypt(settings):
    settings.ENCRYPTION_KEYS = K_OLD
    SecretRecord.objects.create(name="a", id_number=ID)
    settings.ENCRYPTION_KEYS = K_NEW
    SecretRecord.objects.create(name="b", id_number=ID)
    settings.ENCRYPTION_KEYS = f"{K_NEW},{K_OLD_WRONG}"  # parses fine, wrong material for k1
    with pytest.raises(CommandError, match=r"key 'k1' does not decrypt 1 of 1") as err:
        call_command("keys", "status", stdout=io.StringIO())
    assert "k9" not in str(err.value) and "testapp.secretrecord.id_number pk=" in str(err.value)

    settings.ENCRYPTION_KEYS = f"{K_NEW},{K_OLD}"
    out = io.StringIO()
    call_command("keys", "status", stdout=out)
    assert "key 'k1': 1 sampled value(s) decrypt" in out.getvalue()
    assert "key 'k9': 1 sampled value(s) decrypt" in out.getvalue()

    settings.ENCRYPTION_KEYS = K_NEW  # k1 dropped while values still use it
    with pytest.raises(CommandError, match=r"key id 'k1' is not configured"):
        call_command("keys", "status", stdout=io.StringIO())


def test_malformed_key_at_start_up_prints_only_the_message(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CREDO_") and k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    env.update(
        CREDO_SECRET_KEY="a-long-enough-secret-key-for-this-test-0123456789",
        CREDO_ENCRYPTION_KEYS="k1:not-base64!",
        CREDO_DATA_DIR=str(tmp_path),
        CREDO_ENVIRONMENT="development",
        DJANGO_SETTINGS_MODULE="credo.settings",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "credo", "check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "CREDO_ENCRYPTION_KEYS: key 'k1' is not valid base64." in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
