"""Alerts (预警) list / board / detail with handling actions; retention suggestions (客户维护)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.accounts.models import OrgUnit, User
from credo.lending.models import CreditLimit
from credo.monitoring import selectors, services
from credo.monitoring.errors import MonitoringError
from credo.monitoring.forms import ACTION_FORMS
from credo.monitoring.models import Alert, AlertAction, RetentionSuggestion, Severity
from credo.monitoring.retention import suggestion_decide

VIEW = "monitoring.view_alert"
HANDLE = "monitoring.handle_alert"
RETENTION = "monitoring.manage_retention"


@login_required
@permission_required(VIEW, raise_exception=True)
def alert_list(request: HttpRequest) -> HttpResponse:
    params = request.GET.copy()
    if "status" not in params:
        params["status"] = "active"
    qs = selectors.alert_list(request.user, params)
    board = request.GET.get("view") == "board"
    counts = selectors.alert_counts(selectors.alerts_for(request.user))
    ctx = {
        "params": params,
        "board": board,
        "status_counts": [(c, lbl, counts["status"].get(c, 0)) for c, lbl in Alert.Status.choices],
        "severity_counts": [(c, lbl, counts["severity"].get(c, 0)) for c, lbl in Severity.choices],
        "statuses": Alert.Status.choices,
        "severities": Severity.choices,
        "rules": selectors.rule_codes(selectors.alerts_for(request.user)),
        "assignees": User.objects.filter(
            pk__in=selectors.alerts_for(request.user).values("assignee_id")
        ).order_by("id"),
        "branches": OrgUnit.objects.filter(kind=OrgUnit.Kind.BRANCH).order_by("code"),
        "now": timezone.now(),
        "overdue_count": selectors.alerts_for(request.user)
        .exclude(status=Alert.Status.CLOSED)
        .filter(due_at__lt=timezone.now())
        .count(),
    }
    if board:
        items = list(qs[:400])
        ctx["columns"] = [
            (code, label, [a for a in items if a.status == code])
            for code, label in Alert.Status.choices
            if code != Alert.Status.CLOSED or params.get("status") == "closed"
        ]
    else:
        ctx["page_obj"] = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(request, "monitoring/alert_list.html", ctx)


@login_required
@permission_required(VIEW, raise_exception=True)
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    alert = selectors.alert_get(request.user, pk)
    forms = {name: cls(prefix=name) for name, cls in ACTION_FORMS.items() if cls is not None}
    return _detail(request, alert, forms)


def _snapshot_rows(snapshot: dict) -> list[tuple[str, object]]:
    """The indicator snapshot with the field labels (Chinese) and 是/否 for flags."""
    from django.core.exceptions import FieldDoesNotExist

    from credo.monitoring.models import LoanIndicator

    rows = []
    for key, value in (snapshot or {}).items():
        try:
            field = LoanIndicator._meta.get_field(key)
        except FieldDoesNotExist:
            label = key
        else:
            label = str(getattr(field, "verbose_name", key))
        if isinstance(value, bool):
            value = _("是") if value else _("否")
        rows.append((label, value))
    return rows


def _duration(delta: dt.timedelta) -> str:
    minutes = int(abs(delta.total_seconds()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)s 天 %(h)s 小时") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s 小时 %(m)s 分") % {"h": hours, "m": mins}
    return _("%(m)s 分钟") % {"m": mins}


def _sla(alert: Alert) -> dict[str, object]:
    """The SLA countdown of the alert page: time left, or how long it has been overdue."""
    if alert.status == Alert.Status.CLOSED:
        return {"state": "closed", "text": ""}
    left = alert.due_at - timezone.now()
    if left.total_seconds() < 0:
        return {"state": "overdue", "text": _("已超时 %(t)s") % {"t": _duration(left)}}
    state = "soon" if left <= dt.timedelta(hours=4) else "ok"
    return {"state": state, "text": _("剩余 %(t)s") % {"t": _duration(left)}}


def _escalations(actions: list[AlertAction]) -> list[dict[str, object]]:
    rows = [a for a in actions if a.kind == AlertAction.Kind.ESCALATE]
    ids = {a.detail.get(k) for a in rows for k in ("from_user", "to_user")} - {None}
    names = {u.pk: str(u) for u in User.objects.filter(pk__in=ids)}
    return [
        {
            "at": a.created_at,
            "reason": _("超时自动升级") if a.detail.get("reason") == "sla" else _("人工升级"),
            "level": a.detail.get("level"),
            "from": names.get(a.detail.get("from_user"), "—"),
            "to": names.get(a.detail.get("to_user"), "—"),
            "actor": a.actor,
            "note": a.note,
        }
        for a in rows
    ]


def _detail(request: HttpRequest, alert: Alert, forms: dict) -> HttpResponse:
    from credo.monitoring.models import LoanIndicator

    actions = list(alert.actions.select_related("actor"))
    return render(
        request,
        "monitoring/alert_detail.html",
        {
            "alert": alert,
            "forms": forms,
            "actions": actions,
            "escalations": _escalations(actions),
            "sla": _sla(alert),
            "snapshot_rows": _snapshot_rows(alert.snapshot),
            "limit": CreditLimit.objects.filter(customer=alert.customer).first(),
            "indicator": LoanIndicator.objects.filter(loan=alert.loan).first(),
            "can_handle": request.user.has_perm(HANDLE),
            "sla_overdue": alert.status != Alert.Status.CLOSED and alert.due_at < timezone.now(),
        },
    )


@login_required
@permission_required(HANDLE, raise_exception=True)
@require_POST
def alert_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTION_FORMS:
        raise Http404
    alert = selectors.alert_get(request.user, pk)
    cls = ACTION_FORMS[action]
    form = cls(request.POST, prefix=action) if cls else None
    if form is not None and not form.is_valid():
        forms = {n: c(prefix=n) for n, c in ACTION_FORMS.items() if c is not None}
        forms[action] = form
        messages.error(request, _("请检查填写的内容。"))
        return _detail(request, alert, forms)
    try:
        services.alert_action(
            alert=alert,
            action=action,
            data=form.cleaned_data if form else {},
            actor=request.user,
        )
    except MonitoringError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已记录。"))
    return redirect("monitoring:alert_detail", pk=alert.pk)


@login_required
@permission_required(RETENTION, raise_exception=True)
def retention(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or "pending"
    qs = selectors.suggestion_list(request.user, status)
    return render(
        request,
        "monitoring/retention.html",
        {
            "page_obj": Paginator(qs, 20).get_page(request.GET.get("page")),
            "status": status,
            "statuses": RetentionSuggestion.Status.choices,
        },
    )


@login_required
@permission_required(RETENTION, raise_exception=True)
@require_POST
def retention_decide(request: HttpRequest, pk: int) -> HttpResponse:
    suggestion = selectors.suggestion_get(request.user, pk)
    approve = request.POST.get("decision") == "approve"
    try:
        suggestion_decide(
            suggestion=suggestion,
            approve=approve,
            actor=request.user,
            reason=request.POST.get("reason", "")[:200],
        )
    except MonitoringError as exc:
        messages.error(request, exc.message)
    except Exception as exc:  # lending errors carry a Chinese message
        if not hasattr(exc, "message"):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已批准，授信额度已调整。") if approve else _("已驳回。"))
    return redirect("monitoring:retention")
