import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.urls import reverse

from credo.core.audit.models import AuditEntry
from credo.customers import services
from credo.customers.external import external_pull
from credo.customers.models import ExternalProvider

pytestmark = pytest.mark.django_db


class _Vendor(BaseHTTPRequestHandler):
    delay = 0.0
    status = 200

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        time.sleep(self.delay)
        payload = {
            "data": {
                "regCap": "5000000",
                "status": "存续",
                "echo": body["identifier"],
                "auth": self.headers.get("X-Api-Key"),
            }
        }
        raw = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


@pytest.fixture
def vendor():
    server = HTTPServer(("127.0.0.1", 0), _Vendor)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/query"
    server.shutdown()
    server.server_close()
    _Vendor.delay = 0.0
    _Vendor.status = 200


def test_http_provider_maps_fields_and_sends_credential(vendor, owner, enterprise_data):
    ExternalProvider.objects.create(
        name="某工商接口",
        kind="registry",
        engine="http_json",
        url=vendor,
        auth_header="X-Api-Key",
        auth_value="s3cret",
        timeout_seconds=5,
        field_mapping={
            "registered_capital": "data.regCap",
            "status": "data.status",
            "auth_seen": "data.auth",
        },
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT auth_value FROM customers_externalprovider")
        assert "s3cret" not in cursor.fetchone()[0]  # stored encrypted
    c = services.customer_create(actor=owner, data=enterprise_data)
    pull = external_pull(customer=c, kind="registry", actor=owner)
    assert pull.status == "ok"
    assert pull.parsed == {"registered_capital": "5000000", "status": "存续", "auth_seen": "s3cret"}
    assert enterprise_data["uscc"] in pull.raw_payload


def test_http_provider_timeout_is_recorded(vendor, owner, enterprise_data):
    _Vendor.delay = 2.5
    ExternalProvider.objects.create(
        name="慢接口", kind="news", engine="http_json", url=vendor, timeout_seconds=1
    )
    c = services.customer_create(actor=owner, data=enterprise_data)
    pull = external_pull(customer=c, kind="news", actor=owner)
    assert pull.status == "timeout" and "超时" in pull.error
    assert c.events.filter(kind="external_data").count() == 1


def test_http_provider_error_status_and_refused_connection_are_failures(
    vendor, owner, enterprise_data
):
    _Vendor.status = 503
    provider = ExternalProvider.objects.create(
        name="故障接口", kind="news", engine="http_json", url=vendor, timeout_seconds=5
    )
    c = services.customer_create(actor=owner, data=enterprise_data)
    pull = external_pull(customer=c, kind="news", actor=owner)
    assert pull.status == "failed" and pull.error == "数据源请求失败：Service Unavailable"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ExternalProvider.objects.filter(pk=provider.pk).update(url=f"http://127.0.0.1:{port}/q")
    pull = external_pull(customer=c, kind="news", actor=owner)
    assert pull.status == "failed" and pull.error.startswith("数据源请求失败：")


def test_provider_admin_page(client, owner, manager_role):
    manager_role.permissions.add(
        Permission.objects.get(codename="manage_providers", content_type__app_label="customers")
    )
    client.force_login(owner)
    assert "尚未配置外部数据源" in client.get(reverse("customers:provider_list")).content.decode()
    bad = client.post(
        reverse("customers:provider_create"),
        {
            "name": "征信接口",
            "kind": "bureau",
            "engine": "http_json",
            "url": "",
            "timeout_seconds": 10,
            "field_mapping_text": "{bad",
        },
    )
    assert "必须填写接口地址" in bad.content.decode() and "JSON" in bad.content.decode()
    assert not ExternalProvider.objects.exists()
    ok = client.post(
        reverse("customers:provider_create"),
        {
            "name": "征信接口",
            "kind": "bureau",
            "engine": "http_json",
            "url": "https://vendor.example/api",
            "auth_header": "X-Key",
            "auth_value": "topsecret",
            "timeout_seconds": 10,
            "field_mapping_text": '{"score": "data.score"}',
            "is_active": "on",
        },
    )
    assert ok.status_code == 302
    provider = ExternalProvider.objects.get()
    assert provider.auth_value == "topsecret" and provider.field_mapping == {"score": "data.score"}
    entry = AuditEntry.objects.get(action="customer.provider_create")
    assert "topsecret" not in json.dumps(entry.changes, ensure_ascii=False)
    assert entry.metadata["credential_changed"] is True
    # Editing without a credential keeps the old one.
    client.post(
        reverse("customers:provider_edit", args=[provider.pk]),
        {
            "name": "征信接口",
            "kind": "bureau",
            "engine": "http_json",
            "url": "https://vendor.example/api",
            "auth_header": "X-Key",
            "timeout_seconds": 12,
            "is_active": "on",
        },
    )
    provider.refresh_from_db()
    assert provider.auth_value == "topsecret" and provider.timeout_seconds == 12


def test_provider_admin_requires_permission(client, owner):
    client.force_login(owner)
    assert client.get(reverse("customers:provider_list")).status_code == 403
