"""Public interface of the notification app and every write to its tables.

Other apps call :func:`notify` (usually inside their own transaction), or
:func:`notify_many` with :class:`Notice` items for many recipients at once (batched: one query
per step, one bulk insert, one audit row for the suppressions of a batch), and
:func:`register_template` (from their wiring modules). Messages are rows of the outbox; the
sender (:func:`send_due`, the ``notify.send_due`` schedule, and a send enqueued on commit)
delivers them outside any transaction, retrying with exponential backoff.

Guardrails enforced here: quiet hours defer marketing/collection messages to the end of the
window; a per-recipient, per-category, per-channel daily cap suppresses the excess with the
reason shown; opted-out recipients (免打扰) are suppressed. Suppressions are audited.

Modules: ``config`` (settings), ``templates``, ``channels``, ``recipients``, ``bulk``
(:func:`notify_many`, the batch path; its guardrails in ``bulk_guardrails``, its writes in
``bulk_write``), ``outbox`` (:func:`notify` and the people's actions), ``sending`` (the sender). This package re-exports
the services used from outside it.
"""

from credo.notify.services.bulk import BulkResult, Notice, notify_many
from credo.notify.services.channels import SECRET_FIELDS, channel_for, channel_save
from credo.notify.services.outbox import (
    inbox_mark_all_read,
    message_cancel,
    message_mark_read,
    message_retry,
    message_send_test,
    notify,
)
from credo.notify.services.recipients import preference_set
from credo.notify.services.sending import release_stale, send_due, send_one
from credo.notify.services.templates import (
    TemplateSpec,
    install_templates,
    register_template,
    registered_templates,
    render,
    template_get,
    template_preview,
    template_reset,
    template_spec,
    template_update,
)

__all__ = [
    "BulkResult",
    "Notice",
    "notify_many",
    "SECRET_FIELDS",
    "TemplateSpec",
    "channel_for",
    "channel_save",
    "inbox_mark_all_read",
    "install_templates",
    "message_cancel",
    "message_mark_read",
    "message_retry",
    "message_send_test",
    "notify",
    "preference_set",
    "register_template",
    "registered_templates",
    "release_stale",
    "render",
    "send_due",
    "send_one",
    "template_get",
    "template_preview",
    "template_reset",
    "template_spec",
    "template_update",
]
