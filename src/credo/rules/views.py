"""决策模型 pages: list, detail (versions, test cases, evaluations), table editor, try-it,
test run, publish/discard, download/upload, simulation."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from credo.rules import selectors, services
from credo.rules.errors import RuleError
from credo.rules.forms import (
    SIM_DEFAULT,
    ContentForm,
    SimulateForm,
    TestCaseForm,
    TryForm,
    UploadForm,
)
from credo.rules.models import DecisionVersion

VIEW = "rules.view_decisionmodel"
EDIT = "rules.edit_rules"
PUBLISH = "rules.publish_rules"

STATUS_BADGE: dict[str, str] = {
    DecisionVersion.Status.PUBLISHED: "bg-green-lt",
    DecisionVersion.Status.DRAFT: "bg-yellow-lt",
    DecisionVersion.Status.RETIRED: "bg-secondary-lt",
}


def _detail(key: str) -> HttpResponse:
    return redirect("rules:model_detail", key=key)


def _form_errors(form: Any) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@login_required
@permission_required(VIEW, raise_exception=True)
def model_list(request: HttpRequest) -> HttpResponse:
    return render(request, "rules/model_list.html", {"rows": selectors.model_list()})


@login_required
@permission_required(VIEW, raise_exception=True)
def model_detail(
    request: HttpRequest,
    key: str,
    case_form: TestCaseForm | None = None,
    upload_form: UploadForm | None = None,
) -> HttpResponse:
    model = selectors.model_get(key)
    versions = [
        {"v": v, "badge": STATUS_BADGE.get(v.status, "")} for v in selectors.model_versions(model)
    ]
    page = Paginator(selectors.evaluations_for(model), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "rules/model_detail.html",
        {
            "model": model,
            "versions": versions,
            "draft": selectors.draft_of(model),
            "cases": model.test_cases.all(),
            "case_form": case_form or TestCaseForm(),
            "upload_form": upload_form or UploadForm(),
            "page": page,
            "fields": selectors.spec_fields(model.key),
        },
        status=400 if (case_form or upload_form) else 200,
    )


@login_required
@permission_required(EDIT, raise_exception=True)
@require_POST
def version_new(request: HttpRequest, key: str) -> HttpResponse:
    """A new draft copied from ``from`` (any version: the rollback path) or the latest one."""
    model = selectors.model_get(key)
    source = None
    if request.POST.get("from"):
        try:
            source = selectors.version_get(model, int(request.POST["from"]))
        except ValueError:
            source = None
    note = request.POST.get("note", "").strip()
    if not note and source is not None:
        note = _("基于 v%(n)d") % {"n": source.number}
    try:
        draft = services.version_create(
            model=model, from_version=source, note=note, actor=request.user
        )
    except RuleError as exc:
        messages.error(request, exc.message)
        return _detail(key)
    messages.success(request, _("已创建草稿 v%(n)d。") % {"n": draft.number})
    return redirect("rules:version_edit", key=key, number=draft.number)


@login_required
@permission_required(EDIT, raise_exception=True)
@require_POST
def version_upload(request: HttpRequest, key: str) -> HttpResponse:
    model = selectors.model_get(key)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("上传失败，未保存任何内容。"))
        return model_detail(request, key, upload_form=form)
    try:
        draft = services.version_create(
            model=model,
            content=form.cleaned_data["content"],
            note=form.cleaned_data.get("note") or _("上传的 JSON"),
            actor=request.user,
        )
    except RuleError as exc:
        form.add_error(None, exc.message)
        messages.error(request, _("上传失败，未保存任何内容。"))
        return model_detail(request, key, upload_form=form)
    messages.success(request, _("已上传为草稿 v%(n)d。") % {"n": draft.number})
    return redirect("rules:version_edit", key=key, number=draft.number)


@login_required
@permission_required(VIEW, raise_exception=True)
def version_edit(request: HttpRequest, key: str, number: int) -> HttpResponse:
    """The decision-table editor (drafts) or a read-only view of any version."""
    model = selectors.model_get(key)
    version = selectors.version_get(model, number)
    content = version.content
    note = version.note
    status = 200
    if request.method == "POST":
        if not request.user.has_perm(EDIT):
            return HttpResponse(status=403)
        form = ContentForm(request.POST)
        if form.is_valid():
            try:
                services.version_update(
                    version=version,
                    content=form.cleaned_data["content"],
                    note=form.cleaned_data.get("note", ""),
                    actor=request.user,
                )
            except RuleError as exc:
                messages.error(request, exc.message)
                # keep the user's edits on screen so nothing typed is lost
                content = form.cleaned_data["content"]
                note = form.cleaned_data.get("note", "")
                status = 400
            else:
                messages.success(request, _("草稿已保存。"))
                return redirect("rules:version_edit", key=key, number=number)
        else:
            messages.error(request, _form_errors(form))
            status = 400
    editable = version.status == DecisionVersion.Status.DRAFT and request.user.has_perm(EDIT)
    return render(
        request,
        "rules/version_edit.html",
        {
            "model": model,
            "version": version,
            "badge": STATUS_BADGE.get(version.status, ""),
            "content": content,
            "note": note,
            "editable": editable,
            "fields": selectors.spec_fields(model.key),
            "sample": json.dumps(selectors.sample_input(model.key), ensure_ascii=False, indent=2),
        },
        status=status,
    )


@login_required
@permission_required(VIEW, raise_exception=True)
@require_POST
def version_try(request: HttpRequest, key: str, number: int) -> HttpResponse:
    """试算: evaluate the saved version on the posted input; nothing is stored."""
    model = selectors.model_get(key)
    version = selectors.version_get(model, number)
    form = TryForm(request.POST)
    context: dict[str, Any] = {"version": version}
    if not form.is_valid():
        context["error"] = _form_errors(form)
    else:
        try:
            result, reasons = services.run_version(version, form.cleaned_data["input"])
        except RuleError as exc:
            context["error"] = exc.message
        else:
            context["result"] = json.dumps(result, ensure_ascii=False, indent=2)
            context["reasons"] = reasons
    return render(request, "rules/_try_result.html", context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def version_tests(request: HttpRequest, key: str, number: int) -> HttpResponse:
    model = selectors.model_get(key)
    version = selectors.version_get(model, number)
    results = services.run_tests(version)
    return render(
        request,
        "rules/version_tests.html",
        {
            "model": model,
            "version": version,
            "results": results,
            "failed": sum(1 for r in results if not r.passed),
        },
    )


@login_required
@permission_required(PUBLISH, raise_exception=True)
@require_POST
def version_publish(request: HttpRequest, key: str, number: int) -> HttpResponse:
    model = selectors.model_get(key)
    version = selectors.version_get(model, number)
    try:
        services.version_publish(version=version, actor=request.user)
    except RuleError as exc:
        messages.error(request, exc.message)
        return redirect("rules:version_tests", key=key, number=number)
    messages.success(request, _("v%(n)d 已发布。") % {"n": version.number})
    return _detail(key)


@login_required
@permission_required(EDIT, raise_exception=True)
@require_POST
def version_discard(request: HttpRequest, key: str, number: int) -> HttpResponse:
    model = selectors.model_get(key)
    version = selectors.version_get(model, number)
    try:
        services.version_discard(version=version, actor=request.user)
    except RuleError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("草稿 v%(n)d 已删除。") % {"n": number})
    return _detail(key)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def version_download(request: HttpRequest, key: str, number: int) -> HttpResponse:
    model = selectors.model_get(key)
    version = selectors.version_get(model, number)
    body = json.dumps(version.content, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{model.key}-v{number}.json"'
    return response


@login_required
@permission_required(EDIT, raise_exception=True)
def version_simulate(request: HttpRequest, key: str, number: int) -> HttpResponse:
    """Replay the last N real inputs through this version and the published one."""
    model = selectors.model_get(key)
    version = selectors.version_get(model, number)
    form = SimulateForm(
        request.GET if "limit" in request.GET else None, initial={"limit": SIM_DEFAULT}
    )
    sim = None
    error = ""
    if form.is_bound and form.is_valid():
        try:
            sim = services.simulate(version, limit=form.cleaned_data["limit"])
        except RuleError as exc:
            error = exc.message
    summary = sorted(sim.summary.items(), key=lambda kv: -kv[1]) if sim else []
    rows = [
        {
            **row,
            "input_json": json.dumps(row.get("input"), ensure_ascii=False),
            "before_brief": services.brief(row.get("before") or {}),
            "after_brief": services.brief(row.get("after") or {}),
        }
        for row in (sim.rows if sim else [])
    ]
    return render(
        request,
        "rules/version_simulate.html",
        {
            "model": model,
            "version": version,
            "form": form,
            "sim": sim,
            "summary": summary,
            "rows": rows,
            "error": error,
            "baseline": model.versions.filter(status=DecisionVersion.Status.PUBLISHED).first(),
        },
    )


@login_required
@permission_required(EDIT, raise_exception=True)
@require_POST
def testcase_create(request: HttpRequest, key: str) -> HttpResponse:
    model = selectors.model_get(key)
    form = TestCaseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("测试用例未保存，请检查输入。"))
        return model_detail(request, key, case_form=form)
    try:
        services.testcase_create(
            model=model,
            name=form.cleaned_data["name"],
            input=form.cleaned_data["input"],
            expected=form.cleaned_data["expected"],
            actor=request.user,
        )
    except RuleError as exc:
        form.add_error(None, exc.message)
        return model_detail(request, key, case_form=form)
    messages.success(request, _("测试用例已添加。"))
    return redirect(reverse("rules:model_detail", kwargs={"key": key}) + "#tests")


@login_required
@permission_required(EDIT, raise_exception=True)
@require_POST
def testcase_delete(request: HttpRequest, key: str, pk: int) -> HttpResponse:
    model = selectors.model_get(key)
    case = selectors.testcase_get(model, pk)
    services.testcase_delete(case=case, actor=request.user)
    messages.success(request, _("测试用例已删除。"))
    return redirect(reverse("rules:model_detail", kwargs={"key": key}) + "#tests")
