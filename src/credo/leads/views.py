from __future__ import annotations

import datetime as dt
from typing import Any

from csp.decorators import csp_replace
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from credo.core import clock
from credo.core.regions import children_of, full_name
from credo.core.ui.params import query_params
from credo.leads import importing, selectors, services
from credo.leads.errors import LeadError
from credo.leads.forms import (
    HONEYPOT,
    AssignForm,
    BookForm,
    ConvertForm,
    FollowUpForm,
    ImportForm,
    LeadForm,
    PublicLeadForm,
    StageForm,
)
from credo.leads.models import Lead

PUBLIC_RATE = 5  # submissions per IP per minute
IMPORT_SESSION_KEY = "leads_import_rows"
APPLICATION_URL = "/origination/applications/new/?customer={pk}&lead={lead}"


def _apply_field_errors(form: Any, exc: LeadError) -> None:
    for field, message in exc.field_errors.items():
        form.add_error(field if field in form.fields else None, message)
    if not exc.field_errors:
        form.add_error(None, exc.message)


# --- lists ---------------------------------------------------------------------------------------
@login_required
@permission_required("leads.view_lead", raise_exception=True)
def lead_list(request: HttpRequest) -> HttpResponse:
    params = request.GET
    qs = selectors.lead_list(request.user, params, with_created=True)
    counts = selectors.stage_counts(
        selectors.lead_list(
            request.user,
            {k: v for k, v in params.items() if k != "stage"},
            with_created=True,
        )
    )
    page = Paginator(qs, 25).get_page(params.get("page"))
    cities = children_of("140000")
    region = str(params.get("region") or "").strip()
    return render(
        request,
        "leads/lead_list.html",
        {
            "page": page,
            "params": params,
            "counts": [(v, label, counts[v]) for v, label in Lead.Stage.choices],
            "stages": Lead.Stage.choices,
            "sources": Lead.Source.choices,
            "owners": selectors.assignable_users(request.user),
            "cities": cities,
            # a region filter other than a Shanxi city (e.g. a county from the funnel)
            "region_other": ""
            if region in {c.code for c in cities}
            else (full_name(region) or region),
            "overdue_table": selectors.overdue_by_owner(request.user),
            "today": clock.today(),
        },
    )


def _board_context(request: HttpRequest) -> dict[str, Any]:
    qs = selectors.lead_list(request.user, request.GET).select_related("owner")
    columns = []
    for value, label in Lead.Stage.choices:
        items = list(qs.filter(stage=value)[:50])
        columns.append(
            {
                "value": value,
                "label": label,
                "items": items,
                "count": qs.filter(stage=value).count(),
            }
        )
    return {"columns": columns, "today": clock.today(), "params": query_params(request)}


@login_required
@permission_required("leads.view_lead", raise_exception=True)
def board(request: HttpRequest) -> HttpResponse:
    return render(request, "leads/board.html", _board_context(request))


@login_required
@permission_required("leads.change_lead", raise_exception=True)
@require_POST
def stage_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Board drops (htmx) and the detail page's stage form: the same guards as the service."""
    lead = selectors.lead_get(request.user, pk)
    form = StageForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.lead_change_stage(
                lead=lead,
                stage=form.cleaned_data["stage"],
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
        except LeadError as exc:
            error = exc.message
    else:
        error = _("请选择有效的阶段。")
    if request.headers.get("HX-Request"):
        context = _board_context(request)
        context["board_error"] = error
        return render(request, "leads/_board.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("阶段已更新。"))
    return redirect("leads:detail", pk=lead.pk)


# --- create / detail -----------------------------------------------------------------------------
@login_required
@permission_required("leads.add_lead", raise_exception=True)
def lead_create(request: HttpRequest) -> HttpResponse:
    form = LeadForm(request.POST or None, initial={"source": Lead.Source.OTHER})
    if request.method == "POST" and form.is_valid():
        data = {k: ("" if v is None else str(v)) for k, v in form.cleaned_data.items()}
        try:
            lead = services.lead_create(actor=request.user, data=data, via="manual")
        except LeadError as exc:
            _apply_field_errors(form, exc)
        else:
            if lead.owner is None:
                messages.warning(request, _("线索已保存，暂无可分配的客户经理，将由系统稍后分配。"))
            else:
                messages.success(request, _assigned_message(lead.owner))
            if lead.is_duplicate:
                messages.warning(request, _("该线索与已有线索重复（同一手机号或信用代码）。"))
            # The creator keeps read access to what they entered (selectors.leads_readable).
            return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/lead_form.html", {"form": form})


def _assigned_message(owner: Any) -> str:
    """“线索已分配给 张三（客户经理）”: who got it, and in which role."""
    roles = "、".join(str(r) for r in owner.roles.order_by("name"))
    if roles:
        return _("线索已分配给 %(u)s（%(r)s）。") % {"u": owner, "r": roles}
    return _("线索已分配给 %(u)s。") % {"u": owner}


@login_required
@permission_required("leads.change_lead", raise_exception=True)
def lead_edit(request: HttpRequest, pk: int) -> HttpResponse:
    lead = selectors.lead_get(request.user, pk)
    initial = {name: getattr(lead, name) for name in LeadForm.base_fields}
    initial["requested_amount"] = lead.requested_amount.yuan if lead.requested_amount else None
    form = LeadForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {k: ("" if v is None else str(v)) for k, v in form.cleaned_data.items()}
        try:
            services.lead_update(lead=lead, actor=request.user, data=data)
        except LeadError as exc:
            _apply_field_errors(form, exc)
        else:
            messages.success(request, _("线索已更新。"))
            return redirect("leads:detail", pk=lead.pk)
    return render(request, "leads/lead_form.html", {"form": form, "lead": lead})


@login_required
@permission_required("leads.view_lead", raise_exception=True)
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lead = selectors.lead_get(request.user, pk, read_only=True)
    customer = services.find_customer(lead)
    can_see_customer = False
    if customer is not None:
        from credo.accounts.scope import can_access

        can_see_customer = can_access(customer, request.user)
    users = selectors.assignable_users(request.user)
    return render(
        request,
        "leads/lead_detail.html",
        {
            "lead": lead,
            "can_edit": selectors.can_edit(lead, request.user),
            "region_name": full_name(lead.region_code) if lead.region_code else "",
            "follow_ups": lead.follow_ups.select_related("actor"),
            "followup_form": FollowUpForm(),
            "convert_form": ConvertForm(
                initial={"kind": "enterprise" if lead.uscc else "individual"}
            ),
            "assign_form": AssignForm(users=users),
            "customer": customer,
            "can_see_customer": can_see_customer,
            "duplicates": selectors.leads_for(request.user).filter(duplicate_of=lead),
            "next_stages": [
                (s, Lead.Stage(s).label)
                for s in Lead.Stage.values
                if s in services.TRANSITIONS[lead.stage]
            ],
            "overdue": bool(
                lead.is_open and lead.next_follow_up and lead.next_follow_up < clock.today()
            ),
            "masked_phone": _mask(lead.phone),
        },
    )


def _mask(phone: str) -> str:
    from credo.core.masking import mask

    return mask("phone", phone) if phone else ""


@login_required
@permission_required("leads.change_lead", raise_exception=True)
@require_POST
def followup_add(request: HttpRequest, pk: int) -> HttpResponse:
    lead = selectors.lead_get(request.user, pk)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            services.followup_add(lead=lead, actor=request.user, **form.cleaned_data)
        except LeadError as exc:
            messages.error(request, " ".join([exc.message, *exc.field_errors.values()]))
        else:
            messages.success(request, _("跟进已记录。"))
    else:
        messages.error(request, _("跟进记录有误：请填写方式和结果，日期不能早于今天。"))
    return redirect("leads:detail", pk=lead.pk)


@login_required
@permission_required("leads.convert_lead", raise_exception=True)
@permission_required("customers.add_customer", raise_exception=True)
@require_POST
def convert(request: HttpRequest, pk: int) -> HttpResponse:
    lead = selectors.lead_get(request.user, pk)
    form = ConvertForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择客户类型。"))
        return redirect("leads:detail", pk=lead.pk)
    try:
        lead, customer, linked = services.lead_convert(
            lead=lead,
            actor=request.user,
            data={"kind": form.cleaned_data["kind"], "id_number": form.cleaned_data["id_number"]},
        )
    except LeadError as exc:
        messages.error(request, " ".join([exc.message, *exc.field_errors.values()]))
        return redirect("leads:detail", pk=lead.pk)
    if linked:
        messages.success(request, _("已关联到现有客户：%(n)s。") % {"n": customer.name})
    else:
        messages.success(request, _("已转化为客户：%(n)s。") % {"n": customer.name})
    if form.cleaned_data["start_application"]:
        return redirect(APPLICATION_URL.format(pk=customer.pk, lead=lead.pk))
    return redirect("customers:detail", pk=customer.pk)


@login_required
@permission_required("leads.change_lead", raise_exception=True)
@require_POST
def merge(request: HttpRequest, pk: int) -> HttpResponse:
    lead = selectors.lead_get(request.user, pk)
    try:
        original = services.lead_merge(lead=lead, actor=request.user)
    except LeadError as exc:
        messages.error(request, exc.message)
        return redirect("leads:detail", pk=lead.pk)
    messages.success(request, _("已合并到原线索，重复线索已关闭。"))
    if selectors.leads_for(request.user).filter(pk=original.pk).exists():
        return redirect("leads:detail", pk=original.pk)
    return redirect("leads:list")


@login_required
@permission_required("leads.assign_lead", raise_exception=True)
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    lead = selectors.lead_get(request.user, pk)
    form = AssignForm(request.POST, users=selectors.assignable_users(request.user))
    if not form.is_valid():
        messages.error(request, _("请选择有效的客户经理。"))
        return redirect("leads:detail", pk=lead.pk)
    try:
        target = form.cleaned_data["user"]
        if target is None:
            lead = services.lead_assign(lead=lead, actor=request.user)
        else:
            lead = services.lead_assign_to(lead=lead, user=target, actor=request.user)
    except LeadError as exc:
        messages.error(request, exc.message)
    else:
        if lead.owner is None:
            messages.warning(request, _("暂无可分配的客户经理。"))
        else:
            messages.success(request, _("已分配给 %(u)s。") % {"u": lead.owner})
    if selectors.leads_for(request.user).filter(pk=lead.pk).exists():
        return redirect("leads:detail", pk=lead.pk)
    return redirect("leads:list")


# --- import --------------------------------------------------------------------------------------
@login_required
@permission_required("leads.import_leads", raise_exception=True)
def import_view(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    checked = None
    if request.method == "POST" and "confirm" in request.POST:
        # The session holds only a token; the rows (phones) wait encrypted in the private store.
        token = str(request.session.get(IMPORT_SESSION_KEY) or "")
        stored = importing.preview_load(token, user_id=request.user.pk) if token else None
        if not stored:
            request.session.pop(IMPORT_SESSION_KEY, None)
            messages.error(request, _("导入已过期，请重新上传文件。"))
            return redirect("leads:import")
        checked = importing.preview(stored["rows"], default_source=stored["source"])
        created = importing.run_import(checked, actor=request.user, filename=stored["filename"])
        importing.preview_discard(token)
        del request.session[IMPORT_SESSION_KEY]
        assigned = sum(1 for lead in created if lead.owner_id)
        messages.success(
            request,
            _("已导入 %(n)s 条线索（跳过 %(s)s 行有误数据），自动分配 %(a)s 条。")
            % {"n": len(created), "s": checked.total - len(checked.valid), "a": assigned},
        )
        return redirect("leads:list")
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = importing.parse_file(upload, upload.name)
        except LeadError as exc:
            form.add_error("file", exc.message)
        else:
            checked = importing.preview(rows, default_source=form.cleaned_data["default_source"])
            previous = request.session.get(IMPORT_SESSION_KEY)
            if isinstance(previous, str):
                importing.preview_discard(previous)
            request.session[IMPORT_SESSION_KEY] = importing.preview_save(
                rows,
                source=form.cleaned_data["default_source"],
                filename=upload.name,
                user_id=request.user.pk,
            )
    return render(
        request,
        "leads/import.html",
        {"form": form, "checked": checked, "errors": checked.errors[:200] if checked else []},
    )


@login_required
@permission_required("leads.import_leads", raise_exception=True)
def import_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(
        importing.template_xlsx(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="leads-template.xlsx"'
    return response


# --- hand-over of a departing employee's book ----------------------------------------------------
@login_required
@permission_required("leads.reassign_book", raise_exception=True)
def book_reassign(request: HttpRequest) -> HttpResponse:
    form = BookForm(request.POST or request.GET or None)
    preview = None
    if form.is_bound and form.is_valid():
        from_user, to_user = form.cleaned_data["from_user"], form.cleaned_data["to_user"]
        if request.method == "POST" and "confirm" in request.POST:
            try:
                counts = services.book_reassign(
                    from_user=from_user, to_user=to_user, actor=request.user
                )
            except LeadError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(
                    request,
                    _("已将 %(l)s 条线索、%(c)s 个客户移交给 %(u)s。")
                    % {"l": counts["leads"], "c": counts["customers"], "u": to_user},
                )
                return redirect("leads:book_reassign")
        leads, customers = services.book_of(from_user)
        preview = {
            "from_user": from_user,
            "to_user": to_user,
            "lead_count": leads.count(),
            "customer_count": customers.count(),
            "leads": leads[:100],
            "customers": customers[:100],
        }
    return render(request, "leads/book_reassign.html", {"form": form, "preview": preview})


# --- assignment settings -----------------------------------------------------------------------
@login_required
@permission_required("leads.assign_lead", raise_exception=True)
def assignees(request: HttpRequest) -> HttpResponse:
    """Per-person cap on open leads and opt-out, for the teams in the user's scope."""
    rows = selectors.assignee_rows(request.user)
    if request.method == "POST":
        allowed = {row["user"].pk: row["user"] for row in rows}
        target = allowed.get(int(request.POST.get("user") or 0))
        try:
            max_open = int(request.POST.get("max_open") or 0)
        except ValueError:
            max_open = -1
        if target is None:
            messages.error(request, _("无权设置该用户。"))
        else:
            try:
                services.assignee_configure(
                    user=target,
                    max_open=max_open,
                    active=request.POST.get("active") == "on",
                    actor=request.user,
                )
            except LeadError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("已保存 %(u)s 的分配设置。") % {"u": target})
        return redirect("leads:assignees")
    return render(request, "leads/assignees.html", {"rows": rows})


# --- funnel --------------------------------------------------------------------------------------
def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
@permission_required("leads.view_lead", raise_exception=True)
def funnel(request: HttpRequest) -> HttpResponse:
    group_by = request.GET.get("group_by", "source")
    if group_by not in selectors.GROUPS:
        group_by = "source"
    date_from = _date(request.GET.get("from"))
    date_to = _date(request.GET.get("to"))
    rows = selectors.funnel(request.user, group_by=group_by, date_from=date_from, date_to=date_to)
    total = {
        key: sum(r[key] for r in rows)
        for key in ("total", "contacted", "qualified", "converted", "lost")
    }
    groups = [
        ("source", _("来源渠道")),
        ("campaign", _("活动")),
        ("region", _("地区")),
        ("owner", _("客户经理")),
        ("week", _("周")),
    ]
    return render(
        request,
        "leads/funnel.html",
        {
            "rows": rows,
            "total": total,
            "group_by": group_by,
            "groups": groups,
            "date_from": date_from,
            "date_to": date_to,
        },
    )


# --- public web form (no login) ------------------------------------------------------------------
def _rate_limited(request: HttpRequest) -> bool:
    """At most PUBLIC_RATE submissions per client address per minute (on top of the general
    limit on public pages, ``credo.core.ratelimit.PublicRateLimitMiddleware``)."""
    from credo.core.middleware import client_ip
    from credo.core.ratelimit import Rate, rate_limited

    return rate_limited("leads_webform", client_ip(request) or "unknown", Rate(PUBLIC_RATE, 60))


# Embeddable on the lender's own site: no X-Frame-Options, any frame ancestor. CSRF-exempt
# because a cross-site iframe gets no (SameSite) cookie; the form grants nothing, creates only a
# lead, and is protected by the honeypot and the per-IP rate limit instead.
@xframe_options_exempt
@csp_replace({"frame-ancestors": ["*"]})
@csrf_exempt
def public_form(request: HttpRequest) -> HttpResponse:
    """官网表单: mobile-friendly and embeddable (iframe); spam is counted and dropped."""
    form = PublicLeadForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get(HONEYPOT):
            services.webform_count(kind="honeypot")
            # Neutral answer: a bot learns nothing from it.
            return render(request, "leads/public_thanks.html", _public_ctx(request))
        if _rate_limited(request):
            services.webform_count(kind="rate_limited")
            return render(request, "leads/public_thanks.html", _public_ctx(request), status=429)
        if form.is_valid():
            data = {k: ("" if v is None else str(v)) for k, v in form.cleaned_data.items()}
            data.pop(HONEYPOT, None)
            data["source"] = Lead.Source.WEB_FORM
            data["campaign"] = (request.GET.get("campaign") or "")[:80]
            try:
                services.lead_create(actor=None, data=data, via="web_form")
            except LeadError as exc:
                _apply_field_errors(form, exc)
            else:
                services.webform_count(kind="accepted")
                return render(request, "leads/public_thanks.html", _public_ctx(request))
    response = render(request, "leads/public_form.html", {"form": form, **_public_ctx(request)})
    return response


def _public_ctx(request: HttpRequest) -> dict[str, Any]:
    return {"campaign": (request.GET.get("campaign") or "")[:80]}
