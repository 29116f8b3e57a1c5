"""Local fake e签宝 and 法大大 servers for tests and offline demos.

Each fake is an ``http.server`` on 127.0.0.1 in a thread that implements the endpoints the
adapters call, checks their request signatures exactly as the vendor documents them, keeps the
uploaded PDF, answers with the vendor's envelope (and error envelope on a bad signature), and
builds signed callbacks. ``delay`` makes every answer slow (timeouts); ``fail_status`` makes
every answer that HTTP status (outages). The error codes of the fakes are illustrative.
"""

from __future__ import annotations

import io
import json
import secrets
import threading
import time
import urllib.parse
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from credo.contracts.esign_providers import esign as eqb
from credo.contracts.esign_providers import fadada as fdd

SIGNED_MARK = b"\n%credo-fake-vendor-signature\n"


class _Fake:
    def __init__(self) -> None:
        self.delay = 0.0
        self.fail_status = 0
        self.calls: list[str] = []
        self.refused: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Fake:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                fake.calls.append(f"{self.command} {self.path}")
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.fail_status:
                    status, ctype, data = fake.fail_status, "text/plain", b"unavailable"
                else:
                    status, ctype, data = fake.route(
                        self.command, self.path, dict(self.headers), body
                    )
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = _serve

        return Handler

    def route(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, str, bytes]:
        raise NotImplementedError


def _json(status: int, payload: Any) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(payload, ensure_ascii=False).encode()


def _h(headers: dict[str, str], name: str) -> str:
    return eqb.header(headers, name)


class FakeEsign(_Fake):
    """e签宝 V3: file upload, create-by-file, sign-url, file-download-url."""

    def __init__(self, app_id: str = "eqb-app", secret: str = "eqb-secret") -> None:  # noqa: S107 (a fake)
        self.app_id, self.secret = app_id, secret
        self.files: dict[str, bytes] = {}
        self.flows: dict[str, dict[str, Any]] = {}
        super().__init__()

    def _verify(self, method: str, path: str, headers: dict[str, str], body: bytes) -> str:
        if _h(headers, "X-Tsign-Open-App-Id") != self.app_id:
            return "INVALID_APP_ID"
        if _h(headers, "X-Tsign-Open-Auth-Mode") != "Signature":
            return "INVALID_AUTH_MODE"
        try:
            sent = int(_h(headers, "X-Tsign-Open-Ca-Timestamp")) / 1000
        except ValueError:
            return "INVALID_TIMESTAMP"
        if abs(time.time() - sent) > 900:
            return "INVALID_TIMESTAMP"
        md5 = _h(headers, "Content-MD5")
        if body and md5 != eqb.content_md5(body):
            return "INVALID_CONTENT_MD5"
        expected = eqb.request_signature(
            self.secret,
            method=method,
            accept=_h(headers, "Accept"),
            md5=md5,
            content_type=_h(headers, "Content-Type"),
            url=path,
        )
        if _h(headers, "X-Tsign-Open-Ca-Signature") != expected:
            return "INVALID_SIGNATURE"
        return ""

    def route(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, str, bytes]:
        parts = path.split("?")[0].strip("/").split("/")
        if method == "PUT" and parts[0] == "upload":
            if _h(headers, "Content-MD5") != eqb.content_md5(body):
                return _json(400, {"errCode": 1, "msg": "Content-MD5 不匹配"})
            self.files[parts[1]] = body
            return _json(200, {"errCode": 0, "msg": "成功"})
        if method == "GET" and parts[0] == "download":
            flow = self.flows.get(parts[1])
            return (
                200,
                "application/pdf",
                (self.files[flow["fileId"]] + SIGNED_MARK) if flow else b"",
            )
        problem = self._verify(method, path, headers, body)
        if problem:
            self.refused.append(problem)
            return _json(401, {"code": 401, "message": problem})
        payload = json.loads(body) if body else {}
        ok = lambda data: _json(200, {"code": 0, "message": "成功", "data": data})  # noqa: E731
        if path == "/v3/files/file-upload-url":
            file_id = secrets.token_hex(16)
            return ok({"fileId": file_id, "fileUploadUrl": f"{self.url}/upload/{file_id}"})
        if path == "/v3/sign-flow/create-by-file":
            file_id = payload["docs"][0]["fileId"]
            if file_id not in self.files:
                return _json(200, {"code": 1437101, "message": "文件未上传完成"})
            flow_id = secrets.token_hex(16)
            self.flows[flow_id] = {"fileId": file_id, "status": "1", "request": payload}
            return ok({"signFlowId": flow_id})
        if parts[:2] == ["v3", "sign-flow"] and len(parts) == 4 and parts[2] in self.flows:
            flow_id, action = parts[2], parts[3]
            if action == "sign-url":
                return ok(
                    {
                        "url": f"{self.url}/sign/{flow_id}?long=1",
                        "shortUrl": f"{self.url}/s/{flow_id}",
                    }
                )
            if action == "revoke":
                if self.flows[flow_id]["status"] != "1":
                    return _json(200, {"code": 1437306, "message": "流程已结束，不能撤销"})
                self.flows[flow_id]["status"] = "3"
                self.flows[flow_id]["revokeReason"] = payload.get("revokeReason", "")
                return ok(None)
            if action == "file-download-url":
                if self.flows[flow_id]["status"] != "2":
                    return _json(200, {"code": 1437512, "message": "流程未完成，不能下载"})
                return ok(
                    {
                        "files": [
                            {
                                "fileId": self.flows[flow_id]["fileId"],
                                "fileName": "c.pdf",
                                "downloadUrl": f"{self.url}/download/{flow_id}",
                            }
                        ]
                    }
                )
        return _json(404, {"code": 404, "message": "not found"})

    def callback(
        self,
        flow_id: str,
        status: str = "2",
        *,
        secret: str | None = None,
        timestamp: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """Finish the flow (2 signed, 7 rejected, 5 expired) and build e签宝's signed callback."""
        if flow_id in self.flows:
            self.flows[flow_id]["status"] = status
        body = json.dumps(
            {
                "action": "SIGN_FLOW_COMPLETE",
                "timestamp": int(time.time() * 1000),
                "signFlowId": flow_id,
                "signFlowTitle": "借款合同",
                "signFlowStatus": status,
                "statusDescription": "完成",
            },
            ensure_ascii=False,
        ).encode()
        ts = timestamp or str(int(time.time() * 1000))
        return body, {
            "X-Tsign-Open-App-Id": self.app_id,
            "X-Tsign-Open-TIMESTAMP": ts,
            "X-Tsign-Open-SIGNATURE-ALGORITHM": "hmac-sha256",
            "X-Tsign-Open-SIGNATURE": eqb.callback_signature(secret or self.secret, ts, body),
            "Content-Type": "application/json",
        }


class FakeFadada(_Fake):
    """法大大 FASC 5.1: access token, file upload/process, sign-task create/actor url/download."""

    def __init__(
        self,
        app_id: str = "fdd-app",
        secret: str = "fdd-secret",  # noqa: S107 (a fake)
        corp_id: str = "corp-1",
    ) -> None:
        self.app_id, self.secret, self.corp_id = app_id, secret, corp_id
        self.tokens: set[str] = set()
        self.uploads: dict[str, bytes] = {}
        self.files: dict[str, bytes] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        super().__init__()

    def _verify(self, headers: dict[str, str], biz: str | None) -> str:
        if _h(headers, "X-FASC-App-Id") != self.app_id:
            return "100001"
        timestamp = _h(headers, "X-FASC-Timestamp")
        names = [
            "X-FASC-App-Id",
            "X-FASC-Sign-Type",
            "X-FASC-Timestamp",
            "X-FASC-Nonce",
            "X-FASC-Api-SubVersion",
            "X-FASC-Grant-Type",
            "X-FASC-AccessToken",
        ]
        params = {n: _h(headers, n) for n in names if _h(headers, n)}
        if biz is not None:
            params["bizContent"] = biz
        if _h(headers, "X-FASC-Sign") != fdd.sign(self.secret, timestamp, params):
            return "100003"
        token = _h(headers, "X-FASC-AccessToken")
        if biz is not None and token not in self.tokens:
            return "100002"
        return ""

    def route(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, str, bytes]:
        parts = path.split("?")[0].strip("/").split("/")
        if method == "PUT" and parts[0] == "upload":
            self.uploads[parts[1]] = body
            return 200, "text/plain", b""
        if method == "GET" and parts[0] == "download":
            task = self.tasks.get(parts[1])
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr(
                    "借款合同.pdf", self.files[task["fileId"]] + SIGNED_MARK if task else b""
                )
            return 200, "application/zip", buffer.getvalue()
        form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True)
        biz: str | None = form["bizContent"][0] if form.get("bizContent") else None
        path = path.split("?")[0]
        problem = self._verify(headers, biz if path != "/service/get-access-token" else None)
        if problem:
            self.refused.append(problem)
            return _json(
                200,
                {
                    "code": problem,
                    "msg": {
                        "100001": "应用不存在",
                        "100002": "accessToken 无效",
                        "100003": "签名校验失败",
                    }[problem],
                },
            )
        payload = json.loads(biz) if biz else {}
        ok = lambda data: _json(200, {"code": fdd.OK, "msg": "请求成功", "data": data})  # noqa: E731
        if path == "/service/get-access-token":
            token = secrets.token_hex(16)
            self.tokens.add(token)
            return ok({"accessToken": token, "expiresIn": "7200"})
        if path == "/file/get-upload-url":
            key = secrets.token_hex(8)
            return ok({"uploadUrl": f"{self.url}/upload/{key}", "fddFileUrl": f"fdd://{key}"})
        if path == "/file/process":
            key = payload["fddFileUrlList"][0]["fddFileUrl"].removeprefix("fdd://")
            if key not in self.uploads:
                return _json(200, {"code": "210001", "msg": "文件不存在"})
            file_id = secrets.token_hex(12)
            self.files[file_id] = self.uploads[key]
            return ok({"fileIdList": [{"fileId": file_id, "fileType": "doc"}]})
        if path == "/sign-task/create":
            if payload.get("initiator", {}).get("openId") != self.corp_id:
                return _json(200, {"code": "210002", "msg": "发起方未授权"})
            task_id = secrets.token_hex(12)
            self.tasks[task_id] = {
                "fileId": payload["docs"][0]["docFileId"],
                "status": "sign_progress",
                "request": payload,
            }
            return ok({"signTaskId": task_id})
        return self._task_route(path, payload)

    def _task_route(self, path: str, payload: dict[str, Any]) -> tuple[int, str, bytes]:
        ok = lambda data: _json(200, {"code": fdd.OK, "msg": "请求成功", "data": data})  # noqa: E731
        task = self.tasks.get(str(payload.get("signTaskId")))
        if task is None:
            return _json(200, {"code": "210003", "msg": "签署任务不存在"})
        if path == "/sign-task/actor/get-url":
            return ok({"actorSignTaskUrl": f"{self.url}/sign/{payload['signTaskId']}"})
        if path == "/sign-task/cancel":
            if task["status"] != "sign_progress":
                return _json(200, {"code": "210005", "msg": "签署任务当前状态不允许撤销"})
            task["status"] = "task_cancelled"
            task["note"] = payload.get("terminationNote", "")
            return ok(None)
        if path == "/sign-task/owner/get-download-url":
            if task["status"] != "task_finished":
                return _json(200, {"code": "210004", "msg": "签署任务未完成"})
            return ok({"downloadUrl": f"{self.url}/download/{payload['signTaskId']}"})
        return _json(404, {"code": "404", "msg": "not found"})

    def callback(
        self,
        task_id: str,
        event: str = "sign-task-finished",
        *,
        secret: str | None = None,
        timestamp: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        if event == "sign-task-finished" and task_id in self.tasks:
            self.tasks[task_id]["status"] = "task_finished"
        biz = json.dumps(
            {
                "eventTime": str(int(time.time() * 1000)),
                "signTaskId": task_id,
                "signTaskStatus": "task_finished",
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        ts = timestamp or str(int(time.time() * 1000))
        headers = {
            "X-FASC-App-Id": self.app_id,
            "X-FASC-Sign-Type": "HMAC-SHA256",
            "X-FASC-Timestamp": ts,
            "X-FASC-Nonce": secrets.token_hex(16),
            "X-FASC-Event": event,
        }
        params = dict(headers)
        params["bizContent"] = biz
        headers["X-FASC-Sign"] = fdd.sign(secret or self.secret, ts, params)
        headers["Content-Type"] = fdd.FORM_TYPE
        return urllib.parse.urlencode({"bizContent": biz}).encode(), headers
