"""自动化 pages: list, detail (versions, test cases, run log), editor, try (dry run and
replay), test run, publish / retire / discard, run detail."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.automations import actions as action_types
from credo.automations import engine, selectors, services, triggers
from credo.automations.errors import AutomationError
from credo.automations.forms import ACTION_SLOTS, CreateForm, TestCaseForm, TryForm, VersionForm
from credo.automations.models import AutomationRun, AutomationVersion

VIEW = "automations.view_automation"
MANAGE = "automations.manage_automation"

STATUS_BADGE: dict[str, str] = {
    AutomationVersion.Status.PUBLISHED: "bg-green-lt",
    AutomationVersion.Status.DRAFT: "bg-yellow-lt",
    AutomationVersion.Status.RETIRED: "bg-secondary-lt",
}
RUN_BADGE: dict[str, str] = {
    AutomationRun.Status.DONE: "bg-green-lt",
    AutomationRun.Status.SKIPPED: "bg-secondary-lt",
    AutomationRun.Status.FAILED: "bg-red-lt",
    AutomationRun.Status.BLOCKED: "bg-orange-lt",
}


def _errors(exc: AutomationError) -> str:
    if not exc.field_errors:
        return exc.message
    return exc.message + " " + "；".join(str(v) for v in exc.field_errors.values())


def _detail(pk: int) -> HttpResponse:
    return redirect("automations:detail", pk=pk)


@login_required
@permission_required(VIEW, raise_exception=True)
def automation_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.automation_list(), 25).get_page(request.GET.get("page"))
    return render(request, "automations/list.html", {"page": page})


@login_required
@permission_required(MANAGE, raise_exception=True)
def automation_new(request: HttpRequest) -> HttpResponse:
    form = CreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.automation_create(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                actor=request.user,
            )
        except AutomationError as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(request, _("已创建，请配置触发条件与动作。"))
            return redirect("automations:version_edit", pk=version.automation_id, number=1)
    return render(request, "automations/new.html", {"form": form})


@login_required
@permission_required(VIEW, raise_exception=True)
def automation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    automation = selectors.automation_get(pk)
    status = request.GET.get("status", "")
    runs = Paginator(selectors.runs_of(automation, status=status), 20).get_page(
        request.GET.get("page")
    )
    versions = [
        {
            "v": v,
            "badge": STATUS_BADGE.get(v.status, ""),
            "trigger": triggers.describe(v.trigger or {}),
        }
        for v in selectors.versions_of(automation)
    ]
    return render(
        request,
        "automations/detail.html",
        {
            "automation": automation,
            "versions": versions,
            "draft": selectors.draft_of(automation),
            "cases": [
                (c, json.dumps(c.input, ensure_ascii=False)) for c in automation.test_cases.all()
            ],
            "case_form": TestCaseForm(),
            "runs": runs,
            "run_badge": RUN_BADGE,
            "run_statuses": AutomationRun.Status.choices,
            "status": status,
        },
    )


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def version_new(request: HttpRequest, pk: int) -> HttpResponse:
    automation = selectors.automation_get(pk)
    source = None
    if request.POST.get("from"):
        source = selectors.version_get(automation, int(request.POST["from"]))
    try:
        draft = services.version_new(automation=automation, actor=request.user, source=source)
    except AutomationError as exc:
        messages.error(request, _errors(exc))
        return _detail(pk)
    messages.success(request, _("已创建草稿 v%(n)d。") % {"n": draft.number})
    return redirect("automations:version_edit", pk=pk, number=draft.number)


TRIGGER_WHEN = {
    "event": "event",
    "changed_fields": "event",
    "equals": "event",
    "to_state": "transition",
    "from_state": "transition",
    "date_field": "date",
    "days": "date,eod",
    "eod_result": "eod",
    "to_class": "eod",
    "severity": "alert",
    "cron": "cron",
    "cron_object": "cron",
}
ACTION_WHEN = {
    "user": "assign_owner",
    "title": "todo,approval",
    "due_days": "todo",
    "assignee": "todo",
    "template": "notify",
    "channel": "notify",
    "recipient": "notify",
    "to": "status",
    "flow": "approval",
    "flag": "risk_flag",
    "on": "risk_flag",
    "record_type": "record",
    "values": "record",
    "endpoint": "webhook",
}


def _action_rows(form: VersionForm) -> list[dict[str, Any]]:
    return [
        {
            "i": i,
            "type": form[f"a{i}_type"],
            "fields": [(form[f"a{i}_{n}"], w) for n, w in ACTION_WHEN.items()],
        }
        for i in range(1, ACTION_SLOTS + 1)
    ]


@login_required
@permission_required(VIEW, raise_exception=True)
def version_edit(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    automation = selectors.automation_get(pk)
    version = selectors.version_get(automation, number)
    editable = version.status == AutomationVersion.Status.DRAFT and request.user.has_perm(MANAGE)
    if request.method == "POST" and editable:
        form = VersionForm(request.POST)
        if form.is_valid():
            trigger, condition, actions, parse_errors = form.to_json()
            if parse_errors:
                for name, msg in parse_errors.items():
                    form.add_error(name, msg)
            else:
                try:
                    services.version_update(
                        version=version,
                        actor=request.user,
                        trigger=trigger,
                        condition=condition,
                        actions=actions,
                        note=form.cleaned_data.get("note") or "",
                    )
                except AutomationError as exc:
                    messages.error(request, _errors(exc))
                else:
                    messages.success(request, _("草稿已保存。"))
                    return redirect("automations:version_edit", pk=pk, number=number)
        else:
            messages.error(request, _("请检查标出的项目。"))
    else:
        form = VersionForm(initial=VersionForm.initial_from(version))
    return render(
        request,
        "automations/version_edit.html",
        {
            "automation": automation,
            "version": version,
            "form": form,
            "editable": editable,
            "action_rows": _action_rows(form),
            "trigger_rows": [(form[n], w) for n, w in TRIGGER_WHEN.items()],
            "trigger_text": triggers.describe(version.trigger or {}),
            "action_texts": [action_types.describe(a) for a in version.actions or []],
            "badge": STATUS_BADGE.get(version.status, ""),
            "try_form": TryForm(),
            "missing": services.missing_permissions(version, request.user) if editable else [],
        },
    )


@login_required
@permission_required(MANAGE, raise_exception=True)
def version_try(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """试运行 (existing records) or 回放 (event history of the last N days): nothing written."""
    automation = selectors.automation_get(pk)
    version = selectors.version_get(automation, number)
    mode = "replay" if request.GET.get("mode") == "replay" else "dry"
    form = TryForm(request.GET or None)
    days = 7
    if form.is_valid() and form.cleaned_data.get("days"):
        days = form.cleaned_data["days"]
    problems = services.validate_version(version)
    results: list[dict[str, Any]] = []
    if not problems:
        found = engine.replay(version, days=days) if mode == "replay" else engine.dry_run(version)
        results = [r.as_dict() for r in found]
    firing = [r for r in results if r["fires"]]
    return render(
        request,
        "automations/version_try.html",
        {
            "automation": automation,
            "version": version,
            "mode": mode,
            "days": days,
            "problems": problems,
            "results": results,
            "firing": len(firing),
            "try_form": form if form.is_bound else TryForm(initial={"days": days}),
        },
    )


@login_required
@permission_required(VIEW, raise_exception=True)
def version_tests(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    automation = selectors.automation_get(pk)
    version = selectors.version_get(automation, number)
    results = services.run_tests(version)
    return render(
        request,
        "automations/version_tests.html",
        {
            "automation": automation,
            "version": version,
            "results": results,
            "all_passed": bool(results) and all(r["passed"] for r in results),
        },
    )


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def version_publish(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    automation = selectors.automation_get(pk)
    version = selectors.version_get(automation, number)
    try:
        services.version_publish(version=version, actor=request.user)
    except AutomationError as exc:
        messages.error(request, _errors(exc))
        return redirect("automations:version_edit", pk=pk, number=number)
    messages.success(request, _("已发布 v%(n)d，自动化已生效。") % {"n": number})
    return _detail(pk)


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def version_retire(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    automation = selectors.automation_get(pk)
    version = selectors.version_get(automation, number)
    try:
        services.version_retire(version=version, actor=request.user)
    except AutomationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, _("已停用 v%(n)d。") % {"n": number})
    return _detail(pk)


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def version_discard(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    automation = selectors.automation_get(pk)
    version = selectors.version_get(automation, number)
    try:
        services.version_discard(version=version, actor=request.user)
    except AutomationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, _("草稿已删除。"))
    return _detail(pk)


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def testcase_create(request: HttpRequest, pk: int) -> HttpResponse:
    automation = selectors.automation_get(pk)
    form = TestCaseForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return _detail(pk)
    try:
        services.testcase_create(
            automation=automation,
            name=form.cleaned_data["name"],
            input=form.cleaned_data["input"],
            expected_fire=form.cleaned_data["expected_fire"] == "1",
            actor=request.user,
        )
    except AutomationError as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, _("测试用例已添加。"))
    return _detail(pk)


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def testcase_delete(request: HttpRequest, pk: int, case: int) -> HttpResponse:
    automation = selectors.automation_get(pk)
    obj = automation.test_cases.filter(pk=case).first()
    if obj is not None:
        services.testcase_delete(case=obj, actor=request.user)
        messages.success(request, _("测试用例已删除。"))
    return _detail(pk)


@login_required
@permission_required(VIEW, raise_exception=True)
def run_detail(request: HttpRequest, pk: int, run: int) -> HttpResponse:
    automation = selectors.automation_get(pk)
    obj = selectors.run_get(automation, run)
    return render(
        request,
        "automations/run_detail.html",
        {
            "automation": automation,
            "run": obj,
            "badge": RUN_BADGE.get(obj.status, ""),
            "event_json": json.dumps(obj.event, ensure_ascii=False, indent=2),
            "inputs_json": json.dumps(obj.inputs, ensure_ascii=False, indent=2),
        },
    )
