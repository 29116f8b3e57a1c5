"""Delivery through one configured channel. Called outside any transaction by the sender.

Every engine returns a :class:`Delivery` or raises :class:`GatewayError`; all HTTP goes through
:func:`http_post` (stdlib urllib, with a timeout) so tests can replace it.
"""

from __future__ import annotations

import json
import re
import secrets
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.mail import EmailMessage, get_connection
from django.utils.translation import gettext as _

from credo.core.registry import Registry
from credo.notify.errors import GatewayError
from credo.notify.models import Channel, Message
from credo.notify.signing import dingtalk_url, sms_signature


@dataclass
class Delivery:
    provider_message_id: str = ""
    response: str = ""


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: int) -> tuple[int, str]:
    """POST and return (status, text). Network errors and timeouts raise a transient error."""
    if not url.startswith(("https://", "http://")):
        raise GatewayError(_("网关地址无效。"), permanent=True)
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:  # noqa: S310
            return resp.status, resp.read(100_000).decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(100_000).decode("utf-8", errors="replace")
    except TimeoutError as exc:
        raise GatewayError(_("网关响应超时（%(s)s 秒）。") % {"s": timeout}) from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise GatewayError(_("网关响应超时（%(s)s 秒）。") % {"s": timeout}) from exc
        raise GatewayError(_("网关连接失败：%(e)s") % {"e": exc.reason}) from exc
    except OSError as exc:
        raise GatewayError(_("网关连接失败：%(e)s") % {"e": exc}) from exc


def _dig(payload: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(payload, dict):
            payload = payload.get(part)
        elif isinstance(payload, list) and part.isdigit() and int(part) < len(payload):
            payload = payload[int(part)]
        else:
            return None
    return payload


def _check_status(status: int, text: str) -> None:
    if 200 <= status < 300:
        return
    excerpt = text[:300]
    # 4xx (except 429) is a configuration problem: retrying cannot help.
    permanent = 400 <= status < 500 and status != 429
    raise GatewayError(
        _("网关返回 HTTP %(code)s：%(text)s") % {"code": status, "text": excerpt},
        permanent=permanent,
        response=excerpt,
    )


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


# --- SMS over a configurable HTTP gateway -------------------------------------------------------
DEFAULT_SMS_FORMAT: dict[str, Any] = {
    "headers": {
        "X-App-Key": "{app_key}",
        "X-Timestamp": "{timestamp}",
        "X-Nonce": "{nonce}",
        "X-Signature": "{signature}",
    },
    "body": {
        "app_key": "{app_key}",
        "phone": "{phone}",
        "template_id": "{template_id}",
        "params": "{params}",
        "content": "{content}",
    },
    "sign": "{app_key}{timestamp}{nonce}{body}",
    "success_path": "",
    "success_value": "",
    "message_id_path": "",
}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _fill(value: Any, values: dict[str, Any]) -> Any:
    """Replace ``{name}`` placeholders; a string that is exactly ``{params}`` becomes the dict."""
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole and whole.group(1) in values and not isinstance(values[whole.group(1)], str):
            return values[whole.group(1)]
        return _PLACEHOLDER.sub(
            lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), value
        )
    return value


def sms_request(
    channel: Channel, message: Message, *, timestamp: int, nonce: str
) -> tuple[bytes, dict[str, str]]:
    """The body and headers the SMS gateway receives (pure given timestamp and nonce)."""
    fmt = {**DEFAULT_SMS_FORMAT, **(channel.request_format or {})}
    mapping = channel.template_map or {}
    template_id = mapping.get(message.template_code, "")
    if mapping and not template_id:
        raise GatewayError(
            _("短信渠道未配置模板 %(code)s 的服务商模板编号。") % {"code": message.template_code},
            permanent=True,
        )
    values: dict[str, Any] = {
        "app_key": channel.app_key,
        "phone": message.address,
        "template_id": template_id,
        "params": {k: str(v) for k, v in (message.params or {}).items()},
        "content": message.body,
        "timestamp": str(timestamp),
        "nonce": nonce,
    }
    body = json.dumps(
        _fill(fmt["body"], values), ensure_ascii=False, separators=(",", ":")
    ).encode()
    values["body"] = body.decode()
    values["signature"] = sms_signature(channel.secret, _fill(fmt["sign"], values))
    headers = {"Content-Type": "application/json; charset=utf-8"}
    headers.update({k: str(v) for k, v in _fill(fmt["headers"], values).items()})
    return body, headers


def send_sms(channel: Channel, message: Message) -> Delivery:
    fmt = {**DEFAULT_SMS_FORMAT, **(channel.request_format or {})}
    body, headers = sms_request(
        channel, message, timestamp=int(time.time() * 1000), nonce=secrets.token_hex(8)
    )
    status, text = http_post(channel.url, body, headers, channel.timeout_seconds)
    _check_status(status, text)
    payload = _json(text)
    if fmt.get("success_path"):
        got = _dig(payload, fmt["success_path"])
        if str(got) != str(fmt.get("success_value", "")):
            raise GatewayError(
                _("短信网关返回失败：%(text)s") % {"text": text[:300]}, response=text[:300]
            )
    mid = _dig(payload, fmt["message_id_path"]) if fmt.get("message_id_path") else ""
    return Delivery(provider_message_id=str(mid or ""), response=text[:1000])


# --- group bots ---------------------------------------------------------------------------------
def _bot_text(message: Message) -> str:
    prefix = ""
    user = message.user
    if user is not None:
        prefix = f"@{user.display_name or user.username} "
    head = f"【{message.subject}】\n" if message.subject else ""
    return f"{prefix}{head}{message.body}"


def _bot_result(status: int, text: str) -> Delivery:
    _check_status(status, text)
    payload = _json(text)
    if not isinstance(payload, dict) or payload.get("errcode") not in (0, "0"):
        raise GatewayError(
            _("机器人返回失败：%(text)s") % {"text": text[:300]}, response=text[:300]
        )
    return Delivery(response=text[:1000])


def send_wecom(channel: Channel, message: Message) -> Delivery:
    text: dict[str, Any] = {"content": _bot_text(message)}
    if message.address:
        text["mentioned_mobile_list"] = [message.address]
    body = json.dumps({"msgtype": "text", "text": text}, ensure_ascii=False).encode()
    status, resp = http_post(
        channel.webhook_url, body, {"Content-Type": "application/json"}, channel.timeout_seconds
    )
    return _bot_result(status, resp)


def send_dingtalk(channel: Channel, message: Message) -> Delivery:
    payload: dict[str, Any] = {"msgtype": "text", "text": {"content": _bot_text(message)}}
    if message.address:
        payload["at"] = {"atMobiles": [message.address]}
    url = dingtalk_url(channel.webhook_url, channel.secret, int(time.time() * 1000))
    body = json.dumps(payload, ensure_ascii=False).encode()
    status, resp = http_post(
        url, body, {"Content-Type": "application/json"}, channel.timeout_seconds
    )
    return _bot_result(status, resp)


# --- e-mail -------------------------------------------------------------------------------------
def _attachment_bytes(relative: str) -> bytes:
    """Attachments live in the private document store; a path escaping it is refused."""
    from pathlib import Path

    from django.conf import settings

    root = Path(getattr(settings, "CREDO_DOCUMENT_ROOT", "")).resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise GatewayError(_("附件路径无效。"), permanent=True)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise GatewayError(_("附件读取失败：%(e)s") % {"e": exc}, permanent=True) from exc


def _mimetype(name: str) -> str:
    import mimetypes

    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def send_email(channel: Channel, message: Message) -> Delivery:
    if channel.smtp_host:
        connection = get_connection(
            "django.core.mail.backends.smtp.EmailBackend",
            host=channel.smtp_host,
            port=channel.smtp_port or (465 if channel.smtp_security == "ssl" else 587),
            username=channel.smtp_user or None,
            password=channel.smtp_password or None,
            use_tls=channel.smtp_security == "starttls",
            use_ssl=channel.smtp_security == "ssl",
            timeout=channel.timeout_seconds,
            fail_silently=False,
        )
    else:  # the deployment's EMAIL_* settings
        connection = get_connection(fail_silently=False)
    email = EmailMessage(
        subject=message.subject or message.template_code,
        body=message.body,
        from_email=channel.from_email or None,
        to=[message.address],
        connection=connection,
    )
    for item in message.attachments or []:
        email.attach(item["name"], _attachment_bytes(item["path"]), _mimetype(item["name"]))
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as exc:
        raise GatewayError(_("收件人被拒绝：%(e)s") % {"e": exc}, permanent=True) from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise GatewayError(_("SMTP 认证失败。"), permanent=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise GatewayError(_("邮件发送失败：%(e)s") % {"e": exc}) from exc
    return Delivery(response="250 OK")


def send_simulated(channel: Channel, message: Message) -> Delivery:
    record = {
        "engine": "simulated",
        "kind": message.kind,
        "to": message.address_masked,
        "subject": message.subject,
        "body": message.body,
        "params": message.params,
    }
    return Delivery(
        provider_message_id=f"SIM-{message.pk}",
        response=json.dumps(record, ensure_ascii=False),
    )


def send_inapp(channel: Channel | None, message: Message) -> Delivery:
    return Delivery()


SENDERS: dict[str, Callable[[Channel, Message], Delivery]] = {
    Channel.Engine.SMS_HTTP: send_sms,
    Channel.Engine.WECOM_BOT: send_wecom,
    Channel.Engine.DINGTALK_BOT: send_dingtalk,
    Channel.Engine.EMAIL: send_email,
    Channel.Engine.SIMULATED: send_simulated,
    Channel.Engine.INAPP: send_inapp,
}


#: Senders of personal app messages (企业微信应用消息, 钉钉工作通知), keyed by engine. The
#: sending code lives in a higher layer (credo.imapps) and registers itself here.
APP_SENDERS: Registry[Callable[[Channel, Message], Delivery]] = Registry(
    "app message senders", on_duplicate="replace"
)


def deliver(channel: Channel | None, message: Message) -> Delivery:
    if message.kind == "inapp" and (channel is None or channel.engine != "simulated"):
        return send_inapp(channel, message)
    if channel is None:
        raise GatewayError(_("没有可用的发送渠道。"))
    if not channel.enabled:
        raise GatewayError(_("渠道“%(n)s”已停用。") % {"n": channel.name})
    app_sender = APP_SENDERS.get(channel.engine)
    if app_sender is not None:
        return app_sender(channel, message)
    if channel.engine not in SENDERS:
        raise GatewayError(_("渠道类型“%(e)s”未安装。") % {"e": channel.engine}, permanent=True)
    return SENDERS[channel.engine](channel, message)
