"""Deployment check of webhooks (``credo check --deploy``): endpoints sending over plain http."""

from __future__ import annotations

from django.db import DatabaseError

from credo.core.checks import OK, WARNING, Finding, deploy_checks


def check_webhook_tls() -> list[Finding]:
    """Signed, but not encrypted: business events (names, amounts) would cross the network in
    clear over http://."""
    from credo.webhooks.models import WebhookEndpoint

    try:
        plain = list(
            WebhookEndpoint.objects.filter(enabled=True, url__startswith="http://")
            .order_by("id")
            .values_list("name", flat=True)
        )
    except DatabaseError:
        return []  # reported by the database check
    if not plain:
        return [Finding(OK, "credo.I141", "", "webhook endpoints use https")]
    names = "、".join(plain[:5])
    return [
        Finding(
            WARNING,
            "credo.W141",
            "",
            f"webhook endpoints send over plain http (not encrypted): {names}; change their "
            "push URL to https under 系统 → Webhook 推送.",
        )
    ]


deploy_checks.register("webhook_tls", check_webhook_tls)
