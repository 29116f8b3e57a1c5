"""What collections contributes to other apps' hooks: notify templates, the after-EOD batch."""

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from credo.collections.services import register_templates
from credo.collections.tasks import RESULT_LABELS, on_eod_done
from credo.lending.eod import register_after_close_job
from credo.lending.replay.hooks import on_loan_replayed

register_templates()
register_after_close_job(
    "collections",
    on_eod_done,
    label=_("催收案件刷新"),
    order=20,
    result_labels=RESULT_LABELS,
)


@on_loan_replayed
def close_cases_after_replay(
    loan_id: int, before: Mapping[str, Any], after: Mapping[str, Any]
) -> None:
    """A back-valued repayment (倒起息) or a correction replayed the loan: a case opened only
    because of the wrong state is closed, with the reason, once the loan is no longer overdue."""
    if before.get("status") != "overdue" or after.get("status") == "overdue":
        return
    from django.db import transaction

    from credo.collections.models import CollectionCase
    from credo.collections.services.cases import _close_cases
    from credo.core.audit.services import audit_record

    with transaction.atomic():
        cases = list(
            CollectionCase.objects.select_for_update()
            .filter(loan_id=loan_id)
            .exclude(status=CollectionCase.Status.CLOSED)
        )
        if not cases:
            return
        _close_cases(cases)
        from credo.customers.events import record_events_bulk

        record_events_bulk(
            [
                {
                    "customer_id": c.customer_id,
                    "kind": "collection",
                    "source": "collections",
                    "obj": c,
                    "title": _("催收案件结案：%(r)s") % {"r": REPLAY_CLOSE_REASON},
                    "detail": {"case": c.pk, "reason": "replay"},
                }
                for c in cases
            ]
        )
        audit_record(
            action="collections.case_close_replay",
            actor=None,
            object_type="lending.loan",
            object_id=loan_id,
            object_repr=str(loan_id),
            metadata={"cases": [c.pk for c in cases], "reason": str(REPLAY_CLOSE_REASON)},
        )


REPLAY_CLOSE_REASON = _("倒起息入账后已无逾期")
