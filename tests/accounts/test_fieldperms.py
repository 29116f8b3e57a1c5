from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from credo.accounts.fieldperms import display_value, field_access
from credo.accounts.models import FieldPermission
from credo.core.audit.models import AuditEntry
from credo.core.sensitive import register_sensitive_field
from tests.factories import RoleFactory, UserFactory
from tests.testapp.models import ScopedRecord

pytestmark = pytest.mark.django_db

KEY = "testapp.scopedrecord.name"


@pytest.fixture(autouse=True)
def _name_is_sensitive():
    """Registered for these tests only: a global registration would make every "name" look
    like a phone number to the audit log's masking in the rest of the suite."""
    from credo.core.sensitive import sensitive_registry

    register_sensitive_field(KEY, "名称", "phone")
    yield
    sensitive_registry.unregister(KEY)


@pytest.fixture
def record(owner):
    return ScopedRecord.objects.create(name="13812345678", owner=owner)


def test_sensitive_field_masked_by_default(owner, record):
    assert field_access(owner, KEY) == "masked"
    assert display_value(owner, record, "name") == "138****5678"
    assert not AuditEntry.objects.filter(action="sensitive.read").exists()


def test_non_sensitive_field_is_editable(owner):
    assert field_access(owner, "testapp.scopedrecord.owner") == "edit"


def test_view_grant_shows_clear_value_and_audits(owner, record, manager_role):
    FieldPermission.objects.create(role=manager_role, field_key=KEY, can_view=True)
    assert field_access(owner, KEY) == "view"
    assert display_value(owner, record, "name", purpose="call") == "13812345678"
    entry = AuditEntry.objects.get(action="sensitive.read")
    assert entry.actor_id == owner.pk
    assert entry.object_id == str(record.pk)
    assert entry.metadata == {"field": KEY, "purpose": "call"}


def test_edit_wins_across_roles(owner, manager_role):
    other = RoleFactory(code="editor", name="编辑")
    FieldPermission.objects.create(role=manager_role, field_key=KEY, can_view=True)
    FieldPermission.objects.create(role=other, field_key=KEY, can_view=True, can_edit=True)
    owner.roles.add(other)
    assert field_access(owner, KEY) == "edit"


def test_access_is_cached_per_user_object(owner, manager_role, django_assert_num_queries):
    FieldPermission.objects.create(role=manager_role, field_key=KEY, can_view=True)
    with django_assert_num_queries(1):
        assert field_access(owner, KEY) == "view"
        assert field_access(owner, KEY) == "view"


def test_superuser_and_inactive(record, manager_role):
    root = UserFactory(username="root", is_superuser=True)
    assert field_access(root, KEY) == "edit"
    FieldPermission.objects.create(role=manager_role, field_key=KEY, can_view=True)
    gone = UserFactory(username="gone", is_active=False, roles=[manager_role])
    assert field_access(gone, KEY) == "masked"


def test_template_tag(owner, colleague, record, manager_role):
    tpl = Template('{% load fieldperms %}[{% sensitive obj "name" %}]')
    request = RequestFactory().get("/")
    request.user = owner
    assert tpl.render(Context({"obj": record, "request": request})) == "[138****5678]"
    FieldPermission.objects.create(role=manager_role, field_key=KEY, can_view=True)
    request.user = colleague  # fresh user object, no cached grants
    assert tpl.render(Context({"obj": record, "request": request})) == "[13812345678]"
    assert AuditEntry.objects.filter(action="sensitive.read", actor_id=colleague.pk).count() == 1
