"""A local fake of the 企业微信 and 钉钉 server APIs (http.server in a thread).

Implements the documented shapes: gettoken (errcode on a bad secret, expires_in), OAuth code →
userid, department and member lists, message send; plus the QR login page, which redirects
straight back with a code (as the platform does after the user scans)."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakePlatform:
    def __init__(self) -> None:
        self.corp_id = "wwcorp"
        self.app_key = "dingkey"
        self.secret = "s3cret"
        self.expires_in = 7200
        self.tokens: dict[str, float] = {}  # token → expiry (monotonic)
        self.token_fetches = 0
        self.delay = 0.0  # seconds before answering (timeouts)
        self.codes: dict[str, str] = {}  # OAuth code → userid
        self.wecom_depts = [
            {"id": 1, "name": "示例公司", "parentid": 0},
            {"id": 2, "name": "太原分公司", "parentid": 1},
            {"id": 3, "name": "风控部", "parentid": 2},
        ]
        self.wecom_users: dict[int, list[dict[str, Any]]] = {
            1: [],
            2: [
                {
                    "userid": "zhangsan",
                    "name": "张三",
                    "department": [2],
                    "position": "客户经理",
                    "status": 1,
                }
            ],
            3: [
                {
                    "userid": "lisi",
                    "name": "李四",
                    "department": [3],
                    "position": "风控专员",
                    "status": 1,
                }
            ],
        }
        self.ding_depts = {
            1: [{"dept_id": 2, "name": "太原分公司", "parent_id": 1}],
            2: [{"dept_id": 3, "name": "风控部", "parent_id": 2}],
            3: [],
        }
        self.ding_users: dict[int, list[dict[str, Any]]] = {
            1: [],
            2: [
                {
                    "userid": "d-zhang",
                    "name": "张钉",
                    "dept_id_list": [2],
                    "title": "客户经理",
                    "active": True,
                }
            ],
            3: [
                {
                    "userid": "d-li",
                    "name": "李钉",
                    "dept_id_list": [3],
                    "title": "风控专员",
                    "active": True,
                }
            ],
        }
        self.union: dict[str, str] = {}  # user access token → unionId
        self.sent: list[dict[str, Any]] = []
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakePlatform:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def _new_token(self) -> dict[str, Any]:
        self.token_fetches += 1
        token = f"tok{self.token_fetches}"
        self.tokens[token] = time.monotonic() + self.expires_in
        return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.expires_in}

    def _token_ok(self, query: dict[str, str]) -> bool:
        exp = self.tokens.get(query.get("access_token", ""))
        return exp is not None and exp > time.monotonic()

    # --- routing -------------------------------------------------------------------------------
    def handle(
        self, method: str, path: str, query: dict[str, str], body: Any, headers: Any
    ) -> tuple[int, Any, dict[str, str]]:
        self.requests.append(path)
        if self.delay:
            time.sleep(self.delay)
        if path == "/cgi-bin/gettoken":
            if query.get("corpid") != self.corp_id or query.get("corpsecret") != self.secret:
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}, {}
            return 200, self._new_token(), {}
        if path == "/gettoken":
            if query.get("appkey") != self.app_key or query.get("appsecret") != self.secret:
                return 200, {"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"}, {}
            return 200, self._new_token(), {}
        if path == "/wwlogin/sso/login" or path == "/oauth2/auth":
            code = f"code-{len(self.codes) + 1}"
            self.codes[code] = self.next_login_userid
            target = query["redirect_uri"]
            name = "code" if path.startswith("/wwlogin") else "authCode"
            sep = "&" if "?" in target else "?"
            return (
                302,
                None,
                {
                    "Location": f"{target}{sep}{urllib.parse.urlencode({name: code, 'state': query['state']})}"
                },
            )
        if path == "/v1.0/oauth2/userAccessToken":
            userid = self.codes.pop(body.get("code", ""), None)
            if userid is None or body.get("clientSecret") != self.secret:
                return 400, {"code": "invalidAuthCode", "message": "授权码无效"}, {}
            tok = f"uat-{userid}"
            self.union[tok] = f"union-{userid}"
            return 200, {"accessToken": tok, "expireIn": 7200}, {}
        if path == "/v1.0/contact/users/me":
            union = self.union.get(headers.get("x-acs-dingtalk-access-token", ""))
            if union is None:
                return 401, {"code": "InvalidAuthentication"}, {}
            return 200, {"unionId": union, "nick": "x"}, {}
        if not self._token_ok(query):
            return 200, {"errcode": 42001, "errmsg": "access_token expired"}, {}
        if path == "/cgi-bin/auth/getuserinfo":
            userid = self.codes.pop(query.get("code", ""), None)
            if userid is None:
                return 200, {"errcode": 40029, "errmsg": "invalid code"}, {}
            return 200, {"errcode": 0, "errmsg": "ok", "userid": userid}, {}
        if path == "/cgi-bin/department/list":
            return 200, {"errcode": 0, "errmsg": "ok", "department": self.wecom_depts}, {}
        if path == "/cgi-bin/user/list":
            users = self.wecom_users.get(int(query.get("department_id", 0)), [])
            return 200, {"errcode": 0, "errmsg": "ok", "userlist": users}, {}
        if path == "/cgi-bin/message/send":
            self.sent.append({"platform": "wecom", **body})
            return 200, {"errcode": 0, "errmsg": "ok", "msgid": f"m{len(self.sent)}"}, {}
        if path == "/topapi/user/getbyunionid":
            return (
                200,
                {"errcode": 0, "result": {"userid": body["unionid"].removeprefix("union-")}},
                {},
            )
        if path == "/topapi/v2/department/listsub":
            return 200, {"errcode": 0, "result": self.ding_depts.get(int(body["dept_id"]), [])}, {}
        if path == "/topapi/v2/user/list":
            users = self.ding_users.get(int(body["dept_id"]), [])
            start = int(body.get("cursor") or 0)
            page = users[start : start + 1]  # one per page: exercises the cursor
            more = start + 1 < len(users)
            return (
                200,
                {
                    "errcode": 0,
                    "result": {"has_more": more, "next_cursor": start + 1, "list": page},
                },
                {},
            )
        if path == "/topapi/message/corpconversation/asyncsend_v2":
            self.sent.append({"platform": "dingtalk", **body})
            return 200, {"errcode": 0, "task_id": 1000 + len(self.sent)}, {}
        return 404, {"errcode": 404, "errmsg": "not found"}, {}

    next_login_userid = "zhangsan"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _do(self, method: str) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parsed.query))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else {}
                status, payload, headers = fake.handle(
                    method, parsed.path, query, body, self.headers
                )
                data = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def do_GET(self) -> None:  # noqa: N802
                self._do("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._do("POST")

        return Handler
