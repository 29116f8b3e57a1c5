"""What collections contributes to other apps' hooks: notify templates, the after-EOD batch."""

from credo.collections.services import register_templates
from credo.collections.tasks import on_eod_done
from credo.lending.eod import register_eod_done_listener

register_templates()
register_eod_done_listener(on_eod_done)
