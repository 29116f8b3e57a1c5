"""Local fake OCR servers (http.server in a thread) that verify each vendor's signature the way
the vendor documents it — implemented here independently of the adapters — and answer with the
documented response shapes and error codes."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

TENCENT_ID, TENCENT_KEY = "AKIDfakeTencentSecretId0001", "fakeTencentSecretKey0001"
ALIYUN_ID, ALIYUN_SECRET = "LTAIfakeAliyunAccessKey", "fakeAliyunAccessKeySecret01"

ID_FRONT = {
    "Name": "李明",
    "Sex": "男",
    "Nation": "汉",
    "Birth": "1990/3/7",
    "Address": "山西省太原市小店区平阳路1号",
    "IdNum": "",  # filled by the test
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class FakeBase:
    """``mode``: ok | error:<vendor code> | timeout | http500 | garbage."""

    handler_cls: type[BaseHTTPRequestHandler]

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[dict[str, Any]] = []
        self.answer: dict[str, Any] = {}
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeBase:
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

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append({"headers": headers, "body": body, "path": self.path})
                if fake.mode == "timeout":
                    time.sleep(1.5)
                if fake.mode == "http500":
                    self._send(500, b"<html>bad gateway</html>", "text/html")
                    return
                if fake.mode == "garbage":
                    self._send(200, b"not json", "text/plain")
                    return
                status, payload = fake.respond(self.path, headers, body)
                self._send(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))

            def _send(self, status: int, data: bytes, ctype: str = "application/json") -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler

    def respond(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        raise NotImplementedError


# --- Tencent Cloud API 3.0, TC3-HMAC-SHA256 ----------------------------------------------------
def _h(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class FakeTencent(FakeBase):
    secrets = {TENCENT_ID: TENCENT_KEY}

    def _verify(self, headers: dict[str, str], body: bytes) -> str | None:
        auth = headers.get("authorization", "")
        if not auth.startswith("TC3-HMAC-SHA256 "):
            return "AuthFailure.SignatureFailure"
        parts = dict(p.strip().split("=", 1) for p in auth[len("TC3-HMAC-SHA256 ") :].split(","))
        secret_id, date, service, terminator = parts["Credential"].split("/")
        if secret_id not in self.secrets:
            return "AuthFailure.SecretIdNotFound"
        timestamp = int(headers["x-tc-timestamp"])
        if abs(time.time() - timestamp) > 300:
            return "AuthFailure.SignatureExpire"
        if date != dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d"):
            return "AuthFailure.SignatureFailure"
        signed = parts["SignedHeaders"].split(";")
        canonical_headers = "".join(f"{h}:{headers[h].strip().lower()}\n" for h in signed)
        canonical = "\n".join(
            [
                "POST",
                "/",
                "",
                canonical_headers,
                parts["SignedHeaders"],
                hashlib.sha256(body).hexdigest(),
            ]
        )
        to_sign = "\n".join(
            [
                "TC3-HMAC-SHA256",
                str(timestamp),
                f"{date}/{service}/{terminator}",
                hashlib.sha256(canonical.encode()).hexdigest(),
            ]
        )
        key = _h(_h(_h(("TC3" + self.secrets[secret_id]).encode(), date), service), terminator)
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, parts["Signature"]):
            return "AuthFailure.SignatureFailure"
        return None

    def respond(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        rid = f"req-{len(self.requests)}"
        error = self._verify(headers, body)
        if error is None and self.mode.startswith("error:"):
            error = self.mode.split(":", 1)[1]
        if error:
            return 200, {"Response": {"Error": {"Code": error, "Message": error}, "RequestId": rid}}
        params = json.loads(body)
        base64.b64decode(params["ImageBase64"], validate=True)
        action = headers["x-tc-action"]
        if action == "IDCardOCR" and params.get("CardSide") == "BACK":
            answer = {
                "Name": "",
                "Authority": "太原市公安局小店分局",
                "ValidDate": "2015.08.01-2035.08.01",
                "AdvancedInfo": json.dumps({"Quality": 90}),
            }
        else:
            answer = dict(self.answer.get(action, {}))
        return 200, {"Response": {**answer, "RequestId": rid}}


# --- Aliyun ocr-api 2021-07-07, ACS3-HMAC-SHA256 -------------------------------------------------
class FakeAliyun(FakeBase):
    secrets = {ALIYUN_ID: ALIYUN_SECRET}

    def _verify(self, path: str, headers: dict[str, str], body: bytes) -> str | None:
        auth = headers.get("authorization", "")
        if not auth.startswith("ACS3-HMAC-SHA256 "):
            return "IncompleteSignature"
        parts = dict(p.strip().split("=", 1) for p in auth[len("ACS3-HMAC-SHA256 ") :].split(","))
        if parts.get("Credential") not in self.secrets:
            return "InvalidAccessKeyId.NotFound"
        if headers.get("x-acs-content-sha256") != hashlib.sha256(body).hexdigest():
            return "SignatureDoesNotMatch"
        signed = parts["SignedHeaders"].split(";")
        if not {"host", "x-acs-action", "x-acs-date", "x-acs-version"} <= set(signed):
            return "IncompleteSignature"
        route, _, query = path.partition("?")
        pairs = sorted(q.split("=", 1) for q in query.split("&") if q)
        canonical_query = "&".join(
            f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs
        )
        canonical = "\n".join(
            [
                "POST",
                route,
                canonical_query,
                "".join(f"{h}:{headers[h].strip()}\n" for h in signed),
                parts["SignedHeaders"],
                headers["x-acs-content-sha256"],
            ]
        )
        to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
        expected = hmac.new(
            self.secrets[parts["Credential"]].encode(), to_sign.encode(), hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(expected, parts.get("Signature", "")):
            return "SignatureDoesNotMatch"
        return None

    def respond(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any]:
        rid = f"ALI-{len(self.requests)}"
        error = self._verify(path, headers, body)
        if error is None and self.mode.startswith("error:"):
            error = self.mode.split(":", 1)[1]
        if error:
            status = 400 if not error.startswith(("InvalidAccessKeyId", "Signature")) else 403
            if error.startswith("Throttling"):
                status = 429
            return status, {"RequestId": rid, "HostId": "ocr-api", "Code": error, "Message": error}
        doc = self.answer.get(headers["x-acs-action"], {})
        return 200, {"RequestId": rid, "Data": json.dumps(doc, ensure_ascii=False)}


def prism(values: dict[str, str], probs: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"key": k, "keyProb": 100, "value": v, "valueProb": probs.get(k, 99)}
        for k, v in values.items()
    ]
