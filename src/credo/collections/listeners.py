"""What collections contributes to other apps' hooks: notify templates, the after-EOD batch."""

from django.utils.translation import gettext_lazy as _

from credo.collections.services import register_templates
from credo.collections.tasks import RESULT_LABELS, on_eod_done
from credo.lending.eod import register_after_close_job

register_templates()
register_after_close_job(
    "collections",
    on_eod_done,
    label=_("催收案件刷新"),
    order=20,
    result_labels=RESULT_LABELS,
)
