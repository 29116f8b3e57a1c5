import base64
import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from credo.core.audit.models import AuditEntry
from credo.core.crypto import (
    DecryptionError,
    blind_index,
    decrypt,
    encrypt,
    generate_key_entry,
    key_id_of,
    parse_keys,
)
from credo.core.sensitive import get_sensitive_field
from tests.testapp.models import SecretRecord

ID = "11010519491231002X"
K_OLD = "k1:" + base64.b64encode(b"o" * 32).decode()
K_NEW = "k9:" + base64.b64encode(b"n" * 32).decode()


@given(st.text(max_size=200))
@hsettings(max_examples=50)
def test_round_trip_any_text(text):
    ring = parse_keys(K_NEW)
    token = encrypt(text, aad="a.b.c", ring=ring)
    assert decrypt(token, aad="a.b.c", ring=ring) == text


def test_ciphertext_bound_to_field_and_key():
    ring = parse_keys(f"{K_NEW},{K_OLD}")
    token = encrypt(ID, aad="customers.customer.id_number", ring=ring)
    assert key_id_of(token) == "k9"
    assert encrypt(ID, aad="x", ring=ring) != encrypt(ID, aad="x", ring=ring)  # random nonce
    with pytest.raises(DecryptionError):
        decrypt(token, aad="customers.customer.phone", ring=ring)
    with pytest.raises(DecryptionError, match="not configured"):
        decrypt(token, aad="customers.customer.id_number", ring=parse_keys(K_OLD))
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(DecryptionError):
        decrypt(tampered, aad="customers.customer.id_number", ring=ring)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("nokid", "kid:base64key"),
        ("k1:not-base64!", "not valid base64"),
        ("k1:" + base64.b64encode(b"short").decode(), "32 bytes"),
        (f"{K_OLD},{K_OLD}", "listed twice"),
    ],
)
def test_bad_key_lists_name_the_variable(text, message):
    with pytest.raises(ImproperlyConfigured, match=message) as exc:
        parse_keys(text)
    assert "CREDO_ENCRYPTION_KEYS" in str(exc.value)


def test_generate_key_entry_parses():
    ring = parse_keys(generate_key_entry("2026a"))
    assert ring.primary == "2026a"


@pytest.mark.django_db
def test_field_stores_ciphertext_and_finds_by_blind_index():
    rec = SecretRecord.objects.create(name="张三", id_number=ID.lower(), phone="138 0013 8000")
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM testapp_secretrecord WHERE id = %s", [rec.pk])
        raw_id, raw_phone = cursor.fetchone()
    assert raw_id.startswith("v1:") and ID not in raw_id and "13800138000" not in raw_phone
    fresh = SecretRecord.objects.get(pk=rec.pk)
    assert fresh.id_number == ID.lower()
    # Same person typed differently (upper-case X, +86 prefix) → same index.
    assert SecretRecord.objects.get(id_number_bidx=blind_index(ID, kind="id_number")) == rec
    assert SecretRecord.objects.get(phone_bidx=blind_index("+8613800138000", kind="phone")) == rec
    assert blind_index("", kind="phone") == ""
    with pytest.raises(TypeError, match="BlindIndexField"):
        SecretRecord.objects.filter(id_number=ID).count()


def test_encrypted_fields_register_as_sensitive():
    entry = get_sensitive_field("testapp.secretrecord.id_number")
    assert entry is not None and entry.mask_kind == "id_number"


@pytest.mark.django_db
def test_rotation_reencrypts_everything_and_is_audited(settings):
    settings.ENCRYPTION_KEYS = K_OLD
    records = [SecretRecord.objects.create(name=f"r{i}", id_number=ID, phone="") for i in range(7)]
    settings.ENCRYPTION_KEYS = f"{K_NEW},{K_OLD}"
    out = io.StringIO()
    call_command("keys", "status", stdout=out)
    assert "testapp.secretrecord.id_number: k1: 7" in out.getvalue()

    call_command("keys", "rotate", "--batch", "3", stdout=io.StringIO())
    out = io.StringIO()
    call_command("keys", "status", stdout=out)
    assert "testapp.secretrecord.id_number: k9: 7" in out.getvalue()
    settings.ENCRYPTION_KEYS = K_NEW  # old key removed: values still readable
    assert {r.id_number for r in SecretRecord.objects.filter(pk__in=[r.pk for r in records])} == {
        ID
    }
    assert AuditEntry.objects.filter(action="keys.rotate").count() == 1
    # Re-running is a no-op.
    out = io.StringIO()
    call_command("keys", "rotate", stdout=out)
    assert "re-encrypted 0 value(s)" in out.getvalue()


@pytest.mark.django_db
def test_rotation_reports_values_it_cannot_read(settings):
    settings.ENCRYPTION_KEYS = K_OLD
    SecretRecord.objects.create(name="x", id_number=ID)
    settings.ENCRYPTION_KEYS = K_NEW  # old key lost
    with pytest.raises(CommandError, match="could not be decrypted"):
        call_command("keys", "rotate", stdout=io.StringIO())
