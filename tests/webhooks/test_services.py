"""Endpoint validation, secrets (reveal/rotate audited) and the event-stream consumer."""

from __future__ import annotations

import pytest

from credo.core.audit.models import AuditEntry
from credo.core.audit.services import audit_record
from credo.core.events.stream import events_between, events_pump
from credo.webhooks import services
from credo.webhooks.errors import WebhookError
from credo.webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x.example.com/",
        "javascript:alert(1)",
        "http://",
        "hooks.example.com",
        "https://u:p@h.example.com/",
        "http://169.254.169.254/latest/meta-data/",  # the cloud host's metadata service
        "http://[fe80::1]/in",
    ],
)
def test_only_http_urls(make_endpoint, url):
    with pytest.raises(WebhookError):
        make_endpoint(url)
    assert not WebhookEndpoint.objects.exists()


def test_event_types_are_validated(make_endpoint):
    with pytest.raises(WebhookError, match="未知的事件类型"):
        make_endpoint("https://h.example.com/", events=["no.such_event"])
    with pytest.raises(WebhookError, match="至少订阅"):
        make_endpoint("https://h.example.com/", events=[])
    endpoint, _s = make_endpoint("https://h.example.com/", events=["customer.create", "all"])
    assert endpoint.event_types == ["all"]


def test_update_is_audited_without_the_secret(make_endpoint, creator):
    endpoint, secret = make_endpoint("https://h.example.com/")
    services.endpoint_update(
        endpoint=endpoint,
        actor=creator,
        name="核心系统2",
        url="https://h2.example.com/in",
        event_types=["customer.update"],
        timeout_seconds=5,
        max_attempts=3,
        disable_after_failures=4,
    )
    endpoint.refresh_from_db()
    assert endpoint.url == "https://h2.example.com/in" and endpoint.secret == secret
    row = AuditEntry.objects.get(action="webhooks.endpoint_update")
    assert row.changes["url"] == {
        "old": "https://h.example.com/",
        "new": "https://h2.example.com/in",
    }
    with pytest.raises(WebhookError, match="超时"):
        services.endpoint_update(
            endpoint=endpoint,
            actor=creator,
            name="x",
            url="https://h.example.com/",
            event_types=["all"],
            timeout_seconds=0,
            max_attempts=3,
            disable_after_failures=4,
        )


def test_reveal_and_rotate_are_audited(make_endpoint, creator):
    endpoint, secret = make_endpoint("https://h.example.com/")
    assert services.endpoint_secret_reveal(endpoint=endpoint, actor=creator) == secret
    assert AuditEntry.objects.filter(
        action="webhooks.endpoint_secret_reveal", actor_id=creator.pk
    ).exists()
    new = services.endpoint_secret_rotate(endpoint=endpoint, actor=creator)
    assert new != secret and WebhookEndpoint.objects.get(pk=endpoint.pk).secret == new
    row = AuditEntry.objects.get(action="webhooks.endpoint_secret_rotate")
    assert new not in str(row.changes) + str(row.metadata)


def _event(action: str, oid: int):
    return audit_record(
        action=action,
        object_type="customers.customer",
        object_id=oid,
        object_repr=f"客户 {oid}",
        changes={"name": {"old": None, "new": f"客户 {oid}"}},
    )


def test_stream_consumer_creates_one_delivery_per_subscribed_event(
    receiver, make_endpoint, django_capture_on_commit_callbacks
):
    create_only, _s1 = make_endpoint(receiver.url, name="仅新建", events=["customer.create"])
    everything, _s2 = make_endpoint(receiver.url, name="全部", events=["all"])
    from credo.core.events.catalogue import event_types

    assert services.subscribed_actions() == sorted(et.key for et in event_types)
    events_pump()  # the consumer's cursor starts at the head
    _event("customer.create", 1)
    _event("customer.update", 1)
    _event("test.not_in_catalogue", 1)
    with django_capture_on_commit_callbacks(execute=True):
        events_pump()
    rows = list(
        WebhookDelivery.objects.order_by("endpoint_id", "event_type").values_list(
            "endpoint__name", "event_type", "status"
        )
    )
    assert rows == [
        ("仅新建", "customer.create", "succeeded"),
        ("全部", "customer.create", "succeeded"),
        ("全部", "customer.update", "succeeded"),
    ]
    delivery = WebhookDelivery.objects.get(endpoint=create_only)
    assert delivery.payload["type"] == "customer.create"
    assert delivery.payload["object"] == {"type": "customers.customer", "id": "1", "repr": "客户 1"}
    assert delivery.idempotency_key == delivery.payload["id"]
    assert len(receiver.requests) == 3
    # handed over again (a cursor reset): nothing twice
    services.handle_events([e for e in events_between(actions=["customer.create"])])
    assert WebhookDelivery.objects.count() == 3


def test_disabled_endpoints_take_no_events(make_endpoint, creator):
    endpoint, _s = make_endpoint("https://h.example.com/", events=["customer.update"])
    other, _s = make_endpoint("https://h.example.com/", name="b", events=["customer.create"])
    assert services.subscribed_actions() == ["customer.create", "customer.update"]
    services.endpoint_disable(endpoint=other, actor=creator)
    services.endpoint_disable(endpoint=endpoint, actor=creator)
    assert services.subscribed_actions() == []
    events_pump()
    _event("customer.create", 2)
    events_pump()
    assert not WebhookDelivery.objects.exists()


def test_deploy_check_warns_about_plain_http(make_endpoint, creator):
    from credo.core import checks

    def webhook_findings():
        return [
            f for f in checks.config_report(deploy=True) if f.code in ("credo.I141", "credo.W141")
        ]

    make_endpoint("https://secure.example.com/in", name="安全")
    assert [f.code for f in webhook_findings()] == ["credo.I141"]
    plain, _s = make_endpoint("http://plain.example.com/in", name="明文")
    [finding] = webhook_findings()
    assert (
        finding.level == "warning" and "明文" in finding.message and "安全" not in finding.message
    )
    services.endpoint_disable(endpoint=plain, actor=creator)
    assert [f.code for f in webhook_findings()] == ["credo.I141"]
