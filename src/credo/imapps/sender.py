"""The notify engines ``wecom_app`` / ``dingtalk_app``: deliver one queued card message through
the platform's message API (registered in ``credo.notify.gateways.APP_SENDERS``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from credo.imapps.clients import client_for
from credo.imapps.errors import ImAppError
from credo.imapps.models import ImApp, Platform
from credo.notify.errors import GatewayError
from credo.notify.gateways import APP_SENDERS, Delivery
from credo.notify.models import Channel, Message

ENGINE_PLATFORM = {"wecom_app": Platform.WECOM, "dingtalk_app": Platform.DINGTALK}


def send_card(channel: Channel, message: Message) -> Delivery:
    platform = ENGINE_PLATFORM[channel.engine]
    app = ImApp.objects.filter(platform=platform).first()
    if app is None or not app.enabled:
        raise GatewayError(_("%(p)s应用未启用。") % {"p": Platform(platform).label}, permanent=True)
    if not message.address:
        raise GatewayError(
            _("接收人没有%(p)s账号。") % {"p": Platform(platform).label}, permanent=True
        )
    buttons = list((message.params or {}).get("buttons") or [])
    try:
        msgid = client_for(app).send_card(
            message.address,
            title=message.subject,
            description=message.body,
            url=message.url,
            buttons=buttons,
        )
    except ImAppError as exc:
        raise GatewayError(exc.message, permanent=not exc.transient) from exc
    return Delivery(provider_message_id=msgid, response="ok")


APP_SENDERS.register("wecom_app", send_card)
APP_SENDERS.register("dingtalk_app", send_card)
