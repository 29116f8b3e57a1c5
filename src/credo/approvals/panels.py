"""Subject panels on the approval pages: what the approver decides on, shown next to the
actions (terms, admission, scores, documents of a loan application …).

The approvals app depends on no other app: the app that owns a subject type registers a
renderer from its ``AppConfig.ready`` (like the outcome listeners). The renderer gets the request
and the instance and returns HTML ("" to show nothing); it must check the user's access itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from credo.core.registry import Registry

logger = logging.getLogger(__name__)

Panel = Callable[[Any, Any], str]
# subject type → renderer; a later registration of the same subject type replaces the earlier
subject_panels: Registry[Panel] = Registry("approval subject panels", on_duplicate="replace")


def register_subject_panel(subject_type: str, render: Panel) -> None:
    """``subject_type`` is the subject's ``app_label.model_name`` (``ApprovalInstance``)."""
    subject_panels.register(subject_type, render)


def subject_panel(request: Any, instance: Any) -> SafeString:
    render = subject_panels.get(getattr(instance, "subject_type", ""))
    if render is None:
        return mark_safe("")  # noqa: S308 (constant)
    return mark_safe(render(request, instance))  # noqa: S308 (rendered by a Django template)
