"""``{% imapps_login_links %}``: the 企业微信登录 / 钉钉登录 buttons of the staff login page,
shown only for enabled, configured platforms."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("imapps/_login_links.html", takes_context=True)
def imapps_login_links(context: Any) -> dict[str, Any]:
    from credo.imapps.models import ImApp

    apps = [a for a in ImApp.objects.filter(enabled=True) if a.configured]
    return {"apps": apps, "next": context.get("next", "")}
