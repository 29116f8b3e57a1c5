# ruff: noqa: F811  (pytest fixtures imported by name)
"""Stored application documents are deleted from storage: by a deletion (anonymization) and
by the retention policy for applicants who were not approved — never under a legal hold."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from credo.origination import documents as storage
from credo.origination.models import Application, Document
from credo.privacy import anonymize, services
from credo.privacy.models import LegalHold
from tests.origination.conftest import (  # noqa: F401  (fixtures)
    complete,
    customer,
    document_root,
    make_app,
    make_customer,
    product_version,
    staff_perms,
)

pytestmark = pytest.mark.django_db


def _files(app):
    return [
        storage.path_of(n)
        for n in Document.objects.filter(application=app).values_list("stored_name", flat=True)
    ]


def test_anonymization_deletes_the_stored_files(
    officer, customer, make_app, complete, django_capture_on_commit_callbacks
):
    app = complete(make_app())
    paths = _files(app)
    assert len(paths) == 2 and all(p.exists() for p in paths)
    with django_capture_on_commit_callbacks(execute=True):
        done = anonymize.anonymize_customer(customer, actor=officer)
    assert done.documents == 2
    assert not Document.objects.filter(application=app).exists()
    assert not any(p.exists() for p in paths)


def test_rejected_applicants_documents_expire_except_under_hold(
    officer, owner, customer, make_app, complete, django_capture_on_commit_callbacks
):
    other = make_customer(owner, n=2)
    old = timezone.now() - dt.timedelta(days=400)
    a = complete(make_app())
    b = complete(make_app(cust=other))
    recent = complete(make_app())
    Application.objects.filter(pk__in=[a.pk, b.pk]).update(status="rejected", decided_at=old)
    Application.objects.filter(pk=recent.pk).update(status="rejected", decided_at=timezone.now())
    LegalHold.objects.create(customer=other, reason="诉讼", placed_by=officer)
    a_paths = _files(a)
    with django_capture_on_commit_callbacks(execute=True):
        run = services.retention_run(actor=officer)
    item = run.report["rejected_documents"]
    assert item["removed"] == 2 and item["skipped_held"] == 2
    assert not any(p.exists() for p in a_paths)
    assert Document.objects.filter(application=b).count() == 2
    assert Document.objects.filter(application=recent).count() == 2
