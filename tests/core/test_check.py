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


LENDER = {
    "CREDO_ORG_NAME": "晋信小额贷款有限公司",
    "CREDO_ORG_USCC": "91140100MA0L00000N",
    "CREDO_ORG_ADDRESS": "山西省太原市小店区示例路1号",
}


@pytest.mark.django_db
@pytest.mark.parametrize("missing", sorted(LENDER))
def test_check_deploy_fails_without_lender_identity(settings, missing):
    """Issue 15, item 11: a contract named the lender "Credo" because nothing was configured."""
    for name, value in LENDER.items():
        setattr(settings, name, "" if name == missing else value)
    out = io.StringIO()
    with pytest.raises(CommandError, match="configuration error"):
        call_command("check", "--deploy", stdout=out)
    assert f"[{missing}]" in out.getvalue()


def test_invalid_lender_uscc_is_named(settings):
    for name, value in LENDER.items():
        setattr(settings, name, value)
    settings.CREDO_ORG_USCC = "91140100MA0L000001"
    [finding] = checks.check_lender_identity(deploy=True)
    assert finding.level == checks.ERROR and finding.variable == "CREDO_ORG_USCC"


def test_lender_identity_complete_passes(settings):
    for name, value in LENDER.items():
        setattr(settings, name, value)
    [finding] = checks.check_lender_identity(deploy=True)
    assert finding.level == checks.OK


def test_lender_identity_only_warned_outside_deploy(settings):
    settings.CREDO_ORG_NAME = ""
    findings = checks.check_lender_identity(deploy=False)
    assert findings and all(f.level == checks.WARNING for f in findings)


def test_demo_env_configures_a_demo_lender(tmp_path):
    from dotenv import dotenv_values

    from credo.core.validators import is_valid_uscc
    from credo.devsecrets import render

    values = dotenv_values(stream=io.StringIO(render(tmp_path)))
    assert values["CREDO_ORG_NAME"] and "演示" in values["CREDO_ORG_NAME"]
    assert is_valid_uscc(values["CREDO_ORG_USCC"]) and values["CREDO_ORG_ADDRESS"]


def test_contract_terms_never_invent_a_lender(settings):
    from credo.core.lender import contract_terms

    settings.CREDO_ORG_NAME = ""
    assert contract_terms()["lender"] == "【未配置】"
    for name, value in LENDER.items():
        setattr(settings, name, value)
    assert contract_terms() == {
        "lender": "晋信小额贷款有限公司",
        "lender_uscc": "91140100MA0L00000N",
        "lender_address": "山西省太原市小店区示例路1号",
    }
