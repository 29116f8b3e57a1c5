import io
import json

import pytest
from django.core.management import CommandError, call_command

from credo.accounts.management.commands.seed_demo import DEMO_USERS
from credo.accounts.models import User
from credo.accounts.roles import DEFAULT_ROLES


@pytest.mark.django_db
def test_seed_demo_creates_one_user_per_role_and_is_idempotent(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    role_codes = {role.code for role in DEFAULT_ROLES}
    seeded_roles = {role for _, _, role, _ in DEMO_USERS}
    assert role_codes <= seeded_roles
    creds = json.loads((tmp_path / "demo-credentials.json").read_text())
    assert (tmp_path / "demo-credentials.json").stat().st_mode & 0o077 == 0
    zhang = User.objects.get(username="zhangwei")
    assert zhang.check_password(creds["zhangwei"])
    assert "account_manager" in zhang.role_codes
    assert creds["zhangwei"] in out.getvalue()

    call_command("seed_demo", stdout=io.StringIO())  # second run: nothing doubled or changed
    assert User.objects.filter(username="zhangwei").count() == 1
    assert User.objects.get(username="zhangwei").check_password(creds["zhangwei"])


@pytest.mark.django_db
def test_seed_demo_refuses_production(settings):
    settings.ENVIRONMENT = "production"
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo", stdout=io.StringIO())
