"""评分卡 pages: versions, training form, model card (with live training progress), publish /
retire, model JSON download, and 风险洞察 (which attributes separate good from bad)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from credo.core.audit.services import audit_record
from credo.scorecard import features, selectors, services
from credo.scorecard.errors import ScorecardError
from credo.scorecard.forms import TrainForm
from credo.scorecard.models import Scorecard

VIEW = "scorecard.view_scorecard"
TRAIN = "scorecard.train_scorecard"
PUBLISH = "scorecard.publish_scorecard"
S = Scorecard.Status

STATUS_BADGE: dict[str, str] = {
    S.TRAINING: "bg-blue-lt",
    S.FAILED: "bg-red-lt",
    S.DRAFT: "bg-yellow-lt",
    S.PUBLISHED: "bg-green-lt",
    S.RETIRED: "bg-secondary-lt",
}


def _psi_rows(card: Scorecard | None) -> list[dict[str, object]]:
    limit = services.psi_alert_limit()
    return [
        {"check": c, "alert": c.psi is not None and c.psi > limit}
        for c in selectors.psi_history(card)
    ]


def _read_upload(upload: Any) -> bytes:
    """At most one byte more than the limit: the service refuses an oversized file with its
    message, and a huge upload is never read into memory whole."""
    return bytes(upload.read(services.max_upload_bytes() + 1))


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def scorecard_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.scorecard_list(), 25).get_page(request.GET.get("page"))
    current = services.published()
    return render(
        request,
        "scorecard/list.html",
        {
            "page": page,
            "rows": [{"card": c, "badge": STATUS_BADGE.get(c.status, "")} for c in page],
            "published": current,
            "psi_rows": _psi_rows(current),
            "psi_limit": services.psi_alert_limit(),
        },
    )


@login_required
@permission_required(TRAIN, raise_exception=True)
def scorecard_train(request: HttpRequest) -> HttpResponse:
    form = TrainForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            upload = data.get("file")
            csv = data["source"] == Scorecard.Source.CSV
            try:
                card = services.scorecard_train_start(
                    actor=request.user,
                    source=data["source"],
                    config=form.config(),
                    name=data.get("name") or "",
                    csv_data=_read_upload(upload) if (csv and upload) else None,
                    csv_name=upload.name if (csv and upload) else "",
                    target=data.get("target") or "",
                    bad_value=data.get("bad_value") or "",
                )
            except ScorecardError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request, _("已开始训练 v%(n)s，完成后可在此查看模型。") % {"n": card.number}
                )
                return redirect("scorecard:detail", pk=card.pk)
        status = 400
    return render(
        request,
        "scorecard/train.html",
        {
            "form": form,
            "show_advanced": form.has_advanced_values(),
            "catalogue": list(features.labels().items()),
        },
        status=status,
    )


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def scorecard_detail(request: HttpRequest, pk: int) -> HttpResponse:
    card = selectors.scorecard_get(pk)
    context: dict[str, object] = {
        "card": card,
        "badge": STATUS_BADGE.get(card.status, ""),
        "psi_rows": _psi_rows(card),
        "psi_limit": services.psi_alert_limit(),
    }
    if card.model:
        context.update(selectors.card_context(card))
    return render(request, "scorecard/detail.html", context)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def scorecard_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """Polled every 2 s while training; once finished the page reloads to show the card."""
    card = selectors.scorecard_get(pk)
    if card.status != S.TRAINING:
        response = HttpResponse("")
        response["HX-Refresh"] = "true"
        return response
    return render(request, "scorecard/_progress.html", {"card": card})


@login_required
@permission_required(PUBLISH, raise_exception=True)
@require_POST
def scorecard_publish(request: HttpRequest, pk: int) -> HttpResponse:
    card = selectors.scorecard_get(pk)
    try:
        expected = int(request.POST.get("version") or 0) or None
    except ValueError:
        expected = None
    try:
        services.scorecard_publish(scorecard=card, actor=request.user, expected_version=expected)
    except ScorecardError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("v%(n)s 已发布，此后提交的申请将由该版本评分。") % {"n": card.number}
        )
    return redirect("scorecard:detail", pk=card.pk)


@login_required
@permission_required(PUBLISH, raise_exception=True)
@require_POST
def scorecard_retire(request: HttpRequest, pk: int) -> HttpResponse:
    card = selectors.scorecard_get(pk)
    try:
        services.scorecard_retire(scorecard=card, actor=request.user)
    except ScorecardError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("v%(n)s 已停用。") % {"n": card.number})
    return redirect("scorecard:detail", pk=card.pk)


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def scorecard_model_json(request: HttpRequest, pk: int) -> HttpResponse:
    card = selectors.scorecard_get(pk)
    if not card.model:
        return HttpResponse(_("该版本还没有训练好的模型。"), status=404)
    payload = {
        "scorecard": {
            "number": card.number,
            "name": card.name,
            "status": card.status,
            "source": card.source,
            "source_name": card.source_name,
            "config": card.config,
            "trained_at": card.trained_at.isoformat() if card.trained_at else None,
            "published_at": card.published_at.isoformat() if card.published_at else None,
        },
        "model": card.model,
    }
    audit_record(
        action="scorecard.model_download",
        actor=request.user,
        obj=card,
        metadata={"number": card.number},
    )
    response = HttpResponse(
        json.dumps(payload, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="scorecard-v{card.number}.json"'
    return response


@login_required
@permission_required(VIEW, raise_exception=True)
@require_GET
def scorecard_insight(request: HttpRequest) -> HttpResponse:
    versions = list(selectors.trained_versions())
    card: Scorecard | None = None
    wanted = request.GET.get("v")
    if wanted:
        try:
            card = next((v for v in versions if v.pk == int(wanted)), None)
        except ValueError:
            card = None
    if card is None:
        card = next((v for v in versions if v.status == S.PUBLISHED), None) or (
            versions[0] if versions else None
        )
    context: dict[str, object] = {"versions": versions, "card": card}
    if card is not None:
        card = selectors.scorecard_get(card.pk)  # with the model
        context["card"] = card
        context.update(selectors.insight_context(card))
    return render(request, "scorecard/insight.html", context)
