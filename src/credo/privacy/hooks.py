"""The privacy app's contributions to lower apps' registries: the data-subject requests about
a customer appear on its 360 page (申请与贷款 tab) for the privacy officer."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from credo.customers.selectors import register_business_provider


def customer_requests(customer: Any, user: Any) -> list[dict[str, Any]]:
    if user is None or not user.has_perm("privacy.handle_requests"):
        return []
    from credo.privacy.models import DataSubjectRequest

    rows = DataSubjectRequest.objects.filter(customer=customer).order_by("-received_on", "-id")
    return [
        {
            "kind": _("个人信息请求"),
            "title": f"{r.get_kind_display()} #{r.pk}",
            "url": reverse("privacy:request_detail", args=[r.pk]),
            "amount": "",
            "status": r.get_status_display(),
            "date": r.received_on,
        }
        for r in rows[:20]
    ]


register_business_provider(customer_requests)
