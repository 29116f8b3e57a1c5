"""Public interface of the notification app and every write to its tables.

Other apps call :func:`notify` (usually inside their own transaction) and
:func:`register_template` (in ``AppConfig.ready()``). Messages are rows of the outbox; the
sender (:func:`send_due`, the ``notify.send_due`` schedule, and a send enqueued on commit)
delivers them outside any transaction, retrying with exponential backoff.

Guardrails enforced here: quiet hours defer marketing/collection messages to the end of the
window; a per-recipient, per-category, per-channel daily cap suppresses the excess with the
reason shown; opted-out recipients (免打扰) are suppressed. Suppressions are audited.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.template import Context, Engine, TemplateSyntaxError
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core.audit.services import audit_record
from credo.core.masking import mask
from credo.notify import guardrails
from credo.notify.errors import (
    GatewayError,
    InvalidRecipient,
    InvalidState,
    InvalidTemplate,
)
from credo.notify.models import (
    ENGINE_FOR_KIND,
    Attempt,
    Category,
    Channel,
    Kind,
    Message,
    MessageTemplate,
    NotifyPreference,
)

STAFF_KINDS = (Kind.INAPP, Kind.EMAIL, Kind.WECOM, Kind.DINGTALK)
CUSTOMER_KINDS = (Kind.SMS, Kind.EMAIL)
GROUP_KINDS = (Kind.WECOM, Kind.DINGTALK)
ACTIVE = (Message.Status.QUEUED, Message.Status.SENDING, Message.Status.SENT)
STALE_SENDING = dt.timedelta(minutes=15)
DO_NOT_CONTACT_FLAG = "do_not_contact"


# --- settings -----------------------------------------------------------------------------------
def quiet_window() -> tuple[dt.time, dt.time] | None:
    return guardrails.parse_window(getattr(settings, "CREDO_NOTIFY_QUIET_HOURS", "22:00-08:00"))


def quiet_tz() -> str:
    return getattr(settings, "CREDO_NOTIFY_QUIET_TIME_ZONE", "") or getattr(
        settings, "TIME_ZONE", "Asia/Shanghai"
    )


def quiet_categories() -> set[str]:
    return set(getattr(settings, "CREDO_NOTIFY_QUIET_CATEGORIES", ["marketing", "collection"]))


def daily_caps() -> dict[str, int]:
    return dict(getattr(settings, "CREDO_NOTIFY_DAILY_CAPS", {"collection": 3, "marketing": 2}))


def max_attempts() -> int:
    return int(getattr(settings, "CREDO_NOTIFY_MAX_ATTEMPTS", 5))


def backoff_minutes() -> list[int]:
    return list(getattr(settings, "CREDO_NOTIFY_BACKOFF_MINUTES", [1, 5, 25, 125]))


def simulate_fallback() -> bool:
    default = getattr(settings, "ENVIRONMENT", "production") != "production"
    return bool(getattr(settings, "CREDO_NOTIFY_SIMULATE", default))


# --- templates ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TemplateSpec:
    code: str
    name: str
    subject: str
    body: str
    channels: list[str]
    sample: dict[str, Any] = field(default_factory=dict)


_TEMPLATES: dict[str, TemplateSpec] = {}
# No loaders, no libraries: lender-edited templates cannot include files or load tag libraries.
_ENGINE = Engine(dirs=[], app_dirs=False, libraries={}, autoescape=False, loaders=[])


def register_template(
    code: str,
    *,
    name: Any,
    subject: str,
    body: str,
    channels: list[str],
    sample: dict[str, Any] | None = None,
) -> None:
    """Declare an app's default template; installed into the DB on first use. Lenders edit the
    DB copy afterwards (a later registration never overwrites their edits)."""
    unknown = [c for c in channels if c not in Kind.values]
    if unknown:
        raise ValueError(f"template {code!r}: unknown channels {unknown}")
    compile_template(subject, body)  # a broken default is a programming error: fail at startup
    _TEMPLATES.setdefault(
        code, TemplateSpec(code, str(name), subject, body, list(channels), dict(sample or {}))
    )


def registered_templates() -> dict[str, TemplateSpec]:
    return dict(_TEMPLATES)


def template_spec(code: str) -> TemplateSpec | None:
    return _TEMPLATES.get(code)


def compile_template(subject: str, body: str) -> None:
    try:
        _ENGINE.from_string(subject)
        _ENGINE.from_string(body)
    except TemplateSyntaxError as exc:
        raise InvalidTemplate(_("模板语法错误：%(e)s") % {"e": exc}) from exc


def render_text(text: str, context: dict[str, Any]) -> str:
    try:
        return _ENGINE.from_string(text).render(Context(dict(context), autoescape=False))
    except TemplateSyntaxError as exc:
        raise InvalidTemplate(_("模板语法错误：%(e)s") % {"e": exc}) from exc
    except Exception as exc:  # a variable lookup that raised inside the template
        raise InvalidTemplate(_("模板渲染失败：%(e)s") % {"e": exc}) from exc


def render(subject: str, body: str, context: dict[str, Any]) -> tuple[str, str]:
    return render_text(subject, context).strip(), render_text(body, context).strip()


def install_templates() -> int:
    """Install every registered template missing from the DB (also used by the UI list)."""
    existing = set(MessageTemplate.objects.values_list("code", flat=True))
    created = 0
    for spec in _TEMPLATES.values():
        if spec.code not in existing:
            _install(spec)
            created += 1
    return created


def _install(spec: TemplateSpec) -> MessageTemplate:
    try:
        with transaction.atomic():
            return MessageTemplate.objects.create(
                code=spec.code,
                name=spec.name,
                subject=spec.subject,
                body=spec.body,
                channels=spec.channels,
            )
    except IntegrityError:  # installed concurrently
        return MessageTemplate.objects.get(code=spec.code)


def template_get(code: str) -> MessageTemplate:
    tpl = MessageTemplate.objects.filter(code=code).first()
    if tpl is not None:
        return tpl
    spec = _TEMPLATES.get(code)
    if spec is None:
        raise InvalidTemplate(_("消息模板 %(code)s 不存在。") % {"code": code})
    return _install(spec)


def _clean_channels(channels: list[str]) -> list[str]:
    if not channels:
        raise InvalidTemplate(_("至少选择一个渠道。"))
    unknown = [c for c in channels if c not in Kind.values]
    if unknown:
        raise InvalidTemplate(_("未知渠道：%(c)s") % {"c": "、".join(unknown)})
    return [c for c in Kind.values if c in channels]


@transaction.atomic
def template_update(
    *,
    template: MessageTemplate,
    name: str,
    subject: str,
    body: str,
    channels: list[str],
    actor: Any,
) -> MessageTemplate:
    """Edit a template; a syntax error raises and nothing is saved."""
    name = (name or "").strip()
    if not name:
        raise InvalidTemplate(_("请填写模板名称。"))
    if not (body or "").strip():
        raise InvalidTemplate(_("正文不能为空。"))
    compile_template(subject, body)
    channels = _clean_channels(channels)
    locked = MessageTemplate.objects.select_for_update().get(pk=template.pk)
    before = {f: getattr(locked, f) for f in ("name", "subject", "body", "channels")}
    after = {"name": name, "subject": subject, "body": body, "channels": channels}
    if before == after:
        return locked
    for key, value in after.items():
        setattr(locked, key, value)
    locked.version += 1
    locked.is_customized = True
    locked.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    locked.save()
    audit_record(
        action="notify.template_update",
        actor=actor,
        obj=locked,
        changes={k: [before[k], v] for k, v in after.items() if before[k] != v},
        metadata={"version": locked.version},
    )
    return locked


@transaction.atomic
def template_reset(*, template: MessageTemplate, actor: Any) -> MessageTemplate:
    spec = _TEMPLATES.get(template.code)
    if spec is None:
        raise InvalidTemplate(_("该模板没有系统默认内容。"))
    return template_update(
        template=template,
        name=spec.name,
        subject=spec.subject,
        body=spec.body,
        channels=spec.channels,
        actor=actor,
    )


def template_preview(
    *, subject: str, body: str, sample: dict[str, Any] | str | None
) -> dict[str, str]:
    """Render with sample variables (a dict or JSON text); raises InvalidTemplate."""
    if isinstance(sample, str):
        try:
            sample = json.loads(sample) if sample.strip() else {}
        except ValueError as exc:
            raise InvalidTemplate(_("示例变量不是有效的 JSON。")) from exc
    if not isinstance(sample, dict | None):
        raise InvalidTemplate(_("示例变量应为 JSON 对象。"))
    compile_template(subject, body)
    rendered_subject, rendered_body = render(subject, body, sample or {})
    return {"subject": rendered_subject, "body": rendered_body}


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


# --- recipients ---------------------------------------------------------------------------------
def _preference(*, user: Any = None, customer: Any = None, lock: bool = False) -> NotifyPreference:
    lookup = {"customer": customer} if customer is not None else {"user": user}
    pref = NotifyPreference.objects.filter(**lookup).first()
    if pref is None:
        try:
            with transaction.atomic():
                pref = NotifyPreference.objects.create(**lookup)
        except IntegrityError:
            pref = NotifyPreference.objects.get(**lookup)
    if lock:
        # Serialises notify() per recipient so two concurrent calls cannot both pass the cap.
        pref = NotifyPreference.objects.select_for_update().get(pk=pref.pk)
    return pref


def _address(kind: str, *, user: Any, customer: Any, pref: NotifyPreference | None) -> str:
    if kind == Kind.INAPP:
        return ""
    if customer is not None:
        if kind == Kind.SMS:
            return (customer.phone or (pref.mobile if pref else "") or "").strip()
        if kind == Kind.EMAIL:
            return (getattr(customer, "email", "") or (pref.email if pref else "") or "").strip()
        return ""
    if user is not None:
        if kind == Kind.EMAIL:
            return (user.email or (pref.email if pref else "") or "").strip()
        if kind in GROUP_KINDS:
            return (pref.mobile if pref else "") or ""  # @-mention in the group, optional
    return ""


def _mask_address(kind: str, address: str) -> str:
    if not address:
        return ""
    if kind == Kind.SMS or (kind in GROUP_KINDS):
        return mask("phone", address)
    if kind == Kind.EMAIL and "@" in address:
        local, domain = address.split("@", 1)
        return f"{local[:1]}***@{domain}"
    return mask("all", address)


def _normalize_channel(channel: str | None) -> tuple[str | None, bool]:
    """(logical kind or None, force simulated)."""
    if channel is None or channel == "":
        return None, False
    if channel == Channel.Engine.SIMULATED:
        return None, True
    aliases = {
        "sms_http": Kind.SMS,
        "wecom_bot": Kind.WECOM,
        "dingtalk_bot": Kind.DINGTALK,
    }
    kind = aliases.get(channel, channel)
    if kind not in Kind.values:
        raise InvalidRecipient(_("未知的通知渠道：%(c)s") % {"c": channel})
    return str(kind), False


def _kinds_for(
    template: MessageTemplate,
    *,
    user: Any,
    customer: Any,
    explicit: str | None,
    pref: NotifyPreference | None,
) -> list[str]:
    if explicit:
        return [explicit]
    wanted = [k for k in template.channels if k in Kind.values]
    preferred = list(pref.preferred) if pref else []
    if user is not None:
        kinds = []
        for k in wanted:
            if k == Kind.INAPP:
                kinds.append(k)
            elif channel_for(k) is None:
                # Staff always have the inbox: an unconfigured extra channel is skipped rather
                # than producing a failed message on every notification.
                continue
            elif k == Kind.EMAIL and _address(k, user=user, customer=None, pref=pref):
                if not preferred or k in preferred:
                    kinds.append(k)
            elif k in GROUP_KINDS and k in preferred:
                kinds.append(k)
        return kinds or [Kind.INAPP]  # staff always get at least the inbox
    if customer is not None:
        usable = [
            k
            for k in wanted
            if k in CUSTOMER_KINDS and _address(k, user=None, customer=customer, pref=pref)
        ]
        for k in preferred:
            if k in usable:
                return [k]
        if usable:
            return usable[:1]  # a borrower gets one message, not the same text twice
        fallback = [k for k in wanted if k in CUSTOMER_KINDS] or [Kind.SMS]
        return fallback[:1]
    return [k for k in wanted if k in GROUP_KINDS]


def _local_day_bounds(moment: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    zone = ZoneInfo(quiet_tz())
    day = moment.astimezone(zone).date()
    start = dt.datetime.combine(day, dt.time(0), tzinfo=zone)
    return start, start + dt.timedelta(days=1)


def _enqueue_send(message_id: int) -> None:
    from django_tasks import default_task_backend

    from credo.notify.tasks import send_message

    task = send_message
    if "notify" in getattr(default_task_backend, "queues", set()):
        task = task.using(queue_name="notify")
    task.enqueue(message_id)


# --- notify -------------------------------------------------------------------------------------
def notify(
    *,
    template: str,
    context: dict[str, Any],
    user: Any = None,
    customer: Any = None,
    channel: str | None = None,
    dedupe_key: str | None = None,
    actor: Any = None,
    category: str = "service",
    send_after: dt.datetime | None = None,
    url: str = "",
    now: dt.datetime | None = None,
    attachments: list[dict[str, str]] | None = None,
) -> list[Message]:
    """Queue a message from ``template`` to a staff ``user``, a borrower ``customer`` or (for
    WeCom/DingTalk) the group. Returns the messages (queued, sent in-app, or suppressed with the
    reason). With ``dedupe_key`` a second call returns the first call's messages."""
    now = now or timezone.now()
    if user is not None and customer is not None:
        raise InvalidRecipient(_("一条消息只能有一个接收人。"))
    if category not in Category.values:
        raise InvalidRecipient(_("未知的消息类别：%(c)s") % {"c": category})
    explicit, force_sim = _normalize_channel(channel)
    if user is None and customer is None and explicit not in (None, *GROUP_KINDS):
        raise InvalidRecipient(_("没有接收人时只能发送到群机器人。"))
    if explicit == Kind.INAPP and user is None:
        raise InvalidRecipient(_("站内消息只能发给员工。"))
    if dedupe_key:
        existing = list(Message.objects.filter(dedupe_key=dedupe_key).order_by("id"))
        if existing:
            return existing
    tpl = template_get(template)
    subject, body = render(tpl.subject, tpl.body, context)
    params = {k: v for k, v in context.items() if isinstance(v, str | int | float | bool)}
    try:
        with transaction.atomic():
            return _create_messages(
                tpl=tpl,
                subject=subject,
                body=body,
                params=params,
                user=user,
                customer=customer,
                explicit=explicit,
                force_sim=force_sim,
                dedupe_key=dedupe_key,
                actor=actor,
                category=category,
                send_after=send_after,
                url=url or str(context.get("url", "") or ""),
                now=now,
                attachments=attachments or [],
            )
    except IntegrityError:
        if dedupe_key:  # a concurrent call with the same key won
            return list(Message.objects.filter(dedupe_key=dedupe_key).order_by("id"))
        raise


def _create_messages(
    *,
    tpl: MessageTemplate,
    subject: str,
    body: str,
    params: dict[str, Any],
    user: Any,
    customer: Any,
    explicit: str | None,
    force_sim: bool,
    dedupe_key: str | None,
    actor: Any,
    category: str,
    send_after: dt.datetime | None,
    url: str,
    now: dt.datetime,
    attachments: list[dict[str, str]] | None = None,
) -> list[Message]:
    pref = None
    if user is not None or customer is not None:
        pref = _preference(user=user, customer=customer, lock=True)
    kinds = _kinds_for(tpl, user=user, customer=customer, explicit=explicit, pref=pref)
    if not kinds:
        raise InvalidRecipient(_("模板“%(n)s”没有可用的渠道。") % {"n": tpl.name})
    window, tz = quiet_window(), quiet_tz()
    created: list[Message] = []
    for kind in kinds:
        address = _address(kind, user=user, customer=customer, pref=pref)
        scheduled = max(now, send_after) if send_after else now
        suppressed = ""
        if customer is not None and DO_NOT_CONTACT_FLAG in (customer.risk_flags or []):
            suppressed = _("客户已登记“勿联系”，消息未发送。")
        elif pref is not None and category in (pref.opted_out or []):
            suppressed = _("接收人已拒收“%(c)s”类消息。") % {"c": Category(category).label}
        elif kind != Kind.INAPP and not address and (user is not None or customer is not None):
            suppressed = _("接收人没有可用的%(k)s地址。") % {"k": Kind(kind).label}
        if not suppressed and kind != Kind.INAPP and category in quiet_categories():
            until = guardrails.quiet_until(scheduled, window, tz)
            if until is not None:
                scheduled = until  # deferred, never dropped
        if not suppressed and kind != Kind.INAPP:
            cap = daily_caps().get(category, 0)
            if cap and (user is not None or customer is not None):
                start, end = _local_day_bounds(scheduled)
                sent_today = Message.objects.filter(
                    user=user,
                    customer=customer,
                    category=category,
                    kind=kind,
                    status__in=ACTIVE,
                    scheduled_at__gte=start,
                    scheduled_at__lt=end,
                ).count()
                if sent_today >= cap:
                    suppressed = _(
                        "超过每日上限：%(cat)s类%(kind)s每位接收人每天最多 %(n)s 条。"
                    ) % {"cat": Category(category).label, "kind": Kind(kind).label, "n": cap}
        chan = simulated_channel() if force_sim else channel_for(kind)
        msg = Message(
            template_code=tpl.code,
            kind=kind,
            channel=chan,
            category=category,
            user=user,
            customer=customer,
            address=address,
            address_masked=_mask_address(kind, address),
            subject=subject[:200],
            body=body,
            params=params,
            url=url[:500],
            attachments=list(attachments or []) if kind == Kind.EMAIL else [],
            dedupe_key=dedupe_key,
            scheduled_at=scheduled,
            next_attempt_at=scheduled,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            created_at=now,
        )
        if suppressed:
            msg.status = Message.Status.SUPPRESSED
            msg.suppressed_reason = suppressed[:300]
            msg.next_attempt_at = None
        elif kind == Kind.INAPP and chan is None and scheduled <= now:
            msg.status, msg.sent_at, msg.next_attempt_at = Message.Status.SENT, now, None
        elif chan is None and kind != Kind.INAPP:
            msg.status = Message.Status.FAILED
            msg.last_error = _("未配置可用的%(k)s渠道，请在“通知渠道”中配置后重试。") % {
                "k": Kind(kind).label
            }
            msg.next_attempt_at = None
        msg.save()
        created.append(msg)
        if suppressed:
            audit_record(
                action="notify.suppressed",
                actor=actor,
                obj=msg,
                metadata={"reason": msg.suppressed_reason, "template": tpl.code, "kind": kind},
            )
        if customer is not None:
            _timeline(msg, actor=actor)
        if msg.status == Message.Status.QUEUED and scheduled <= now:
            transaction.on_commit(functools.partial(_enqueue_send, msg.pk))
    return created


def _timeline(msg: Message, *, actor: Any) -> None:
    from credo.customers.events import record_event

    assert msg.customer is not None
    record_event(
        customer=msg.customer,
        kind="collection" if msg.category == Category.COLLECTION else "other",
        title=f"{Kind(msg.kind).label}：{msg.subject or msg.body[:40]}（{msg.get_status_display()}）",
        actor=actor,
        obj=msg,
        source="notify",
        detail={
            "template": msg.template_code,
            "status": msg.status,
            "to": msg.address_masked,
            "reason": msg.suppressed_reason,
        },
    )


@transaction.atomic
def message_send_test(
    *,
    channel: Channel,
    actor: Any,
    address: str = "",
    template_code: str = "notify.test",
    context: dict[str, Any] | None = None,
) -> Message:
    """A test message through exactly ``channel`` (it shows in the outbox like any other)."""
    from credo.notify.models import KIND_FOR_ENGINE

    tpl = template_get(template_code)
    ctx = {"name": getattr(actor, "display_name", "") or getattr(actor, "username", "")}
    spec = _TEMPLATES.get(template_code)
    if spec:
        ctx.update(spec.sample)
    ctx.update(context or {})
    subject, body = render(tpl.subject, tpl.body, ctx)
    address = (address or "").strip()
    kind: str
    if channel.engine == Channel.Engine.SIMULATED:
        # The simulated channel stands in for whatever the address looks like.
        if "@" in address:
            kind = Kind.EMAIL
        elif address:
            kind = Kind.SMS
        else:
            kind = Kind.INAPP
    else:
        kind = KIND_FOR_ENGINE[channel.engine]
    user = None
    if kind == Kind.INAPP:
        user = actor
    elif kind in (Kind.SMS, Kind.EMAIL) and not address:
        raise InvalidRecipient(_("请填写测试接收地址（手机号或邮箱）。"))
    now = timezone.now()
    msg = Message.objects.create(
        template_code=tpl.code,
        kind=kind,
        channel=channel,
        category=Category.SERVICE,
        user=user,
        address=address,
        address_masked=_mask_address(kind, address),
        subject=subject[:200],
        body=body,
        params={k: v for k, v in ctx.items() if isinstance(v, str | int | float | bool)},
        scheduled_at=now,
        next_attempt_at=now,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        created_at=now,
    )
    audit_record(
        action="notify.test_send",
        actor=actor,
        obj=msg,
        metadata={"channel": channel.name, "template": tpl.code},
    )
    transaction.on_commit(lambda: _enqueue_send(msg.pk))
    return msg


# --- outbox actions -----------------------------------------------------------------------------
@transaction.atomic
def message_retry(*, message: Message, actor: Any, now: dt.datetime | None = None) -> Message:
    """Queue a failed (or cancelled) message again with a fresh attempt budget."""
    now = now or timezone.now()
    locked = Message.objects.select_for_update().get(pk=message.pk)
    if locked.status not in (Message.Status.FAILED, Message.Status.CANCELLED):
        raise InvalidState(_("只有发送失败或已取消的消息可以重试。"))
    if locked.kind != Kind.INAPP and (locked.channel is None or not locked.channel.enabled):
        locked.channel = channel_for(locked.kind)
        if locked.channel is None:
            raise InvalidState(
                _("未配置可用的%(k)s渠道，请先配置渠道。") % {"k": Kind(locked.kind).label}
            )
    before = locked.status
    locked.status = Message.Status.QUEUED
    locked.attempts = 0
    locked.next_attempt_at = now
    locked.claim_token = ""
    locked.save()
    audit_record(
        action="notify.message_retry",
        actor=actor,
        obj=locked,
        changes={"status": [before, locked.status]},
    )
    transaction.on_commit(lambda: _enqueue_send(locked.pk))
    return locked


@transaction.atomic
def message_cancel(*, message: Message, actor: Any) -> Message:
    locked = Message.objects.select_for_update().get(pk=message.pk)
    if locked.status not in (Message.Status.QUEUED, Message.Status.FAILED):
        raise InvalidState(_("只有排队中或发送失败的消息可以取消。"))
    before = locked.status
    locked.status = Message.Status.CANCELLED
    locked.next_attempt_at = None
    locked.save(update_fields=["status", "next_attempt_at"])
    audit_record(
        action="notify.message_cancel",
        actor=actor,
        obj=locked,
        changes={"status": [before, locked.status]},
    )
    return locked


def message_mark_read(*, message: Message, user: Any, now: dt.datetime | None = None) -> Message:
    """Mark one of the user's own in-app messages read (idempotent)."""
    if message.user_id != getattr(user, "pk", None) or message.kind != Kind.INAPP:
        raise InvalidRecipient(_("只能标记自己的站内消息。"))
    if message.read_at is None:
        message.read_at = now or timezone.now()
        Message.objects.filter(pk=message.pk, read_at__isnull=True).update(read_at=message.read_at)
    return message


def inbox_mark_all_read(*, user: Any, now: dt.datetime | None = None) -> int:
    return Message.objects.filter(
        user=user, kind=Kind.INAPP, status=Message.Status.SENT, read_at__isnull=True
    ).update(read_at=now or timezone.now())


@transaction.atomic
def preference_set(
    *,
    customer: Any = None,
    user: Any = None,
    opted_out: list[str] | None = None,
    preferred: list[str] | None = None,
    email: str | None = None,
    mobile: str | None = None,
    actor: Any,
) -> NotifyPreference:
    if (customer is None) == (user is None):
        raise InvalidRecipient(_("请指定一个接收人。"))
    pref = _preference(user=user, customer=customer, lock=True)
    before = {"opted_out": pref.opted_out, "preferred": pref.preferred}
    if opted_out is not None:
        bad = [c for c in opted_out if c not in Category.values]
        if bad:
            raise InvalidRecipient(_("未知的消息类别：%(c)s") % {"c": "、".join(bad)})
        pref.opted_out = sorted(set(opted_out))
    if preferred is not None:
        bad = [c for c in preferred if c not in Kind.values]
        if bad:
            raise InvalidRecipient(_("未知的通知渠道：%(c)s") % {"c": "、".join(bad)})
        pref.preferred = list(dict.fromkeys(preferred))
    if email is not None:
        pref.email = email.strip()
    if mobile is not None:
        pref.mobile = mobile.strip()
    pref.save()
    audit_record(
        action="notify.preference_set",
        actor=actor,
        obj=customer if customer is not None else pref,
        changes={k: [before[k], getattr(pref, k)] for k in before if before[k] != getattr(pref, k)},
    )
    return pref


# --- sending ------------------------------------------------------------------------------------
def _claim(ids_qs: Any, now: dt.datetime, limit: int) -> list[int]:
    """Mark up to ``limit`` due messages SENDING under a fresh token; returns the claimed ids.
    Safe with several workers: PostgreSQL skips rows locked by another claimer; everywhere the
    conditional UPDATE (status still QUEUED) decides who owns a row."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        qs = ids_qs.order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        ids = list(qs.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        Message.objects.filter(pk__in=ids, status=Message.Status.QUEUED).update(
            status=Message.Status.SENDING, claimed_at=now, claim_token=token
        )
    return list(
        Message.objects.filter(claim_token=token).order_by("id").values_list("id", flat=True)
    )


def _due(now: dt.datetime) -> Any:
    return Message.objects.filter(status=Message.Status.QUEUED, next_attempt_at__lte=now)


def release_stale(now: dt.datetime) -> int:
    """A worker that died mid-send leaves SENDING rows: queue them again (never lost)."""
    return Message.objects.filter(
        status=Message.Status.SENDING, claimed_at__lt=now - STALE_SENDING
    ).update(
        status=Message.Status.QUEUED,
        next_attempt_at=now,
        claim_token="",
        last_error=_("上次发送中断，已重新排队。"),
    )


def send_due(
    *, now: dt.datetime | None = None, limit: int = 200, budget_seconds: float = 50
) -> dict[str, int]:
    """Send due messages in batches of ``limit`` until none is due or the time budget (below
    the one-minute schedule) is spent; returns counts by outcome."""
    now = now or timezone.now()
    release_stale(now)
    counts: dict[str, int] = {}
    started = time.monotonic()
    while True:
        claimed = _claim(_due(now), now, limit)
        for pk in claimed:
            outcome = _deliver_claimed(pk, now)
            counts[outcome] = counts.get(outcome, 0) + 1
        if len(claimed) < limit or time.monotonic() - started > budget_seconds:
            return counts


def send_one(message_id: int, *, now: dt.datetime | None = None) -> str:
    """Send one message now if it is due and nobody else claimed it (the on-commit path)."""
    now = now or timezone.now()
    claimed = _claim(_due(now).filter(pk=message_id), now, 1)
    if not claimed:
        return "skipped"
    return _deliver_claimed(claimed[0], now)


def _deliver_claimed(pk: int, now: dt.datetime) -> str:
    from credo.notify import gateways

    msg = Message.objects.select_related("channel", "user").get(pk=pk)
    token = msg.claim_token
    if msg.kind != Kind.INAPP and msg.category in quiet_categories():
        until = guardrails.quiet_until(now, quiet_window(), quiet_tz())
        if until is not None:  # e.g. a retry that fell into the night: wait, no attempt used
            Message.objects.filter(pk=pk, claim_token=token).update(
                status=Message.Status.QUEUED, next_attempt_at=until, claim_token=""
            )
            return "deferred"
    channel = msg.channel
    number = msg.attempts + 1
    error: GatewayError | None = None
    delivery = None
    started = time.monotonic()
    try:
        delivery = gateways.deliver(channel, msg)
    except GatewayError as exc:
        error = exc
    except Exception as exc:  # a bug in a gateway must not leave the row SENDING forever
        error = GatewayError(f"{type(exc).__name__}: {exc}")
    finished = now + dt.timedelta(seconds=round(time.monotonic() - started, 3))
    with transaction.atomic():
        Attempt.objects.create(
            message=msg,
            number=number,
            channel_name=channel.name if channel else "",
            started_at=now,
            finished_at=finished,
            ok=error is None,
            error=error.message[:2000] if error else "",
            response=(delivery.response if delivery else (error.response if error else ""))[:2000],
        )
        fields: dict[str, Any] = {"attempts": number, "claim_token": ""}
        if error is None:
            assert delivery is not None
            fields.update(
                status=Message.Status.SENT,
                sent_at=now,
                next_attempt_at=None,
                provider_message_id=delivery.provider_message_id[:200],
                last_error="",
            )
            outcome = "sent"
        elif error.permanent or number >= max_attempts():
            fields.update(
                status=Message.Status.FAILED, next_attempt_at=None, last_error=error.message
            )
            outcome = "failed"
        else:
            fields.update(
                status=Message.Status.QUEUED,
                next_attempt_at=now + guardrails.backoff_delay(number, backoff_minutes()),
                last_error=error.message,
            )
            outcome = "retry"
        Message.objects.filter(pk=pk, claim_token=token).update(**fields)
    return outcome
