"""Issue 23 item 3: the visual approval-flow designer (rows ⇄ definition, validation, designer
operations, route preview) and the engine features it edits (the applicant's manager as an
approver, step conditions)."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from credo.approvals import designer, selectors, services
from credo.approvals.defaults import ORIGINATION_DEFINITION
from credo.approvals.errors import InvalidDefinition
from credo.approvals.models import ApprovalAction, ApprovalInstance, ApprovalTask, FlowVersion
from credo.core.audit.models import AuditEntry
from credo.rules.models import Evaluation
from tests.approvals.conftest import FLOW, _role
from tests.factories import UserFactory

ROLES = {"team_lead", "risk_manager", "finance", "management", "credit_committee"}
USERS = {"risk", "fin"}


def _clean(definition):
    """The definition without keys whose value means 'not set' (None / False)."""
    out = copy.deepcopy(definition)
    for route in out["routes"].values():
        for step in route["steps"]:
            for key in [k for k, v in step.items() if v is None or v is False]:
                del step[key]
    return out


def _post(rows, **extra):
    """The form POST the designer template would send for ``rows``."""
    data = {"routes": str(len(rows["routes"])), **extra}
    if rows["same_approver"]:
        data["same_approver"] = "1"
    for route in designer.decorate(rows, {}):
        data[route["code"]["name"]] = route["code"]["value"]
        data[route["name"]["name"]] = route["name"]["value"]
        data[f"{route['prefix']}-steps"] = str(len(route["steps"]))
        for step in route["steps"]:
            data[f"{step['prefix']}-approvers"] = str(len(step["approvers"]))
            for key in (
                "name",
                "mode",
                "deadline",
                "deadline_unit",
                "esc_type",
                "esc_role",
                "esc_user",
                "condition",
                "max_amount",
            ):
                data[step[key]["name"]] = step[key]["value"]
            if step["branch_scoped"]["value"]:
                data[step["branch_scoped"]["name"]] = "1"
            for ap in step["approvers"]:
                for key in ("type", "role", "user"):
                    data[ap[key]["name"]] = ap[key]["value"]
    return data


def _result(resp):
    """The preview result of a designer response (the pickers list every user too)."""
    html = resp.content.decode()
    assert 'id="preview-result"' in html
    return html[html.index('id="preview-result"') : html.index('id="json-advanced"')]


def _step(**kw):
    row = designer.new_step()
    row.update(kw)
    return row


def _ri(rows, code="standard"):
    """The index of a route in the rows (PostgreSQL's jsonb does not keep key order)."""
    return [r["code"] for r in rows["routes"]].index(code)


def _rows(*steps, code="standard"):
    return {
        "same_approver": False,
        "routes": [{"code": code, "name": "标准", "steps": list(steps)}],
    }


# --- pure: rows ⇄ definition ---------------------------------------------------------------------
def test_default_flow_round_trips_through_the_form():
    rows = designer.definition_to_rows(ORIGINATION_DEFINITION)
    first = rows["routes"][_ri(rows)]["steps"][0]
    assert (first["deadline"], first["deadline_unit"]) == ("1", "days")
    assert first["max_amount"] == "500000" and first["branch_scoped"] is True
    assert (first["esc_type"], first["esc_role"]) == ("role", "credit_committee")
    parsed = designer.rows_from_post(_post(rows))
    assert parsed == rows
    definition, errors = designer.rows_to_definition(parsed, roles=ROLES, users=USERS)
    assert errors == {}
    assert definition == _clean(ORIGINATION_DEFINITION)


def test_every_approver_type_and_condition_is_written():
    rows = _rows(
        _step(
            name="上级审批",
            approvers=[{"type": "manager", "role": "team_lead", "user": ""}],
            deadline="8",
            deadline_unit="hours",
            esc_type="user",
            esc_user="risk",
        ),
        _step(
            name="会签",
            mode="all",
            approvers=[
                {"type": "role", "role": "risk_manager", "user": ""},
                {"type": "user", "role": "", "user": "fin"},
            ],
            deadline="2",
            deadline_unit="days",
            condition="amount_yuan >= 300000",
            max_amount="1000000.5",
        ),
    )
    definition, errors = designer.rows_to_definition(rows, roles=ROLES, users=USERS)
    assert errors == {}
    one, two = definition["routes"]["standard"]["steps"]
    assert one == {
        "name": "上级审批",
        "mode": "any",
        "approvers": [{"manager": "team_lead"}],
        "deadline_hours": 8,
        "escalate_to": {"user": "risk"},
    }
    assert two["approvers"] == [{"role": "risk_manager"}, {"user": "fin"}]
    assert two["mode"] == "all" and two["deadline_hours"] == 48
    assert two["condition"] == "amount_yuan >= 300000" and two["max_amount"] == 100_000_050
    assert designer.definition_to_rows(definition)["routes"][0]["steps"][1]["max_amount"] == (
        "1000000.5"
    )


@pytest.mark.parametrize(
    ("step", "field", "message"),
    [
        ({"approvers": []}, "r0-s0-approvers", "请至少添加一个审批人。"),
        (
            {"approvers": [{"type": "role", "role": "boss", "user": ""}]},
            "r0-s0-a0-role",
            "角色“boss”不存在。",
        ),
        (
            {"approvers": [{"type": "role", "role": "", "user": ""}]},
            "r0-s0-a0-role",
            "请选择角色。",
        ),
        (
            {"approvers": [{"type": "user", "role": "", "user": "ghost"}]},
            "r0-s0-a0-user",
            "人员“ghost”不存在或已停用。",
        ),
        (
            {"approvers": [{"type": "manager", "role": "", "user": ""}]},
            "r0-s0-a0-role",
            "请选择上级所属的角色（如团队主管）。",
        ),
        ({"deadline": "0"}, "r0-s0-deadline", "时限必须是大于 0 的整数。"),
        ({"deadline": "-3"}, "r0-s0-deadline", "时限必须是大于 0 的整数。"),
        ({"deadline": "1.5"}, "r0-s0-deadline", "时限必须是大于 0 的整数。"),
        ({"name": ""}, "r0-s0-name", "请填写步骤名称。"),
        ({"mode": "most"}, "r0-s0-mode", "请选择会签（全部同意）或或签（任一同意）。"),
        ({"max_amount": "-1"}, "r0-s0-max_amount", "审批权限金额必须是大于 0 的金额"),
        ({"max_amount": "1.234"}, "r0-s0-max_amount", "审批权限金额必须是大于 0 的金额"),
        ({"esc_type": "role", "esc_role": "nobody"}, "r0-s0-esc_role", "角色“nobody”不存在。"),
        ({"esc_type": "user", "esc_user": ""}, "r0-s0-esc_user", "请选择审批人员。"),
    ],
)
def test_each_field_is_validated_with_a_chinese_message(step, field, message):
    row = _step(name="第一步", approvers=[{"type": "role", "role": "team_lead", "user": ""}])
    row.update(step)
    _definition, errors = designer.rows_to_definition(
        _rows(row, _step(name="兜底", approvers=[{"type": "role", "role": "finance", "user": ""}])),
        roles=ROLES,
        users=USERS,
    )
    assert message in errors.pop(field)
    assert errors == {}


def test_route_level_problems():
    lead = [{"type": "role", "role": "team_lead", "user": ""}]
    rows = {
        "same_approver": False,
        "routes": [
            {"code": "standard", "name": "", "steps": [_step(name="A", approvers=lead)] * 2},
            {"code": "standard", "name": "重复", "steps": [_step(name="A", approvers=lead)]},
            {"code": "Big Route", "name": "大额", "steps": []},
            {
                "code": "cond",
                "name": "全是条件",
                "steps": [_step(name="A", approvers=lead, condition="amount_yuan > 1")],
            },
            {
                "code": "bad",
                "name": "坏条件",
                "steps": [_step(name="A", approvers=lead, condition="amount_yuan >= ")],
            },
            {"code": "auto", "name": "自动", "steps": []},
        ],
    }
    _definition, errors = designer.rows_to_definition(rows, roles=ROLES, users=USERS)
    assert errors.pop("r0-name") == "请填写路径名称。"
    assert errors.pop("r0-s1-name") == "步骤名称“A”在本路径中重复。"
    assert errors.pop("r1-code") == "路径编码“standard”重复。"
    assert "小写字母" in errors.pop("r2-code")
    assert "没有审批步骤" in errors.pop("r2-steps")
    assert "至少需要一个没有条件的步骤" in errors.pop("r3-steps")
    assert errors.pop("r4-s0-condition").startswith("条件表达式无效：")
    assert "至少需要一个没有条件的步骤" in errors.pop("r4-steps")
    assert errors == {}
    _d, errors = designer.rows_to_definition(
        {"same_approver": False, "routes": []}, roles=ROLES, users=USERS
    )
    assert errors == {"routes": "至少需要一条审批路径。"}


def test_duplicate_approver_in_a_step():
    lead = {"type": "role", "role": "team_lead", "user": ""}
    _d, errors = designer.rows_to_definition(
        _rows(_step(name="A", approvers=[lead, dict(lead)])), roles=ROLES, users=USERS
    )
    assert errors == {"r0-s0-a1-role": "与本步骤的另一个审批人重复。"}


def test_designer_operations():
    rows = _rows(_step(name="A"), _step(name="B"), _step(name="C"))
    rows, focus = designer.apply_op(rows, "up:0:2")
    assert [s["name"] for s in rows["routes"][0]["steps"]] == ["A", "C", "B"]
    assert focus == "up-0-1"
    rows, focus = designer.apply_op(rows, "down:0:0")
    assert [s["name"] for s in rows["routes"][0]["steps"]] == ["C", "A", "B"]
    rows, focus = designer.apply_op(rows, "remove-step:0:1")
    assert [s["name"] for s in rows["routes"][0]["steps"]] == ["C", "B"]
    assert focus == "add-step-0"
    rows, focus = designer.apply_op(rows, "add-step:0")
    assert len(rows["routes"][0]["steps"]) == 3 and focus == "f-r0-s2-name"
    rows, focus = designer.apply_op(rows, "add-approver:0:0")
    assert len(rows["routes"][0]["steps"][0]["approvers"]) == 2 and focus == "f-r0-s0-a1-type"
    rows, _f = designer.apply_op(rows, "remove-approver:0:0:0")
    assert len(rows["routes"][0]["steps"][0]["approvers"]) == 1
    rows, focus = designer.apply_op(rows, "add-route")
    assert len(rows["routes"]) == 2 and focus == "f-r1-code"
    rows, _f = designer.apply_op(rows, "remove-route:1")
    before = copy.deepcopy(rows)
    for op in ("up:0:0", "down:0:2", "remove-step:0:9", "up:7:0", "bogus", "up:x:1", "add-step:"):
        rows, focus = designer.apply_op(rows, op)
        assert rows == before and focus == ""


def test_conditions():
    assert designer.condition_error("amount_yuan >= 300000 and risk_grade in ['C', 'D']") is None
    assert designer.condition_error("amount_yuan >= ") is not None
    data = designer.condition_data({"amount": 40_000_000, "risk_grade": "C"}, flow=FLOW)
    assert data["amount_yuan"] == 400_000
    assert designer.condition_holds("amount_yuan >= 300000", data) == (True, "")
    assert designer.condition_holds("amount_yuan >= 500000", data) == (False, "")
    assert designer.condition_holds("", data) == (True, "")
    # a condition that cannot be evaluated adds the step rather than silently dropping it
    applies, note = designer.condition_holds("missing > 3", data)
    assert applies is True and "条件无法计算" in note


# --- engine: the applicant's manager, step conditions --------------------------------------------
def _draft(actor, change):
    flow = services.ensure_flow(FLOW)
    draft = services.flow_version_create(flow=flow, actor=actor)
    definition = copy.deepcopy(draft.definition)
    change(definition)
    services.flow_version_update(version=draft, definition=definition, actor=actor)
    services.flow_version_publish(version=draft, actor=actor)
    return draft


@pytest.mark.django_db
def test_validate_definition_knows_manager_and_conditions(approvers):
    base = copy.deepcopy(ORIGINATION_DEFINITION)
    base["routes"]["standard"]["steps"][0]["approvers"] = [{"manager": "team_lead"}]
    base["routes"]["standard"]["steps"][1]["condition"] = "amount_yuan > 100000"
    assert services.validate_definition(base) is base
    bad = copy.deepcopy(base)
    bad["routes"]["standard"]["steps"][0]["approvers"] = [{"manager": "boss"}]
    with pytest.raises(InvalidDefinition, match="角色“boss”不存在"):
        services.validate_definition(bad)
    bad = copy.deepcopy(base)
    bad["routes"]["standard"]["steps"][1]["condition"] = "amount_yuan >"
    with pytest.raises(InvalidDefinition, match="条件表达式无效"):
        services.validate_definition(bad)
    bad = copy.deepcopy(base)
    bad["routes"]["standard"]["steps"][0]["condition"] = "months > 1"
    with pytest.raises(InvalidDefinition, match="至少需要一个没有条件的步骤"):
        services.validate_definition(bad)


@pytest.mark.django_db
def test_manager_is_the_team_lead_of_the_applicants_team_else_branch(approvers, owner, org, start):
    def manager_first(definition):
        definition["routes"]["standard"]["steps"][0]["approvers"] = [{"manager": "team_lead"}]
        definition["routes"]["standard"]["steps"][0]["branch_scoped"] = False

    _draft(approvers["cc"], manager_first)
    # owner's team (太原一组) has no team lead: the branch's (赵主管, 太原二组) — never 大同's
    instance = start()
    assert [t.assignee for t in instance.tasks.all()] == [approvers["lead"]]
    own = UserFactory(
        username="lead_a",
        display_name="孙组长",
        org_unit=org["team_a"],
        roles=[_role("team_lead", "团队主管")],
    )
    services.approval_cancel(instance=instance, actor=owner, reason="重来")
    instance = start()
    assert [t.assignee for t in instance.tasks.all()] == [own]


@pytest.mark.django_db
def test_step_condition_skips_and_logs(approvers, owner, start):
    def conditional(definition):
        steps = definition["routes"]["standard"]["steps"]
        steps[0]["condition"] = "amount_yuan >= 300000"

    _draft(approvers["cc"], conditional)
    instance = start(amount=20_000_000)  # 20 万 < 30 万: the team lead's step is skipped
    assert instance.route == "standard" and instance.current_step == 1
    assert {t.role for t in instance.tasks.all()} == {"risk_manager"}
    skipped = instance.actions.get(kind=ApprovalAction.Kind.STEP_DONE)
    assert skipped.detail["skipped"] is True and skipped.detail["step"] == 0
    assert [r["state"] for r in selectors.step_rows(instance)] == ["skipped", "current"]
    task = instance.tasks.get(assignee=approvers["risk"])
    services.approval_act(task=task, actor=approvers["risk"], action="approve")
    instance.refresh_from_db()
    assert instance.status == ApprovalInstance.Status.APPROVED

    # a second application of 40 万 takes both steps
    big = start(amount=40_000_000, subj=approvers["gm"])
    assert big.current_step == 0
    assert set(big.tasks.values_list("role", flat=True)) == {"team_lead"}


# --- views ---------------------------------------------------------------------------------------
@pytest.fixture
def admin(approvers):
    user = UserFactory(username="flowadmin", roles=[_role("admin", "系统管理员")])
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="approvals", codename="manage_flows")
    )
    return user


@pytest.fixture
def draft(admin):
    flow = services.ensure_flow(FLOW)
    return services.flow_version_create(flow=flow, actor=admin)


@pytest.mark.django_db
def test_designer_is_the_default_editor(client, admin, draft):
    client.force_login(admin)
    html = client.get(f"/approvals/versions/{draft.pk}/").content.decode()
    r = _ri(designer.definition_to_rows(draft.definition))
    assert 'id="designer-form"' in html and f'name="r{r}-s0-name"' in html
    assert 'value="分支机构负责人审批"' in html and 'id="save-draft"' in html
    # every designer input has a label
    for name in ("name", "a0-type", "a0-role", "a0-user", "deadline", "esc_type", "condition"):
        field_id = f"f-r{r}-s0-{name}"
        assert f'for="{field_id}"' in html and f'id="{field_id}"' in html


@pytest.mark.django_db
def test_designer_buttons_rerender_without_saving(client, admin, draft):
    client.force_login(admin)
    rows = designer.definition_to_rows(draft.definition)
    before = AuditEntry.objects.count()
    r = _ri(rows)
    resp = client.post(f"/approvals/versions/{draft.pk}/", _post(rows, op=f"add-step:{r}"))
    html = resp.content.decode()
    assert resp.status_code == 200 and f'name="r{r}-s2-name"' in html
    assert f'data-focus="f-r{r}-s2-name"' in html and "有未保存的修改" in html
    draft.refresh_from_db()
    assert len(draft.definition["routes"]["standard"]["steps"]) == 2
    assert AuditEntry.objects.count() == before


@pytest.mark.django_db
def test_save_with_errors_changes_nothing(client, admin, draft):
    client.force_login(admin)
    saved = copy.deepcopy(draft.definition)
    rows = designer.definition_to_rows(draft.definition)
    rows["routes"][_ri(rows)]["steps"][0]["approvers"] = []
    rows["routes"][_ri(rows)]["steps"][1]["name"] = rows["routes"][_ri(rows)]["steps"][0]["name"]
    rows["routes"][_ri(rows)]["steps"][1]["deadline"] = "0"
    resp = client.post(f"/approvals/versions/{draft.pk}/", _post(rows, op="save"))
    html = resp.content.decode()
    assert resp.status_code == 200 and 'id="designer-errors"' in html
    assert "请至少添加一个审批人。" in html and "在本路径中重复" in html
    assert "时限必须是大于 0 的整数。" in html
    assert f'href="#f-r{_ri(rows)}-s1-deadline"' in html and 'aria-invalid="true"' in html
    draft.refresh_from_db()
    assert draft.definition == saved


@pytest.mark.django_db
def test_save_publish_and_audit(client, admin, draft, approvers):
    client.force_login(admin)
    rows = designer.definition_to_rows(draft.definition)
    rows["routes"][_ri(rows)]["steps"][0]["approvers"] = [
        {"type": "manager", "role": "team_lead", "user": ""}
    ]
    rows["routes"][_ri(rows)]["steps"][0]["deadline"] = "12"
    rows["routes"][_ri(rows)]["steps"][0]["deadline_unit"] = "hours"
    rows["routes"][_ri(rows)]["steps"].append(
        _step(
            name="财务复核",
            approvers=[{"type": "user", "role": "", "user": "fin"}],
            condition="amount_yuan >= 300000",
        )
    )
    resp = client.post(
        f"/approvals/versions/{draft.pk}/", _post(rows, op="save", note="上级审批 + 财务复核")
    )
    assert resp.status_code == 302
    draft.refresh_from_db()
    steps = draft.definition["routes"]["standard"]["steps"]
    assert steps[0]["approvers"] == [{"manager": "team_lead"}]
    assert steps[0]["deadline_hours"] == 12
    assert steps[2] == {
        "name": "财务复核",
        "mode": "any",
        "approvers": [{"user": "fin"}],
        "condition": "amount_yuan >= 300000",
    }
    assert draft.note == "上级审批 + 财务复核"
    assert AuditEntry.objects.filter(action="approvals.version_update", actor_id=admin.pk).exists()
    client.post(f"/approvals/versions/{draft.pk}/publish/")
    draft.refresh_from_db()
    assert draft.status == FlowVersion.Status.PUBLISHED
    # a published version is read-only: a designer save is refused and changes nothing
    resp = client.post(
        f"/approvals/versions/{draft.pk}/", _post(rows, op=f"remove-step:{_ri(rows)}:0")
    )
    assert resp.status_code == 302
    draft.refresh_from_db()
    assert len(draft.definition["routes"]["standard"]["steps"]) == 3
    html = client.get(f"/approvals/versions/{draft.pk}/").content.decode()
    assert 'id="readonly-note"' in html and 'id="save-draft"' not in html


@pytest.mark.django_db
def test_preview_of_a_sample_writes_nothing(client, admin, draft, approvers, owner):
    client.force_login(admin)
    rows = designer.definition_to_rows(draft.definition)
    rows["routes"][_ri(rows)]["steps"].append(
        _step(
            name="财务复核",
            approvers=[{"type": "user", "role": "", "user": "fin"}],
            condition="amount_yuan >= 300000",
        )
    )
    counts = (
        AuditEntry.objects.count(),
        Evaluation.objects.count(),
        ApprovalInstance.objects.count(),
        ApprovalTask.objects.count(),
    )
    sample = {
        "op": "preview",
        "pv-amount": "200000",
        "pv-months": "12",
        "pv-risk_grade": "B",
        "pv-applicant": str(owner.pk),
    }
    html = _result(client.post(f"/approvals/versions/{draft.pk}/", _post(rows, **sample)))
    assert 'id="preview-route">标准审批' in html
    assert "赵主管" in html and "孙风控" in html and "周风控" in html
    assert "跳过（条件不满足）" in html and "吴财务" not in html
    sample["pv-amount"] = "400000"
    html = _result(client.post(f"/approvals/versions/{draft.pk}/", _post(rows, **sample)))
    assert "吴财务" in html and "跳过（条件不满足）" not in html
    sample["pv-amount"] = "20000"
    sample["pv-risk_grade"] = "A"
    html = _result(client.post(f"/approvals/versions/{draft.pk}/", _post(rows, **sample)))
    assert 'id="preview-auto"' in html
    assert counts == (
        AuditEntry.objects.count(),
        Evaluation.objects.count(),
        ApprovalInstance.objects.count(),
        ApprovalTask.objects.count(),
    )
    draft.refresh_from_db()
    assert len(draft.definition["routes"]["standard"]["steps"]) == 2


@pytest.mark.django_db
def test_preview_of_an_existing_application(client, admin, start, approvers):
    instance = start(amount=60_000_000, grade="B")
    assert instance.route == "large"
    flow = services.ensure_flow(FLOW)
    draft = services.flow_version_create(flow=flow, actor=admin)
    client.force_login(admin)
    html = _result(
        client.post(
            f"/approvals/versions/{draft.pk}/",
            _post(
                designer.definition_to_rows(draft.definition),
                op="preview",
                **{"pv-instance": str(instance.pk)},
            ),
        )
    )
    assert 'id="preview-route">大额会签' in html
    assert "吴财务" in html and "郑总" in html and "孙风控" in html
    # an application outside the user's data scope is neither offered nor previewed
    narrow = UserFactory(username="flowadmin2")
    narrow.user_permissions.add(
        Permission.objects.get(content_type__app_label="approvals", codename="manage_flows")
    )
    client.force_login(narrow)
    resp = client.post(
        f"/approvals/versions/{draft.pk}/",
        _post(
            designer.definition_to_rows(draft.definition),
            op="preview",
            **{"pv-instance": str(instance.pk)},
        ),
    )
    html = resp.content.decode()
    assert 'id="preview-result"' not in html and instance.title not in html


@pytest.mark.django_db
def test_preview_flags_a_route_the_version_lacks(client, admin, draft):
    client.force_login(admin)
    rows = designer.definition_to_rows(draft.definition)
    rows["routes"] = [r for r in rows["routes"] if r["code"] != "large"]
    html = client.post(
        f"/approvals/versions/{draft.pk}/",
        _post(rows, op="preview", **{"pv-amount": "900000", "pv-risk_grade": "B"}),
    ).content.decode()
    assert "在本版本中没有定义" in html


@pytest.mark.django_db
def test_designer_requires_manage_flows(client, approvers, draft):
    client.force_login(approvers["lead"])
    assert client.get(f"/approvals/versions/{draft.pk}/").status_code == 403
    assert client.post(f"/approvals/versions/{draft.pk}/", {"op": "preview"}).status_code == 403


@pytest.mark.django_db
def test_overdue_task_escalates_to_the_applicants_manager(approvers, org, start):
    own = UserFactory(
        username="lead_a",
        display_name="孙组长",
        org_unit=org["team_a"],
        roles=[_role("team_lead", "团队主管")],
    )

    def escalate_to_manager(definition):
        step = definition["routes"]["standard"]["steps"][1]
        step["deadline_hours"] = 2
        step["escalate_to"] = {"manager": "team_lead"}

    _draft(approvers["cc"], escalate_to_manager)
    instance = start()
    first = instance.tasks.get(step=0, assignee=approvers["lead"])
    services.approval_act(task=first, actor=approvers["lead"], action="approve")
    risk_tasks = list(instance.tasks.filter(step=1))
    assert {t.assignee for t in risk_tasks} == {approvers["risk"], approvers["risk2"]}
    # the first overdue task goes to the manager; the second finds them already holding one
    assert services.approvals_escalate_overdue(now=timezone.now() + dt.timedelta(hours=3)) == 1
    escalated = instance.tasks.get(step=1, status=ApprovalTask.Status.ESCALATED)
    new = instance.tasks.get(step=1, previous=escalated)
    assert new.assignee == own and new.status == ApprovalTask.Status.OPEN


@pytest.mark.django_db
def test_a_deactivated_person_stays_visible_and_is_refused_on_save(client, admin, approvers):
    flow = services.ensure_flow(FLOW)
    draft = services.flow_version_create(flow=flow, actor=admin)
    definition = copy.deepcopy(draft.definition)
    definition["routes"]["standard"]["steps"][1]["approvers"] = [{"user": "risk2"}]
    services.flow_version_update(version=draft, definition=definition, actor=admin)
    draft.refresh_from_db()
    approvers["risk2"].is_active = False
    approvers["risk2"].save()
    client.force_login(admin)
    html = client.get(f"/approvals/versions/{draft.pk}/").content.decode()
    assert '<option value="risk2" selected>' in html
    rows = designer.definition_to_rows(draft.definition)
    resp = client.post(f"/approvals/versions/{draft.pk}/", _post(rows, op="save"))
    assert "人员“risk2”不存在或已停用。" in resp.content.decode()
