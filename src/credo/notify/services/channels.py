"""Channels: which configured gateway carries a kind of message, and saving a channel."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from credo.core.audit.services import audit_record
from credo.notify.models import (
    ENGINE_FOR_KIND,
    Channel,
    Kind,
)
from credo.notify.services.config import simulate_fallback


# --- channels -----------------------------------------------------------------------------------
def simulated_channel(*, create: bool = True) -> Channel | None:
    found = Channel.objects.filter(engine=Channel.Engine.SIMULATED, enabled=True).order_by(
        "-is_default", "id"
    )
    channel = found.first()
    if channel is None and create:
        try:
            with transaction.atomic():
                channel, _created = Channel.objects.get_or_create(
                    name=str(_("模拟渠道")),
                    defaults={"engine": Channel.Engine.SIMULATED, "is_default": True},
                )
        except IntegrityError:
            channel = found.first()
        if channel is not None and not channel.enabled:
            return None
    return channel


def channel_for(kind: str) -> Channel | None:
    """The channel that carries ``kind``: the enabled default of its engine, else any enabled
    one, else (demo/test, or when configured) the simulated channel."""
    engine = ENGINE_FOR_KIND[Kind(kind)]
    real = Channel.objects.filter(engine=engine, enabled=True).order_by("-is_default", "id").first()
    if real is not None:
        return real
    if kind == Kind.INAPP:
        return None  # in-app needs no gateway
    sims = Channel.objects.filter(engine=Channel.Engine.SIMULATED, enabled=True).order_by(
        "-is_default", "id"
    )
    for sim in sims:
        if not sim.simulates or kind in sim.simulates:
            return sim
    if simulate_fallback() and not Channel.objects.filter(engine=Channel.Engine.SIMULATED).exists():
        return simulated_channel()
    return None


CHANNEL_AUDITED = [
    "name",
    "engine",
    "simulates",
    "enabled",
    "is_default",
    "smtp_host",
    "smtp_port",
    "smtp_user",
    "smtp_security",
    "from_email",
    "url",
    "app_key",
    "template_map",
    "request_format",
    "timeout_seconds",
]
SECRET_FIELDS = ("smtp_password", "secret", "webhook_url")


@transaction.atomic
def channel_save(*, channel: Channel, secrets: dict[str, str], actor: Any) -> Channel:
    """Save a (validated) channel; non-empty ``secrets`` replace the stored ones. Making it the
    default clears the previous default of the same engine."""
    before: dict[str, Any] = {}
    if channel.pk:
        old = Channel.objects.select_for_update().get(pk=channel.pk)
        before = {k: getattr(old, k) for k in CHANNEL_AUDITED}
    changed = sorted(k for k, v in secrets.items() if v)
    for key in changed:
        setattr(channel, key, secrets[key])
    if channel.is_default:
        Channel.objects.filter(engine=channel.engine, is_default=True).exclude(
            pk=channel.pk
        ).update(is_default=False)
    channel.save()
    after = {k: getattr(channel, k) for k in CHANNEL_AUDITED}
    audit_record(
        action="notify.channel_update" if before else "notify.channel_create",
        actor=actor,
        obj=channel,
        changes={k: [before.get(k), v] for k, v in after.items() if before.get(k) != v},
        metadata={"secrets_changed": changed},
    )
    return channel
