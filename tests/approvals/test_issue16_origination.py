"""Issue 16 item 2 through a real loan application: its creator (``Application.created_by``),
its owner and its submitter are kept off the approval."""

from __future__ import annotations

import pytest

from credo.approvals import services as approvals
from credo.approvals.errors import ConflictOfInterest
from credo.approvals.selectors import instance_for, open_task_of
from credo.origination import services
from credo.origination.models import Application
from tests.origination.conftest import (  # noqa: F401 (fixtures)
    complete,
    customer,
    document_root,
    make_app,
    product_version,
    staff_perms,
)

pytestmark = pytest.mark.django_db


def test_application_creator_is_excluded(make_app, complete, owner, approvers):  # noqa: F811
    a = approvers
    app = complete(make_app())
    # the branch's team lead keyed the application in for the account manager
    Application.objects.filter(pk=app.pk).update(created_by=a["lead"])
    app.refresh_from_db()
    app = services.application_submit(application=app, actor=owner)
    instance = instance_for(app)
    assert instance is not None and instance.route == "standard"
    assert instance.subject_creator_id == a["lead"].pk and instance.owner_id == owner.pk
    assert set(instance.tasks.values_list("assignee_id", flat=True)) == {a["lead2"].pk}
    assert open_task_of(instance, a["lead"]) is None
    task = open_task_of(instance, a["lead2"])
    assert task is not None
    with pytest.raises(ConflictOfInterest) as exc:
        approvals.approval_act(task=task, actor=a["lead"], action="approve")
    assert exc.value.reason == "creator"
    approvals.approval_act(task=task, actor=a["lead2"], action="approve")
    instance.refresh_from_db()
    assert instance.current_step == 1
