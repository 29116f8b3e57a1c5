"""Retention policies per data class, run nightly (``privacy.retention`` schedule) and from the
保留策略 page. Each policy removes what its class no longer needs and reports what it removed;
nothing of a person under a legal hold is touched. Periods are configuration
(``CREDO_PRIVACY_RETENTION_DAYS``, a dict of policy key → days) with the defaults below.

The first "policy" executes the deletion requests held for a retention period that has ended.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credo.core.audit.services import audit_record
from credo.core.registry import Registry
from credo.customers.models import Customer, DataKind, ExternalPull
from credo.leads.models import Lead
from credo.origination.models import Application, Document
from credo.privacy import selectors
from credo.privacy.anonymize import (
    Anonymized,
    anonymize_customer,
    anonymize_lead,
    remove_documents,
)
from credo.privacy.models import LegalHold, RetentionRun

#: Cap on the ids listed per policy in a run's report (counts are always exact).
REPORT_IDS = 500


@dataclass(frozen=True)
class Held:
    customers: frozenset[int]
    leads: frozenset[int]


@dataclass(frozen=True)
class Policy:
    key: str
    label: Any
    default_days: int | None  # None: the policy has its own clock (settings, scheduled dates)
    run: Callable[[dt.date, Any, Held, int | None], dict[str, Any]]
    basis: Any = ""


policies: Registry[Policy] = Registry("retention policies")


def register_policy(policy: Policy) -> None:
    policies.register(policy.key, policy)


def period_days(policy: Policy) -> int | None:
    overrides = dict(getattr(settings, "CREDO_PRIVACY_RETENTION_DAYS", {}) or {})
    value = overrides.get(policy.key, policy.default_days)
    return int(value) if value is not None else None


def _cutoff(today: dt.date, days: int) -> dt.datetime:
    return dt.datetime.combine(
        today - dt.timedelta(days=days), dt.time.min, tzinfo=timezone.get_current_timezone()
    )


def _report(ids: list[int], **extra: Any) -> dict[str, Any]:
    return {"removed": len(ids), "ids": ids[:REPORT_IDS], **extra}


# --- the policies ------------------------------------------------------------------------------
def _held_deletions(today: dt.date, actor: Any, held: Held, days: int | None) -> dict[str, Any]:
    from credo.privacy.services import held_deletions_run

    return _report(held_deletions_run(today=today))


def _rejected_documents(today: dt.date, actor: Any, held: Held, days: int | None) -> dict[str, Any]:
    assert days is not None
    A = Application.Status
    docs = Document.objects.filter(
        application__status__in=[A.ADMISSION_REJECTED, A.REJECTED, A.WITHDRAWN],
    ).filter(
        Q(application__decided_at__lt=_cutoff(today, days))
        | Q(application__decided_at__isnull=True, application__updated_at__lt=_cutoff(today, days))
    )
    skipped = docs.filter(application__customer_id__in=held.customers).count()
    docs = docs.exclude(application__customer_id__in=held.customers)
    ids = list(docs.order_by("id").values_list("id", flat=True))
    with transaction.atomic():
        remove_documents(Document.objects.filter(id__in=ids), Anonymized())
    return _report(ids, skipped_held=skipped)


def _unconverted_leads(today: dt.date, actor: Any, held: Held, days: int | None) -> dict[str, Any]:
    assert days is not None
    leads = (
        Lead.objects.filter(customer__isnull=True, updated_at__lt=_cutoff(today, days))
        .exclude(stage=Lead.Stage.CONVERTED)
        .exclude(name__startswith="已删除线索#")
    )
    skipped = leads.filter(id__in=held.leads).count()
    ids = []
    for lead in leads.exclude(id__in=held.leads).order_by("id"):
        anonymize_lead(lead, actor=actor)
        ids.append(lead.pk)
    return _report(ids, skipped_held=skipped)


def _bureau_reports(today: dt.date, actor: Any, held: Held, days: int | None) -> dict[str, Any]:
    assert days is not None
    pulls = ExternalPull.objects.filter(
        kind=DataKind.BUREAU, requested_at__lt=_cutoff(today, days)
    ).exclude(raw_payload="", parsed={})
    skipped = pulls.filter(customer_id__in=held.customers).count()
    pulls = pulls.exclude(customer_id__in=held.customers)
    ids = list(pulls.order_by("id").values_list("id", flat=True))
    ExternalPull.objects.filter(id__in=ids).update(raw_payload="", parsed={})
    return _report(ids, skipped_held=skipped)


def _import_files(today: dt.date, actor: Any, held: Held, days: int | None) -> dict[str, Any]:
    from credo.core.uploads import purge_expired

    return {"removed": purge_expired(), "ids": []}


def _closed_customers(today: dt.date, actor: Any, held: Held, days: int | None) -> dict[str, Any]:
    assert days is not None
    customers = Customer.objects.filter(
        status=Customer.Status.CLOSED, updated_at__lt=_cutoff(today, days)
    ).exclude(name__startswith="已删除客户#")
    skipped = customers.filter(id__in=held.customers).count()
    ids, kept = [], 0
    for customer in customers.exclude(id__in=held.customers).order_by("id"):
        if selectors.retention_basis(customer=customer, today=today).basis:
            kept += 1
            continue
        anonymize_customer(customer, actor=actor)
        ids.append(customer.pk)
    return _report(ids, skipped_held=skipped, kept_retention=kept)


register_policy(
    Policy("held_deletions", _("保留期满的删除请求"), None, _held_deletions, _("删除请求"))
)
register_policy(
    Policy(
        "rejected_documents",
        _("未获批申请人的申请资料"),
        365,
        _rejected_documents,
        _("拒绝/撤回后一年"),
    )
)
register_policy(
    Policy(
        "unconverted_leads",
        _("未转化的线索"),
        730,
        _unconverted_leads,
        _("最后更新后两年"),
    )
)
register_policy(
    Policy(
        "bureau_reports",
        _("征信报告原文"),
        730,
        _bureau_reports,
        _("查询后两年（授权用途已实现）"),
    )
)
register_policy(
    Policy(
        "import_files",
        _("导入文件"),
        None,
        _import_files,
        _("CREDO_IMPORT_FILE_TTL_HOURS 小时后"),
    )
)
register_policy(
    Policy(
        "closed_customers",
        _("已注销客户"),
        365,
        _closed_customers,
        _("注销一年后，且最后一笔贷款结清已满 CREDO_PRIVACY_RETENTION_YEARS 年"),
    )
)


def held() -> Held:
    rows = LegalHold.objects.filter(released_at__isnull=True).values_list("customer_id", "lead_id")
    customers = {c for c, _l in rows if c is not None}
    leads = {ld for _c, ld in rows if ld is not None}
    # A hold on a customer covers its leads too.
    leads |= set(Lead.objects.filter(customer_id__in=customers).values_list("id", flat=True))
    return Held(frozenset(customers), frozenset(leads))


def run_policies(*, actor: Any, today: dt.date) -> RetentionRun:
    run = RetentionRun.objects.create(run_on=today, actor=actor)
    report: dict[str, Any] = {}
    hold = held()
    for policy in policies:
        result = policy.run(today, actor, hold, period_days(policy))
        report[policy.key] = {"label": str(policy.label), **result}
    run.report = report
    run.finished_at = timezone.now()
    run.save(update_fields=["report", "finished_at"])
    audit_record(
        action="privacy.retention_run",
        actor=actor,
        obj=run,
        metadata={k: {"removed": v["removed"]} for k, v in report.items()},
    )
    return run
