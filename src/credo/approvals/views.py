from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.accounts.models import OrgUnit, Role
from credo.approvals import designer, preview, selectors, services
from credo.approvals.errors import ApprovalError
from credo.approvals.forms import ActForm, DefinitionForm, PreviewForm, ResumeForm
from credo.approvals.models import ApprovalFlow, FlowVersion
from credo.approvals.panels import subject_panel


def _next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# --- inbox and tasks -----------------------------------------------------------------------------
@login_required
@permission_required("approvals.view_approvalinstance", raise_exception=True)
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.open_tasks_for(request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "approvals/inbox.html",
        {
            "page_obj": page,
            "counts": selectors.inbox_counts(request.user),
            "done": selectors.done_tasks_for(request.user, 10),
        },
    )


@login_required
@permission_required("approvals.view_approvalinstance", raise_exception=True)
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    from django.utils import timezone

    from credo.core.ui.workbench import sla_countdown

    task = selectors.task_get(request.user, pk)
    instance = task.instance
    sla = sla_countdown(task.due_at, timezone.now()) if task.is_open else ("", "")
    return render(
        request,
        "approvals/task_detail.html",
        {
            "task": task,
            "approval": instance,
            "subject_panel": subject_panel(request, instance),
            "sla_text": sla[0],
            "sla_tone": sla[1],
        },
    )


@login_required
@permission_required("approvals.view_approvalinstance", raise_exception=True)
def instance_detail(request: HttpRequest, pk: int) -> HttpResponse:
    instance = selectors.instance_get(request.user, pk)
    return render(
        request,
        "approvals/instance_detail.html",
        {"approval": instance, "subject_panel": subject_panel(request, instance)},
    )


@login_required
@require_POST
def task_act(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.task_get(request.user, pk)
    back = _next(request, task.instance.url or f"/approvals/tasks/{task.pk}/")
    form = ActForm(request.POST)
    if not form.is_valid():
        errors = "；".join(str(e) for errs in form.errors.values() for e in errs)
        messages.error(request, _("提交的内容有误：%(e)s") % {"e": errors})
        return redirect(back)
    data = form.cleaned_data
    try:
        services.approval_act(
            task=task,
            actor=request.user,
            action=data["action"],
            comment=data.get("comment") or "",
            amount=form.amount_fen() if data["action"] == "approve" else None,
            months=data.get("months") if data["action"] == "approve" else None,
            transfer_to=data.get("transfer_to") if data["action"] == "transfer" else None,
        )
    except ApprovalError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    done = {
        "approve": _("已批准。"),
        "reject": _("已拒绝。"),
        "return": _("已退回申请人补充。"),
        "transfer": _("已转交。"),
    }
    messages.success(request, done[data["action"]])
    return redirect(back)


@login_required
@require_POST
def instance_resume(request: HttpRequest, pk: int) -> HttpResponse:
    instance = selectors.instance_get(request.user, pk)
    back = _next(request, instance.url or f"/approvals/instances/{instance.pk}/")
    form = ResumeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写补充说明。"))
        return redirect(back)
    try:
        services.approval_resume(
            instance=instance, actor=request.user, answer=form.cleaned_data["answer"]
        )
    except ApprovalError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, _("已补充说明并重新提交审批。"))
    return redirect(back)


# --- flow configuration --------------------------------------------------------------------------
@login_required
@permission_required("approvals.manage_flows", raise_exception=True)
def flow_list(request: HttpRequest) -> HttpResponse:
    services.ensure_default_flows()
    return render(request, "approvals/flow_list.html", {"flows": selectors.flows()})


@login_required
@permission_required("approvals.manage_flows", raise_exception=True)
def flow_detail(request: HttpRequest, pk: int) -> HttpResponse:
    flow = get_object_or_404(ApprovalFlow, pk=pk)
    version = flow.published or flow.versions.first()
    if version is not None:
        return redirect("approvals:version_edit", version.pk)
    return render(request, "approvals/flow_list.html", {"flows": selectors.flows()})


@login_required
@permission_required("approvals.manage_flows", raise_exception=True)
@require_POST
def version_new(request: HttpRequest, pk: int) -> HttpResponse:
    flow = get_object_or_404(ApprovalFlow, pk=pk)
    try:
        version = services.flow_version_create(flow=flow, actor=request.user)
    except ApprovalError as exc:
        messages.error(request, exc.message)
        draft = flow.versions.filter(status=FlowVersion.Status.DRAFT).first()
        return (
            redirect("approvals:version_edit", draft.pk)
            if draft
            else redirect("approvals:flow_list")
        )
    messages.success(request, _("已新建草稿 v%(n)d。") % {"n": version.number})
    return redirect("approvals:version_edit", version.pk)


def _designer_refs() -> tuple[list[Any], list[Any], set[str], set[str]]:
    """Roles and active users the pickers offer (and the validation accepts)."""
    roles = list(Role.objects.order_by("id"))
    users = list(
        get_user_model()
        .objects.filter(is_active=True)
        .select_related("org_unit")
        .order_by("username")[:1000]
    )
    usernames = set(
        get_user_model().objects.filter(is_active=True).values_list("username", flat=True)
    )
    return roles, users, {r.code for r in roles}, usernames


def _with_referenced(users: list[Any], rows: dict[str, Any]) -> list[Any]:
    """The picker list plus every person the flow names (beyond the list's limit), so a saved
    choice is always shown and kept."""
    named = {
        name
        for route in rows["routes"]
        for step in route["steps"]
        for name in [step["esc_user"], *(a["user"] for a in step["approvers"])]
        if name
    } - {u.username for u in users}
    if not named:
        return users
    extra = get_user_model().objects.filter(username__in=named).select_related("org_unit")
    return [*users, *extra]


def _preview_form(request: HttpRequest, flow: ApprovalFlow, users: list[Any]) -> PreviewForm:
    return PreviewForm(
        request.POST if request.POST.get("op") == "preview" else None,
        instances=list(preview.sample_instances(flow, request.user)[:50]),
        branches=list(OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH, is_active=True)),
        users=users,
    )


def _run_preview(
    form: PreviewForm,
    version: FlowVersion,
    definition: dict[str, Any],
    users: list[Any],
    user: Any,
) -> dict[str, Any] | None:
    if not form.is_valid():
        return None
    by_pk = {u.pk: u for u in users}
    picked = form.cleaned_data.get("instance")
    if picked:
        sample = preview.sample_instances(version.flow, user).filter(pk=picked).first()
        if sample is None:
            return {"error": _("所选申请不存在。")}
        context = dict(sample.context or {})
        applicant = sample.owner
    else:
        context = form.context()
        applicant = by_pk.get(form.cleaned_data.get("applicant") or 0)
    return preview.route_preview(
        version=version, definition=definition, context=context, applicant=applicant
    )


@login_required
@permission_required("approvals.manage_flows", raise_exception=True)
def version_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The visual designer (default editor) of a flow version; drafts are editable, other
    versions are shown read-only and can still be previewed. Designer buttons (add / remove /
    move / preview) re-render the form without saving; only 保存草稿 writes."""
    version = get_object_or_404(FlowVersion.objects.select_related("flow"), pk=pk)
    is_draft = version.status == FlowVersion.Status.DRAFT
    roles, users, role_codes, usernames = _designer_refs()
    if request.method == "POST" and "definition" in request.POST and "routes" not in request.POST:
        return _json_edit(request, version, is_draft)
    op = request.POST.get("op", "") if request.method == "POST" else ""
    if op and op != "preview" and not is_draft:
        messages.error(request, _("只有草稿可以修改；已发布的版本请新建草稿。"))
        return redirect("approvals:version_edit", version.pk)
    rows = designer.rows_from_post(request.POST) if is_draft and op else None
    if rows is None:
        rows = designer.definition_to_rows(version.definition)
    note = request.POST.get("note", version.note)[:200] if op else version.note
    users = _with_referenced(users, rows)
    errors: dict[str, str] = {}
    focus = ""
    result = None
    preview_form = _preview_form(request, version.flow, users)
    if op == "save":
        definition, errors = designer.rows_to_definition(rows, roles=role_codes, users=usernames)
        if not errors:
            try:
                services.flow_version_update(
                    version=version, definition=definition, actor=request.user, note=note
                )
            except ApprovalError as exc:
                errors["form"] = exc.message
            else:
                messages.success(request, _("草稿已保存。"))
                return redirect("approvals:version_edit", version.pk)
        focus = "designer-errors"
    elif op == "preview":
        definition, errors = (
            designer.rows_to_definition(rows, roles=role_codes, users=usernames)
            if is_draft
            else (version.definition, {})
        )
        result = _run_preview(preview_form, version, definition, users, request.user)
        focus = "preview-result"
    elif op:
        rows, focus = designer.apply_op(rows, op)
    json_form = DefinitionForm(
        initial={
            "definition": json.dumps(version.definition, ensure_ascii=False, indent=2),
            "note": version.note,
        }
    )
    if not is_draft:
        json_form.fields["definition"].disabled = True
        json_form.fields["note"].disabled = True
    return render(
        request,
        "approvals/version_edit.html",
        {
            **_version_context(version, is_draft),
            "rows": rows,
            "route_rows": designer.decorate(rows, errors),
            "errors": errors,
            "error_list": designer.error_list(errors),
            "note": note,
            "focus": focus,
            "roles": roles,
            "users": users,
            "preview_form": preview_form,
            "preview": result,
            "form": json_form,
            "dirty": bool(op) and op != "preview",
        },
    )


def _version_context(version: FlowVersion, is_draft: bool) -> dict[str, Any]:
    return {
        "version": version,
        "flow": version.flow,
        "versions": version.flow.versions.all(),
        "is_draft": is_draft,
        "routes": (version.definition or {}).get("routes", {}),
        "running": version.instances.filter(status="running").count(),
    }


def _json_edit(request: HttpRequest, version: FlowVersion, is_draft: bool) -> HttpResponse:
    """Advanced: the raw JSON definition (kept for administrators and scripts)."""
    form = DefinitionForm(request.POST)
    if is_draft and form.is_valid():
        try:
            services.flow_version_update(
                version=version,
                definition=form.cleaned_data["definition"],
                actor=request.user,
                note=form.cleaned_data.get("note") or "",
            )
        except ApprovalError as exc:
            form.add_error("definition", exc.message)
        else:
            messages.success(request, _("草稿已保存。"))
            return redirect("approvals:version_edit", version.pk)
    elif not is_draft:
        messages.error(request, _("只有草稿可以修改；已发布的版本请新建草稿。"))
        return redirect("approvals:version_edit", version.pk)
    roles, users, _codes, _names = _designer_refs()
    return render(
        request,
        "approvals/version_edit.html",
        {
            **_version_context(version, is_draft),
            "rows": designer.definition_to_rows(version.definition),
            "route_rows": designer.decorate(designer.definition_to_rows(version.definition), {}),
            "errors": {},
            "error_list": [],
            "note": version.note,
            "focus": "json-editor",
            "roles": roles,
            "users": users,
            "preview_form": _preview_form(request, version.flow, users),
            "preview": None,
            "form": form,
            "json_open": True,
        },
    )


@login_required
@permission_required("approvals.manage_flows", raise_exception=True)
@require_POST
def version_publish(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(FlowVersion, pk=pk)
    try:
        services.flow_version_publish(version=version, actor=request.user)
    except ApprovalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("已发布 v%(n)d；进行中的审批继续使用发起时的版本。") % {"n": version.number},
        )
    return redirect("approvals:version_edit", version.pk)
