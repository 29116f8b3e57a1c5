"""Writes of the report engine: saved reports, schedules, deliveries, the daily snapshot."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import clock, fsm
from credo.core.audit.services import audit_record
from credo.core.dbrouter import read_replica
from credo.lending.states import LOAN_OPEN_STATES
from credo.reports import states  # noqa: F401  (registers the ReportRun machine)
from credo.reports.datasets import QueryError, run_query
from credo.reports.models import (
    DueSummary,
    PortfolioSnapshot,
    ReportRun,
    ReportSchedule,
    SavedReport,
)

CHANNELS = ("inapp", "email", "wecom", "dingtalk")
# Collection-rate KPIs (day/week/month and the previous period) and the repayment forecast's
# 90-day history fall in the past window; the forecast's next 90 days in the future one.
DUE_WINDOW_DAYS = 92
DUE_FUTURE_DAYS = 91


class ReportError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _clean_spec(spec: dict[str, Any], user: Any) -> dict[str, Any]:
    """Validate a spec by running it with ``limit=1`` for its owner (fields, filters, scope)."""
    clean = {
        "dataset": str(spec.get("dataset", "")),
        "dimensions": list(spec.get("dimensions") or []),
        "measures": list(spec.get("measures") or []),
        "filters": list(spec.get("filters") or []),
        "order": str(spec.get("order") or ""),
    }
    try:
        run_query(user, {**clean, "limit": 1})
    except QueryError as exc:
        raise ReportError(exc.message) from None
    return clean


@transaction.atomic
def report_save(
    *,
    actor: Any,
    name: str,
    spec: dict[str, Any],
    chart: str = "table",
    shared: bool = False,
    on_dashboard: bool = False,
    report: SavedReport | None = None,
) -> SavedReport:
    name = (name or "").strip()
    if not name:
        raise ReportError(_("请填写报表名称。"))
    if chart not in SavedReport.Chart.values:
        raise ReportError(_("不支持的图表类型。"))
    clean = _clean_spec(spec, actor)
    if report is None:
        report = SavedReport(owner=actor)
        action = "report.create"
    else:
        report = SavedReport.objects.select_for_update().get(pk=report.pk)
        if report.owner_id != actor.pk:
            raise ReportError(_("只能修改自己创建的报表。"))
        action = "report.update"
    report.name, report.dataset, report.spec = name[:120], clean["dataset"], clean
    report.chart, report.shared, report.on_dashboard = chart, shared, on_dashboard
    report.save()
    audit_record(action=action, actor=actor, obj=report, metadata={"spec": clean, "chart": chart})
    return report


@transaction.atomic
def report_delete(*, report: SavedReport, actor: Any) -> None:
    if report.owner_id != actor.pk:
        raise ReportError(_("只能删除自己创建的报表。"))
    audit_record(action="report.delete", actor=actor, obj=report, metadata={"name": report.name})
    report.delete()


# --- schedules -----------------------------------------------------------------------------------
def next_run(schedule: ReportSchedule, after: dt.datetime) -> dt.datetime:
    """The first slot strictly after ``after`` (local time of the deployment)."""
    local = timezone.localtime(after)
    day = local.date()
    for _i in range(0, 400):
        candidate = timezone.make_aware(dt.datetime.combine(day, schedule.time))
        ok = (
            schedule.frequency == ReportSchedule.Frequency.DAILY
            or (
                schedule.frequency == ReportSchedule.Frequency.WEEKLY
                and day.isoweekday() == (schedule.weekday or 1)
            )
            or (
                schedule.frequency == ReportSchedule.Frequency.MONTHLY
                and day.day == (schedule.day_of_month or 1)
            )
        )
        if ok and candidate > after:
            return candidate
        day += dt.timedelta(days=1)
    raise ReportError(_("无法计算下次运行时间。"))


@transaction.atomic
def schedule_create(
    *,
    report: SavedReport,
    actor: Any,
    frequency: str,
    time: dt.time,
    recipients: list[Any],
    channels: list[str],
    weekday: int | None = None,
    day_of_month: int | None = None,
    now: dt.datetime | None = None,
) -> ReportSchedule:
    if frequency not in ReportSchedule.Frequency.values:
        raise ReportError(_("请选择发送频率。"))
    if frequency == "weekly" and not (weekday and 1 <= weekday <= 7):
        raise ReportError(_("每周发送请选择星期几（1–7）。"))
    if frequency == "monthly" and not (day_of_month and 1 <= day_of_month <= 28):
        raise ReportError(_("每月发送请选择 1–28 日。"))
    if not recipients:
        raise ReportError(_("请至少选择一位接收人。"))
    bad = [c for c in channels if c not in CHANNELS]
    if bad or not channels:
        raise ReportError(_("请选择有效的发送渠道。"))
    if not (report.owner_id == actor.pk or report.shared):
        raise ReportError(_("只能为自己的或共享的报表设置定时发送。"))
    schedule = ReportSchedule(
        report=report,
        frequency=frequency,
        time=time,
        weekday=weekday,
        day_of_month=day_of_month,
        channels=channels,
        created_by=actor,
    )
    schedule.next_run_at = next_run(schedule, now or timezone.now())
    schedule.save()
    schedule.recipients.set(recipients)
    audit_record(
        action="report.schedule",
        actor=actor,
        obj=report,
        metadata={
            "schedule": schedule.pk,
            "frequency": frequency,
            "time": time.isoformat(),
            "recipients": [u.pk for u in recipients],
            "channels": channels,
        },
    )
    return schedule


def run_due_schedules(now: dt.datetime | None = None) -> int:
    """Deliver every schedule whose slot has come (each slot at most once, even with several
    schedulers: the ReportRun row is unique per schedule and slot)."""
    now = now or timezone.now()
    done = 0
    for schedule in ReportSchedule.objects.filter(active=True, next_run_at__lte=now).select_related(
        "report", "report__owner"
    ):
        slot = schedule.next_run_at
        assert slot is not None
        try:
            with transaction.atomic():
                run = ReportRun.objects.create(schedule=schedule, slot=slot, status="done")
                ReportSchedule.objects.filter(pk=schedule.pk).update(
                    next_run_at=next_run(schedule, max(now, slot))
                )
        except IntegrityError:
            continue  # another scheduler took this slot
        try:
            rows = deliver(schedule, run)
            ReportRun.objects.filter(pk=run.pk).update(rows=rows)
        except Exception as exc:  # noqa: BLE001 — any delivery problem is recorded on the run, never lost
            fsm.transition_queryset(
                ReportRun.objects.filter(pk=run.pk), ReportRun.Status.FAILED, error=str(exc)[:2000]
            )
        done += 1
    return done


def deliver(schedule: ReportSchedule, run: ReportRun) -> int:
    """Each recipient gets the report as *they* may see it (their data scope and field
    permissions): by e-mail an Excel attachment, on the other channels a summary with a link
    to the run's export (generated for whoever opens it). Returns the owner's row count."""
    from pathlib import Path

    from django.conf import settings
    from django.urls import reverse

    from credo.notify.services import notify
    from credo.reports.exporting import xlsx_for

    report = schedule.report
    recipients = list(schedule.recipients.filter(is_active=True))
    # the run records the owner's row count; reuse the owner's result when they also receive it
    with read_replica():  # the report's rows from the read replica, when configured
        results = {u.pk: run_query(u, report.spec) for u in recipients}
        owner_result = results.get(report.owner_id) or run_query(report.owner, report.spec)
    rows = len(owner_result.rows)
    url = reverse("reports:run_export", args=[run.pk])
    root = Path(getattr(settings, "CREDO_DOCUMENT_ROOT", ""))
    stamp = timezone.localtime(run.slot).strftime("%Y%m%d")
    for user in recipients:
        result = results[user.pk]
        attachments: list[dict[str, str]] = []
        if "email" in schedule.channels:
            relative = f"reports/run-{run.pk}/{user.pk}.xlsx"
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(xlsx_for(report.dataset, user, result, report.name))
            attachments = [{"name": f"{report.name}-{stamp}.xlsx", "path": relative}]
        summary = _("%(name)s：%(n)d 行数据") % {"name": report.name, "n": len(result.rows)}
        for channel in schedule.channels:
            notify(
                template="reports.scheduled",
                context={
                    "report": report.name,
                    "rows": len(result.rows),
                    "url": url,
                    "summary": summary,
                },
                user=user,
                channel=channel,
                dedupe_key=f"report-run:{run.pk}:{user.pk}:{channel}",
                url=url,
                attachments=attachments if channel == "email" else None,
            )
    return rows


# --- snapshot ------------------------------------------------------------------------------------
def live_book_date() -> dt.date:
    """The business date the live loan book stands at: the last completed close of business
    (today on the business clock before the first close)."""
    from credo.lending.eod import last_done_date

    return last_done_date() or clock.today()


def check_snapshot_date(business_date: dt.date) -> None:
    """Refuse to build ``business_date``'s snapshot from the live book when the book already
    stands at a later date: it would freeze today's balances under a past date (the trend would
    jump and a closed period's figures would change)."""
    live = live_book_date()
    if business_date < live:
        raise ReportError(
            _(
                "不能用当前贷款余额生成 %(d)s 的组合快照：当前账面已是 %(live)s 日终后的数据，"
                "历史日期的快照只能由当天的日终批处理生成。"
            )
            % {"d": business_date.isoformat(), "live": live.isoformat()}
        )


def snapshot_refresh(business_date: dt.date) -> int:
    """Rewrite the portfolio snapshot of ``business_date`` from the loan book (one GROUP BY);
    refused (:class:`ReportError`) for a date before the live book's date."""
    from credo.lending.models import Loan

    check_snapshot_date(business_date)

    rows = (
        Loan.objects.filter(status__in=LOAN_OPEN_STATES)
        .values("owner_id", "team_id", "branch_id", "product_version__product_id")
        .annotate(
            n=Count("id"),
            bal=Sum("outstanding_principal"),
            od_n=Count("id", filter=Q(dpd__gt=0)),
            od_bal=Sum("outstanding_principal", filter=Q(dpd__gt=0)),
            m1=Sum("outstanding_principal", filter=Q(dpd__gt=30)),
            m3=Sum("outstanding_principal", filter=Q(dpd__gt=90)),
        )
        .order_by()
    )
    from credo.reports.datasets import _num

    objs = [
        PortfolioSnapshot(
            business_date=business_date,
            owner_id=r["owner_id"],
            team_id=r["team_id"],
            branch_id=r["branch_id"],
            product_id=r["product_version__product_id"],
            loans=r["n"],
            outstanding=_num(r["bal"]),
            overdue_loans=r["od_n"],
            overdue_balance=_num(r["od_bal"]),
            m1_balance=_num(r["m1"]),
            m3_balance=_num(r["m3"]),
        )
        for r in rows
    ]
    with transaction.atomic():
        PortfolioSnapshot.objects.filter(business_date=business_date).delete()
        PortfolioSnapshot.objects.bulk_create(objs, batch_size=2000)
    return len(objs)


def trend(user: Any, days: int = 30, end: dt.date | None = None) -> list[dict[str, Any]]:
    """Daily outstanding balance and overdue rate (by balance) for the user's scope."""
    from credo.accounts.scope import scope_queryset
    from credo.reports.datasets import _num

    end = end or clock.today()
    qs = scope_queryset(
        PortfolioSnapshot.objects.filter(
            business_date__gt=end - dt.timedelta(days=days), business_date__lte=end
        ),
        user,
    )
    series = []
    for r in (
        qs.values("business_date")
        .annotate(bal=Sum("outstanding"), od=Sum("overdue_balance"), n=Sum("loans"))
        .order_by("business_date")
    ):
        bal, od = int(_num(r["bal"])), int(_num(r["od"]))
        series.append(
            {
                "date": r["business_date"].isoformat(),
                "outstanding": bal,
                "overdue_rate": round(od / bal, 4) if bal else 0,
                "loans": r["n"],
            }
        )
    return series


def due_summary_refresh(business_date: dt.date) -> int:
    """Rewrite due/paid per due date × account manager for the window ending at
    ``business_date`` (payments arriving late change past days, so the whole window is redone)."""
    from django.db.models import F

    from credo.lending.models import Installment
    from credo.reports.datasets import _num

    start = business_date - dt.timedelta(days=DUE_WINDOW_DAYS)
    end = business_date + dt.timedelta(days=DUE_FUTURE_DAYS)
    rows = (
        Installment.objects.filter(due_date__gte=start, due_date__lte=end)
        .filter(Q(due_date__lte=business_date) | Q(loan__status__in=LOAN_OPEN_STATES))
        .exclude(loan__status="pending")
        .values("due_date", "loan__owner_id", "loan__team_id", "loan__branch_id")
        .annotate(
            due=Sum(F("principal_due") + F("interest_due") + F("fee_due")),
            paid=Sum(F("principal_paid") + F("interest_paid") + F("fee_paid")),
        )
        .order_by()
    )
    objs = [
        DueSummary(
            due_date=r["due_date"],
            owner_id=r["loan__owner_id"],
            team_id=r["loan__team_id"],
            branch_id=r["loan__branch_id"],
            due=_num(r["due"]),
            paid=_num(r["paid"]),
            as_of=business_date,
        )
        for r in rows
    ]
    with transaction.atomic():
        DueSummary.objects.filter(due_date__gte=start).delete()
        DueSummary.objects.filter(due_date__lt=start).delete()
        DueSummary.objects.bulk_create(objs, batch_size=2000)
    return len(objs)
