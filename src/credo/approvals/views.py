from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.approvals import selectors, services
from credo.approvals.errors import ApprovalError
from credo.approvals.forms import ActForm, DefinitionForm, ResumeForm
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


@login_required
@permission_required("approvals.manage_flows", raise_exception=True)
def version_edit(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(FlowVersion.objects.select_related("flow"), pk=pk)
    is_draft = version.status == FlowVersion.Status.DRAFT
    initial = {
        "definition": json.dumps(version.definition, ensure_ascii=False, indent=2),
        "note": version.note,
    }
    form = DefinitionForm(request.POST or None, initial=initial)
    if request.method == "POST" and is_draft and form.is_valid():
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
    if not is_draft:
        form.fields["definition"].disabled = True
        form.fields["note"].disabled = True
    return render(
        request,
        "approvals/version_edit.html",
        {
            "version": version,
            "flow": version.flow,
            "versions": version.flow.versions.all(),
            "form": form,
            "is_draft": is_draft,
            "routes": (version.definition or {}).get("routes", {}),
            "running": version.instances.filter(status="running").count(),
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
