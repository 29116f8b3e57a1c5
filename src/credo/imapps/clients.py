"""HTTP clients of the two platforms' documented server APIs (企业微信 qyapi, 钉钉 oapi/api).

Never called inside a database transaction. Every call has a timeout; every platform error is an
:class:`ImAppError` with a Chinese message. The access token is cached on the configuration row
(encrypted) until shortly before it expires, and fetched again once when the platform says it
is invalid or expired.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core.http import TransportError, send
from credo.imapps.errors import ImAppError
from credo.imapps.models import ImApp, Platform

# errcodes meaning "the token is invalid or expired": fetch a new one and retry once
TOKEN_ERRCODES = {40014, 42001, 40001, 88, 40082}
TOKEN_MARGIN = dt.timedelta(minutes=5)
WECOM_IN_APP_AUTHORIZE = "https://open.weixin.qq.com/connect/oauth2/authorize"


@dataclass
class Dept:
    id: str
    name: str
    parent_id: str


@dataclass
class Member:
    userid: str
    name: str
    dept_ids: list[str] = field(default_factory=list)
    title: str = ""
    email: str = ""
    active: bool = True


def http_json(
    method: str,
    url: str,
    *,
    timeout: int,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Any:
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    hdrs = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    try:
        resp = send(method, url, body=data, headers=hdrs, timeout=timeout, max_bytes=5_000_000)
    except TransportError as exc:
        if exc.kind == "timeout":
            raise ImAppError(
                _("平台接口响应超时（%(s)s 秒）。") % {"s": timeout}, transient=True
            ) from exc
        raise ImAppError(_("无法连接平台接口：%(e)s") % {"e": exc.reason}, transient=True) from exc
    text = resp.body.decode("utf-8", errors="replace")
    if not resp.ok:
        raise ImAppError(
            _("平台接口返回 HTTP %(code)s：%(text)s") % {"code": resp.status, "text": text[:200]}
        )
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ImAppError(_("平台接口返回的不是 JSON：%(t)s") % {"t": text[:200]}) from exc


def _check(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise ImAppError(_("平台接口返回格式错误。"))
    code = payload.get("errcode", 0)
    if code not in (0, "0", None):
        raise ImAppError(
            _("平台返回错误 %(code)s：%(msg)s") % {"code": code, "msg": payload.get("errmsg", "")},
            errcode=int(code) if str(code).lstrip("-").isdigit() else None,
        )
    return payload


class Client:
    """Common token handling; ``fetch_token`` and the endpoints differ per platform."""

    def __init__(self, app: ImApp) -> None:
        self.app = app
        self.timeout = max(1, int(app.timeout_seconds or 10))

    # --- token ----------------------------------------------------------------------------------
    def fetch_token(self) -> tuple[str, int]:
        raise NotImplementedError

    def token(self, *, refresh: bool = False) -> str:
        now = timezone.now()
        app = ImApp.objects.get(pk=self.app.pk)
        if (
            not refresh
            and app.access_token
            and app.token_expires_at is not None
            and app.token_expires_at - TOKEN_MARGIN > now
        ):
            return app.access_token
        if not self.app.configured:
            raise ImAppError(_("应用尚未配置企业 ID/AppKey 和 Secret。"))
        token, expires_in = self.fetch_token()
        app.access_token = token
        app.token_expires_at = now + dt.timedelta(seconds=int(expires_in or 7200))
        app.save(update_fields=["access_token", "token_expires_at"])
        return token

    def call(
        self, method: str, path: str, *, query: dict[str, Any] | None = None, body: Any = None
    ) -> dict[str, Any]:
        """An authenticated call; a rejected token is fetched again once."""
        for attempt in (0, 1):
            params = {"access_token": self.token(refresh=attempt == 1), **(query or {})}
            url = f"{self.app.api_root}{path}?{urllib.parse.urlencode(params)}"
            try:
                return _check(http_json(method, url, timeout=self.timeout, body=body))
            except ImAppError as exc:
                if attempt == 0 and exc.errcode in TOKEN_ERRCODES:
                    continue
                raise
        raise AssertionError("unreachable")

    # --- endpoints (overridden) -----------------------------------------------------------------
    def userid_from_code(self, code: str) -> str:
        raise NotImplementedError

    def departments(self) -> list[Dept]:
        raise NotImplementedError

    def members(self, dept_id: str) -> list[Member]:
        raise NotImplementedError

    def send_card(
        self, userid: str, *, title: str, description: str, url: str, buttons: list[dict[str, str]]
    ) -> str:
        raise NotImplementedError

    def login_redirect(self, *, redirect_uri: str, state: str, in_app: bool = False) -> str:
        raise NotImplementedError


class WecomClient(Client):
    def fetch_token(self) -> tuple[str, int]:
        query = urllib.parse.urlencode({"corpid": self.app.corp_id, "corpsecret": self.app.secret})
        data = _check(
            http_json("GET", f"{self.app.api_root}/cgi-bin/gettoken?{query}", timeout=self.timeout)
        )
        if not data.get("access_token"):
            raise ImAppError(_("平台未返回访问令牌。"))
        return str(data["access_token"]), int(data.get("expires_in") or 7200)

    def userid_from_code(self, code: str) -> str:
        data = self.call("GET", "/cgi-bin/auth/getuserinfo", query={"code": code})
        userid = data.get("userid") or data.get("UserId") or ""
        if not userid:
            raise ImAppError(_("该企业微信账号不是本企业成员。"))
        return str(userid)

    def departments(self) -> list[Dept]:
        data = self.call("GET", "/cgi-bin/department/list")
        return [
            Dept(str(d["id"]), str(d.get("name") or d["id"]), str(d.get("parentid") or "0"))
            for d in data.get("department") or []
        ]

    def members(self, dept_id: str) -> list[Member]:
        data = self.call("GET", "/cgi-bin/user/list", query={"department_id": dept_id})
        return [
            Member(
                userid=str(u["userid"]),
                name=str(u.get("name") or u["userid"]),
                dept_ids=[str(x) for x in (u.get("department") or [])],
                title=str(u.get("position") or ""),
                email=str(u.get("email") or ""),
                # 1 已激活, 2 已禁用, 4 未激活, 5 退出企业
                active=int(u.get("status") or 1) in (1, 4),
            )
            for u in data.get("userlist") or []
        ]

    def send_card(
        self, userid: str, *, title: str, description: str, url: str, buttons: list[dict[str, str]]
    ) -> str:
        data = self.call(
            "POST",
            "/cgi-bin/message/send",
            body={
                "touser": userid,
                "msgtype": "textcard",
                "agentid": int(self.app.agent_id) if self.app.agent_id.isdigit() else 0,
                "textcard": {
                    "title": title[:128],
                    "description": description[:512],
                    "url": url,
                    "btntxt": (buttons[0]["title"] if buttons else _("详情"))[:4],
                },
            },
        )
        return str(data.get("msgid") or "")

    def login_redirect(self, *, redirect_uri: str, state: str, in_app: bool = False) -> str:
        if in_app and not self.app.login_url:
            # inside the 企业微信 client: silent web authorisation instead of the QR page
            query = urllib.parse.urlencode(
                {
                    "appid": self.app.corp_id,
                    "redirect_uri": redirect_uri,
                    "response_type": "code",
                    "scope": "snsapi_base",
                    "state": state,
                    "agentid": self.app.agent_id,
                }
            )
            return f"{WECOM_IN_APP_AUTHORIZE}?{query}#wechat_redirect"
        query = urllib.parse.urlencode(
            {
                "login_type": "CorpApp",
                "appid": self.app.corp_id,
                "agentid": self.app.agent_id,
                "redirect_uri": redirect_uri,
                "state": state,
            }
        )
        return f"{self.app.login_root}?{query}"


class DingtalkClient(Client):
    def fetch_token(self) -> tuple[str, int]:
        query = urllib.parse.urlencode({"appkey": self.app.app_key, "appsecret": self.app.secret})
        data = _check(
            http_json("GET", f"{self.app.api_root}/gettoken?{query}", timeout=self.timeout)
        )
        if not data.get("access_token"):
            raise ImAppError(_("平台未返回访问令牌。"))
        return str(data["access_token"]), int(data.get("expires_in") or 7200)

    def userid_from_code(self, code: str) -> str:
        """OAuth2 authCode → user access token → unionId → userid (钉钉统一身份认证)."""
        root = self.app.new_api_root
        tok = http_json(
            "POST",
            f"{root}/v1.0/oauth2/userAccessToken",
            timeout=self.timeout,
            body={
                "clientId": self.app.app_key,
                "clientSecret": self.app.secret,
                "code": code,
                "grantType": "authorization_code",
            },
        )
        if not isinstance(tok, dict) or not tok.get("accessToken"):
            raise ImAppError(
                _("登录码无效或已过期：%(m)s")
                % {"m": (tok or {}).get("message", "") if isinstance(tok, dict) else ""}
            )
        me = http_json(
            "GET",
            f"{root}/v1.0/contact/users/me",
            timeout=self.timeout,
            headers={"x-acs-dingtalk-access-token": str(tok["accessToken"])},
        )
        union_id = me.get("unionId") if isinstance(me, dict) else None
        if not union_id:
            raise ImAppError(_("未能取得钉钉用户身份。"))
        data = self.call("POST", "/topapi/user/getbyunionid", body={"unionid": union_id})
        userid = (data.get("result") or {}).get("userid")
        if not userid:
            raise ImAppError(_("该钉钉账号不是本企业成员。"))
        return str(userid)

    def departments(self) -> list[Dept]:
        found: list[Dept] = [Dept("1", "", "0")]
        queue = ["1"]
        while queue:
            parent = queue.pop(0)
            data = self.call("POST", "/topapi/v2/department/listsub", body={"dept_id": int(parent)})
            for d in data.get("result") or []:
                dept = Dept(str(d["dept_id"]), str(d.get("name") or d["dept_id"]), parent)
                found.append(dept)
                queue.append(dept.id)
        return found

    def members(self, dept_id: str) -> list[Member]:
        out: list[Member] = []
        cursor = 0
        for _page in range(1000):
            data = self.call(
                "POST",
                "/topapi/v2/user/list",
                body={"dept_id": int(dept_id), "cursor": cursor, "size": 100},
            )
            result = data.get("result") or {}
            for u in result.get("list") or []:
                out.append(
                    Member(
                        userid=str(u["userid"]),
                        name=str(u.get("name") or u["userid"]),
                        dept_ids=[str(x) for x in (u.get("dept_id_list") or [dept_id])],
                        title=str(u.get("title") or ""),
                        email=str(u.get("email") or ""),
                        active=bool(u.get("active", True)),
                    )
                )
            if not result.get("has_more"):
                break
            cursor = int(result.get("next_cursor") or 0)
        return out

    def send_card(
        self, userid: str, *, title: str, description: str, url: str, buttons: list[dict[str, str]]
    ) -> str:
        card: dict[str, Any] = {"title": title[:128], "markdown": f"### {title}\n\n{description}"}
        if buttons:
            card["btn_orientation"] = "1"
            card["btn_json_list"] = [{"title": b["title"], "action_url": b["url"]} for b in buttons]
        else:
            card["single_title"] = _("查看详情")
            card["single_url"] = url
        data = self.call(
            "POST",
            "/topapi/message/corpconversation/asyncsend_v2",
            body={
                "agent_id": int(self.app.agent_id) if self.app.agent_id.isdigit() else 0,
                "userid_list": userid,
                "msg": {"msgtype": "action_card", "action_card": card},
            },
        )
        return str(data.get("task_id") or "")

    def login_redirect(self, *, redirect_uri: str, state: str, in_app: bool = False) -> str:
        query = urllib.parse.urlencode(
            {
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "client_id": self.app.app_key,
                "scope": "openid",
                "state": state,
                "prompt": "consent",
            }
        )
        return f"{self.app.login_root}?{query}"


def client_for(app: ImApp) -> Client:
    return WecomClient(app) if app.platform == Platform.WECOM else DingtalkClient(app)
