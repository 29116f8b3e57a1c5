import io

import pytest
from django.core.management import CommandError, call_command

from credo.core import checks


@pytest.mark.django_db
def test_check_passes_in_test_environment():
    out = io.StringIO()
    call_command("check", stdout=out)
    assert "database reachable" in out.getvalue()
    assert "CREDO_ENCRYPTION_KEYS" in out.getvalue()


@pytest.mark.django_db
def test_debug_in_production_and_placeholder_secret_are_errors(settings):
    settings.ENVIRONMENT = "production"
    settings.DEBUG = True
    out = io.StringIO()
    with pytest.raises(CommandError, match="configuration error"):
        call_command("check", stdout=out)
    text = out.getvalue()
    assert "[CREDO_DEBUG]" in text and "[CREDO_SECRET_KEY]" in text


def test_inline_key_material_warned_in_production(settings, monkeypatch):
    settings.ENVIRONMENT = "production"
    monkeypatch.setenv("CREDO_ENCRYPTION_KEYS", settings.ENCRYPTION_KEYS)
    findings = checks.check_encryption_keys()
    assert any(f.code == "credo.W011" and f.variable == "CREDO_ENCRYPTION_KEYS" for f in findings)


def test_bad_key_list_is_an_error(settings):
    settings.ENCRYPTION_KEYS = "k1:xyz"
    [finding] = checks.check_encryption_keys()
    assert finding.level == checks.ERROR and "CREDO_ENCRYPTION_KEYS" in finding.message


def test_world_readable_secret_file(tmp_path, monkeypatch, settings):
    secret = tmp_path / "key"
    secret.write_text("x")
    secret.chmod(0o644)
    monkeypatch.setenv("CREDO_SECRET_KEY_FILE", str(secret))
    settings.ENVIRONMENT = "production"
    findings = checks.check_secret_files()
    assert findings and findings[0].level == checks.ERROR and "chmod 600" in findings[0].message


def test_unreachable_database_named(settings):
    from django.db import connections

    conn = connections["default"]
    original = conn.settings_dict.copy()
    try:
        conn.close()
        conn.settings_dict.update(
            {"ENGINE": "django.db.backends.postgresql", "HOST": "127.0.0.1", "PORT": "1"}
        )
        [finding] = checks.check_database_reachable()
    finally:
        conn.close()
        conn.settings_dict.clear()
        conn.settings_dict.update(original)
    assert finding.level == checks.ERROR and finding.variable == "DATABASE_URL"
