"""Writes of the 企业微信 / 钉钉 apps: configuration, connection test, organisation sync, login
resolution, card messages and acting on an approval from a card.

Platform HTTP calls happen before or after, never inside, a database transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.accounts import services as accounts
from credo.accounts.errors import AccountsError
from credo.accounts.lockout import user_locked_out
from credo.accounts.models import OrgUnit, Role, User
from credo.core import fsm
from credo.core.audit.services import audit_record, diff_fields
from credo.imapps import signing
from credo.imapps.clients import Dept, Member, client_for
from credo.imapps.errors import ImAppError
from credo.imapps.models import DeptMap, Identity, ImApp, Platform, SyncRun, UsedLink

AUDITED = [
    "enabled",
    "corp_id",
    "app_key",
    "agent_id",
    "base_url",
    "api_base_url",
    "login_url",
    "public_url",
    "timeout_seconds",
    "role_rules",
    "default_role",
    "root_org_unit_id",
    "default_org_unit_id",
    "sync_enabled",
]
SECRETS = ("secret", "callback_token", "callback_aes_key")
CHANNEL_ENGINE = {Platform.WECOM: "wecom_app", Platform.DINGTALK: "dingtalk_app"}
MESSAGE_KIND = {Platform.WECOM: "wecom", Platform.DINGTALK: "dingtalk"}


# --- configuration ------------------------------------------------------------------------------
def app_get(platform: str) -> ImApp:
    if platform not in Platform.values:
        raise ImAppError(_("未知的平台：%(p)s") % {"p": platform})
    app, _created = ImApp.objects.get_or_create(platform=platform)
    return app


def _snapshot(app: ImApp) -> dict[str, Any]:
    return {name: getattr(app, name) for name in AUDITED}


def validate_rules(rules: Any) -> list[dict[str, str]]:
    if not isinstance(rules, list):
        raise ImAppError(_("角色映射规则必须是列表。"))
    codes = set(Role.objects.values_list("code", flat=True))
    out: list[dict[str, str]] = []
    for i, rule in enumerate(rules, 1):
        if not isinstance(rule, dict):
            raise ImAppError(_("第 %(i)s 条角色映射规则格式错误。") % {"i": i})
        kind, value, role = (str(rule.get(k) or "").strip() for k in ("kind", "value", "role"))
        if kind not in ("dept", "title"):
            raise ImAppError(_("第 %(i)s 条规则的匹配方式只能是部门或职务。") % {"i": i})
        if not value:
            raise ImAppError(_("第 %(i)s 条规则缺少匹配值。") % {"i": i})
        if role not in codes:
            raise ImAppError(_("第 %(i)s 条规则的角色“%(r)s”不存在。") % {"i": i, "r": role})
        out.append({"kind": kind, "value": value, "role": role})
    return out


@transaction.atomic
def app_save(*, app: ImApp, secrets: dict[str, str], actor: Any) -> ImApp:
    """Save the configuration (secrets: blank keeps the stored one); audited, secrets as
    "changed" only. Creates the notify channel that carries the app's messages."""
    from credo.notify.models import Channel

    before: dict[str, Any] = {}
    if app.pk:
        before = _snapshot(ImApp.objects.select_for_update().get(pk=app.pk))
    app.role_rules = validate_rules(app.role_rules)
    if app.default_role and not Role.objects.filter(code=app.default_role).exists():
        raise ImAppError(_("默认角色“%(r)s”不存在。") % {"r": app.default_role})
    if app.root_org_unit and app.root_org_unit.kind != OrgUnit.Kind.HEAD_OFFICE:
        raise ImAppError(_("根部门对应的机构必须是总部。"))
    changed_secrets = []
    for name in SECRETS:
        value = (secrets.get(name) or "").strip()
        if value:
            setattr(app, name, value)
            changed_secrets.append(name)
    if "secret" in changed_secrets or before.get("corp_id") != app.corp_id:
        app.access_token, app.token_expires_at = "", None
    app.save()
    engine = CHANNEL_ENGINE[Platform(app.platform)]
    channel = Channel.objects.filter(engine=engine).order_by("id").first()
    if channel is None:
        name = _("企业微信应用消息") if app.platform == Platform.WECOM else _("钉钉工作通知")
        channel = Channel.objects.create(name=name, engine=engine)
    if channel.enabled != app.enabled:
        channel.enabled = app.enabled
        channel.save(update_fields=["enabled"])
    changes = diff_fields(before, _snapshot(app))
    for name in changed_secrets:
        changes[name] = {"old": "***", "new": "*** (changed)"}
    audit_record(action="imapps.config_save", actor=actor, obj=app, changes=changes)
    return app


def app_test(*, app: ImApp, actor: Any) -> tuple[bool, str]:
    """测试连接: fetch a fresh access token (and the department list) from the platform."""
    try:
        client = client_for(app)
        client.token(refresh=True)
        depts = client.departments()
        ok, message = True, _("连接成功，读取到 %(n)s 个部门。") % {"n": len(depts)}
    except ImAppError as exc:
        ok, message = False, exc.message
    with transaction.atomic():
        ImApp.objects.filter(pk=app.pk).update(
            last_test_at=timezone.now(), last_test_ok=ok, last_test_message=message[:300]
        )
        audit_record(
            action="imapps.config_test",
            actor=actor,
            obj=app,
            metadata={"ok": ok, "message": message[:300]},
        )
    return ok, message


# --- organisation sync --------------------------------------------------------------------------
@dataclass
class _Fetched:
    depts: list[Dept]
    members: dict[str, Member] = field(default_factory=dict)


def _fetch(app: ImApp) -> _Fetched:
    client = client_for(app)
    depts = client.departments()
    fetched = _Fetched(depts)
    for dept in depts:
        for m in client.members(dept.id):
            seen = fetched.members.get(m.userid)
            if seen is None:
                fetched.members[m.userid] = m
    return fetched


def _roles_for(app: ImApp, member: Member, dept_names: dict[str, str]) -> set[str]:
    names = {dept_names.get(d, "") for d in member.dept_ids} | set(member.dept_ids)
    codes = set()
    for rule in app.role_rules:
        if (
            rule["kind"] == "dept"
            and rule["value"] in names
            or rule["kind"] == "title"
            and rule["value"]
            and rule["value"] in member.title
        ):
            codes.add(rule["role"])
    if not codes and app.default_role:
        codes.add(app.default_role)
    return codes


def sync_run(*, platform: str, actor: Any, trigger: str = "manual") -> SyncRun:
    """Departments → org units, members → users (created with an unusable password, roles by the
    mapping rules, deactivated when they left). Fetches everything first, then writes in one
    transaction through the accounts services (each change audited)."""
    app = app_get(platform)
    run = SyncRun.objects.create(
        platform=platform,
        trigger=trigger,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        started_at=timezone.now(),
    )
    try:
        if not app.enabled:
            raise ImAppError(_("应用未启用，不能同步。"))
        fetched = _fetch(app)
        if not fetched.members:
            # an empty answer must not deactivate everyone
            raise ImAppError(_("平台未返回任何成员，为防止误停用账号，本次同步已中止。"))
        with transaction.atomic():
            # two syncs of one platform (button + schedule) apply one after the other
            ImApp.objects.select_for_update().get(pk=app.pk)
            counts = _apply(app, fetched, actor=actor)
    except (ImAppError, AccountsError) as exc:
        message = getattr(exc, "message", str(exc))
        fsm.transition_queryset(
            SyncRun.objects.filter(pk=run.pk),
            SyncRun.Status.FAILED,
            error=message,
            finished_at=timezone.now(),
        )
        audit_record(
            action="imapps.sync_failed", actor=actor, obj=run, metadata={"error": message[:500]}
        )
        run.refresh_from_db()
        return run
    with transaction.atomic():
        fsm.transition_queryset(
            SyncRun.objects.filter(pk=run.pk),
            SyncRun.Status.DONE,
            counts=counts,
            finished_at=timezone.now(),
        )
        audit_record(action="imapps.sync", actor=actor, obj=run, metadata=counts)
    run.refresh_from_db()
    return run


def _root_unit(app: ImApp) -> OrgUnit:
    unit = app.root_org_unit or (
        OrgUnit.objects.filter(kind=OrgUnit.Kind.HEAD_OFFICE, is_active=True).order_by("id").first()
    )
    if unit is None:
        raise ImAppError(_("请先设置根部门对应的总部机构。"))
    return unit


def _apply(app: ImApp, fetched: _Fetched, *, actor: Any) -> dict[str, int]:
    now = timezone.now()
    counts = dict.fromkeys(
        (
            "departments",
            "units_created",
            "units_updated",
            "members",
            "users_created",
            "users_updated",
            "users_deactivated",
            "users_reactivated",
        ),
        0,
    )
    root = _root_unit(app)
    unit_of = _sync_departments(app, fetched, root, counts, actor=actor, now=now)
    _sync_members(app, fetched, root, unit_of, counts, actor=actor, now=now)
    return counts


def _sync_departments(
    app: ImApp,
    fetched: _Fetched,
    root: OrgUnit,
    counts: dict[str, int],
    *,
    actor: Any,
    now: dt.datetime,
) -> dict[str, OrgUnit]:
    platform = app.platform
    by_id = {d.id: d for d in fetched.depts}
    counts["departments"] = len(by_id)
    # the root department: no parent among the listed ones
    roots = [d for d in fetched.depts if d.parent_id not in by_id]
    unit_of: dict[str, OrgUnit] = {}
    maps = {m.external_id: m for m in DeptMap.objects.filter(platform=platform)}

    def depth(d: Dept) -> int:
        n = 0
        while d.parent_id in by_id and n < 50:
            d, n = by_id[d.parent_id], n + 1
        return n

    for dept in sorted(fetched.depts, key=depth):
        level = depth(dept)
        if dept in roots or level == 0:
            unit = root
        elif level >= 3:  # Credo has head office → branch → team: deeper departments join
            unit = unit_of[dept.parent_id]  # the team of their ancestor
        else:
            kind = OrgUnit.Kind.BRANCH if level == 1 else OrgUnit.Kind.TEAM
            parent = unit_of[dept.parent_id]
            existing = maps.get(dept.id)
            if existing is None:
                code = f"{platform}-{dept.id}"[:40]
                found = OrgUnit.objects.filter(code=code).first()
                if found is None:
                    found = accounts.orgunit_create(
                        code=code, name=dept.name[:100], kind=kind, parent=parent, actor=actor
                    )
                    counts["units_created"] += 1
                unit = found
            else:
                unit = existing.org_unit
                moved = unit.name != dept.name[:100] or unit.parent_id != parent.pk
                if moved and unit.kind == kind:
                    unit = accounts.orgunit_update(
                        unit=unit,
                        name=dept.name[:100],
                        parent=parent,
                        region_code=unit.region_code,
                        is_active=unit.is_active,
                        actor=actor,
                    )
                    counts["units_updated"] += 1
        unit_of[dept.id] = unit
        DeptMap.objects.update_or_create(
            platform=platform,
            external_id=dept.id,
            defaults={
                "parent_external_id": dept.parent_id,
                "name": (dept.name or unit.name)[:100],
                "org_unit": unit,
                "synced_at": now,
            },
        )
    return unit_of


def _sync_members(
    app: ImApp,
    fetched: _Fetched,
    root: OrgUnit,
    unit_of: dict[str, OrgUnit],
    counts: dict[str, int],
    *,
    actor: Any,
    now: dt.datetime,
) -> None:
    platform = app.platform
    dept_names = {d.id: d.name for d in fetched.depts}
    managed = {r["role"] for r in app.role_rules} | ({app.default_role} - {""})
    roles = {r.code: r for r in Role.objects.filter(code__in=managed)}
    identities = {
        i.external_id: i for i in Identity.objects.filter(platform=platform).select_related("user")
    }
    counts["members"] = len(fetched.members)
    for member in fetched.members.values():
        dept_id = next((d for d in member.dept_ids if d in unit_of), None)
        unit = unit_of[dept_id] if dept_id else (app.default_org_unit or root)
        if unit.kind == OrgUnit.Kind.HEAD_OFFICE and app.default_org_unit is not None:
            unit = app.default_org_unit
        wanted = {roles[c] for c in _roles_for(app, member, dept_names) if c in roles}
        ident = identities.get(member.userid)
        if ident is None:
            username = f"{platform}-{member.userid}"[:150]
            user = User.objects.filter(username__iexact=username).first() or _existing_user(
                platform, member, actor=actor
            )
            if user is None:
                user, _pw = accounts.user_create(
                    username=username,
                    display_name=member.name[:60],
                    org_unit=unit,
                    roles=wanted,
                    email=member.email,
                    actor=actor,
                )
                user.set_unusable_password()  # signs in through the platform only
                user.save(update_fields=["password"])
                counts["users_created"] += 1
            ident = Identity.objects.create(
                platform=platform, external_id=member.userid, user=user, name=member.name[:100]
            )
        user = ident.user
        keep = [r for r in user.roles.all() if r.code not in managed]
        new_roles = set(keep) | wanted
        if (
            user.display_name != member.name[:60]
            or user.org_unit_id != unit.pk
            or set(user.roles.all()) != new_roles
        ):
            accounts.user_update(
                user=user,
                display_name=member.name[:60],
                org_unit=unit,
                roles=new_roles,
                email=user.email or member.email,
                employee_no=user.employee_no,
                actor=actor,
            )
            counts["users_updated"] += 1
        if member.active and not ident.active:
            # back at the platform (the sync had deactivated them): reactivated; an account an
            # administrator deactivated in Credo while the platform kept it active stays off
            counts["users_reactivated"] += 1
            if not user.is_active:
                accounts.user_set_active(user=user, is_active=True, actor=actor)
        elif not member.active and user.is_active:
            accounts.user_set_active(user=user, is_active=False, actor=actor)
            counts["users_deactivated"] += 1
        Identity.objects.filter(pk=ident.pk).update(
            active=member.active, name=member.name[:100], synced_at=now
        )
    # members who left the organisation
    for external_id, ident in identities.items():
        if external_id in fetched.members:
            continue
        if ident.user.is_active:
            accounts.user_set_active(user=ident.user, is_active=False, actor=actor)
            counts["users_deactivated"] += 1
        if ident.active:
            Identity.objects.filter(pk=ident.pk).update(active=False, synced_at=now)


def _existing_user(platform: str, member: Member, *, actor: Any) -> User | None:
    """An existing Credo account whose 工号 is the member's platform userid (the administrator's
    explicit way to link an account). Never a superuser: the platform's administrators must not
    be able to hand out Credo's highest privilege by choosing a userid."""
    found = list(
        User.objects.filter(employee_no=member.userid, is_superuser=False)
        .exclude(im_identities__platform=platform)
        .order_by("id")[:2]
    )
    if len(found) != 1:
        return None
    audit_record(
        action="imapps.identity_link",
        actor=actor,
        obj=found[0],
        metadata={"platform": platform, "userid": member.userid, "by": "employee_no"},
    )
    return found[0]


# --- login --------------------------------------------------------------------------------------
def login_resolve(*, platform: str, code: str, request: Any) -> User:
    """The active Credo user behind an OAuth code, or :class:`ImAppError` (refusal audited)."""
    app = app_get(platform)
    if not app.enabled:
        raise ImAppError(_("该登录方式未启用。"))
    if not code:
        _login_refused(platform, "", "no_code")
        raise ImAppError(_("登录未完成：平台没有返回授权码。"))
    try:
        userid = client_for(app).userid_from_code(code)
    except ImAppError as exc:
        _login_refused(platform, "", "platform_error", exc.message)
        raise
    ident = (
        Identity.objects.filter(platform=platform, external_id=userid)
        .select_related("user")
        .first()
    )
    if ident is None:
        _login_refused(platform, userid, "unknown_user")
        raise ImAppError(_("您的账号尚未开通 Credo，请联系管理员同步组织架构或开通账号。"))
    user = ident.user
    if not user.is_active or not ident.active:
        _login_refused(platform, userid, "inactive", user=user)
        raise ImAppError(_("您的 Credo 账号已停用，请联系管理员。"))
    if user_locked_out(user, request):
        _login_refused(platform, userid, "locked_out", user=user)
        raise ImAppError(_("该账号因多次登录失败已被临时锁定，请稍后再试或联系管理员。"))
    return user


def _login_refused(
    platform: str, userid: str, reason: str, detail: str = "", *, user: Any = None
) -> None:
    audit_record(
        action="imapps.login_refused",
        actor=None,
        obj=user,
        object_type="" if user is not None else "accounts.user",
        object_repr="" if user is not None else userid[:150],
        metadata={"platform": platform, "userid": userid, "reason": reason, "detail": detail},
    )


# --- personal app messages ----------------------------------------------------------------------
def card_links(*, platform: str, task_id: int, user_id: int, base: str) -> list[dict[str, str]]:
    out = []
    for action, title in (("approve", _("同意")), ("reject", _("驳回"))):
        token = signing.link_make(
            platform=platform, task_id=task_id, user_id=user_id, action=action
        )
        out.append({"title": title, "url": base + reverse("imapps:card_act", args=[token])})
    return out


def message_queue(
    *,
    user_ids: list[int],
    title: str,
    description: str,
    path: str,
    key: str,
    approval_task_id: int | None = None,
) -> int:
    """Queue one card per enabled platform per user with an identity there (rows only; the
    sender is kicked after commit). Idempotent by ``key``."""
    from credo.notify.models import Channel, Message
    from credo.notify.services.recipients import enqueue_send

    apps = list(ImApp.objects.filter(enabled=True))
    created = 0
    now = timezone.now()
    for app in apps:
        channel = (
            Channel.objects.filter(engine=CHANNEL_ENGINE[Platform(app.platform)], enabled=True)
            .order_by("id")
            .first()
        )
        if channel is None:
            continue
        idents = Identity.objects.filter(
            platform=app.platform, user_id__in=user_ids, active=True, user__is_active=True
        )
        base = app.public_url.rstrip("/")
        for ident in idents:
            buttons: list[dict[str, str]] = []
            url = base + path
            if approval_task_id is not None:
                buttons = card_links(
                    platform=app.platform,
                    task_id=approval_task_id,
                    user_id=ident.user_id,
                    base=base,
                )
                if app.platform == Platform.WECOM:
                    # a text card has one link: the confirmation page offers both actions
                    url = buttons[0]["url"]
                    buttons = [{"title": _("处理"), "url": url}]
            try:
                with transaction.atomic():
                    msg = Message.objects.create(
                        template_code="imapps.card",
                        kind=MESSAGE_KIND[Platform(app.platform)],
                        channel=channel,
                        user_id=ident.user_id,
                        address=ident.external_id,
                        address_masked=ident.external_id[:3] + "***",
                        subject=title[:200],
                        body=description,
                        params={"buttons": buttons},
                        url=url[:500],
                        dedupe_key=f"imapps:{app.platform}:{key}:{ident.user_id}"[:200],
                        scheduled_at=now,
                        next_attempt_at=now,
                        created_at=now,
                    )
            except IntegrityError:
                continue  # already queued by an earlier delivery of the same event
            created += 1
            transaction.on_commit(partial(enqueue_send, msg.pk))
    return created


# --- acting from a card -------------------------------------------------------------------------
def card_link_check(*, token: str, user: Any) -> dict[str, Any]:
    """The link's data, or ``signing.LinkInvalid`` (audited): forged, expired, used, or for
    another user."""
    try:
        data = signing.link_read(token)
    except signing.LinkInvalid as exc:
        _link_refused(user, exc.reason)
        raise
    if UsedLink.objects.filter(nonce=data["n"]).exists():
        _link_refused(user, "used", data)
        raise signing.LinkInvalid("used")
    if getattr(user, "pk", None) != data["u"]:
        _link_refused(user, "other_user", data)
        raise signing.LinkInvalid("other_user")
    return data


def _link_refused(user: Any, reason: str, data: dict[str, Any] | None = None) -> None:
    with transaction.atomic():
        audit_record(
            action="imapps.card_refused",
            actor=user if getattr(user, "is_authenticated", False) else None,
            object_type="approvals.approvaltask",
            object_id=(data or {}).get("t", ""),
            metadata={"reason": reason, "platform": (data or {}).get("p", "")},
        )


def card_act(*, token: str, user: Any, action: str, comment: str) -> Any:
    """Approve/reject from a card: the same ``approval_act`` the task page calls (permission,
    segregation of duties and audit identical); the link is spent when the action succeeds."""
    from credo.approvals import selectors as approval_selectors
    from credo.approvals import services as approval_services

    data = card_link_check(token=token, user=user)
    if action not in ("approve", "reject"):
        raise ImAppError(_("未知的审批动作。"))
    task = approval_selectors.task_get(user, data["t"])
    # its own transaction: a refusal (not the approver, self-approval, ...) is audited by the
    # approvals service exactly as from the page, and the link stays usable after a typo
    instance = approval_services.approval_act(task=task, actor=user, action=action, comment=comment)
    with transaction.atomic():
        # an acted task cannot be acted again, so a lost race here changes nothing
        UsedLink.objects.get_or_create(
            nonce=data["n"], defaults={"user": user, "used_at": timezone.now()}
        )
        audit_record(
            action="imapps.card_act",
            actor=user,
            obj=task,
            metadata={"platform": data["p"], "action": action},
        )
    return instance


def token_expired(app: ImApp, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return app.token_expires_at is None or app.token_expires_at <= now
