from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.db import connection
from django.utils import timezone

from credo.contracts import esign, rendering, services
from credo.contracts.errors import InvalidSignature, InvalidState, InvalidTerms, TemplateInvalid
from credo.contracts.models import Contract, ContractEvent, ContractTemplate
from credo.contracts.selectors import contract_for
from credo.core.audit.models import AuditEntry
from tests.contracts.conftest import pdf_fonts, sample_terms

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener():
    calls = []

    def on_signed(contract):
        calls.append(contract.pk)

    services.register_signed_listener(on_signed)
    yield calls
    services.unregister_signed_listener(on_signed)


def test_generate_renders_snapshot_pdf_and_number(make_contract, borrower):
    contract = make_contract()
    today = timezone.localdate()
    assert contract.number == f"HT{today:%Y%m%d}0001"
    assert contract.status == "draft"
    assert contract.subject_type == "customers.customer"
    assert contract.subject_id == str(borrower.pk)
    assert contract.template.code == "loan" and contract.template.version == 1
    assert "人民币壹拾贰万元整" in contract.html
    assert "120,000.00" in contract.html and "40,802.66" in contract.html
    assert contract.number in contract.html and "太原借款企业有限公司" in contract.html
    data = rendering.read_pdf(contract.pdf_path)
    assert data.startswith(b"%PDF") and len(data) == contract.pdf_size > 1000
    assert b"Noto-Serif-CJK-SC" in pdf_fonts(data)  # Chinese text set in the CJK font
    import hashlib

    assert hashlib.sha256(data).hexdigest() == contract.pdf_sha256
    assert contract_for(borrower) == contract
    assert make_contract().number.endswith("0002")
    assert AuditEntry.objects.filter(action="contracts.generated").count() == 2
    assert borrower.events.filter(kind="document").count() == 2


def test_values_are_escaped(make_contract):
    contract = make_contract(borrower="<script>x</script>", purpose="<b>bad</b>")
    assert "<script>x" not in contract.html and "&lt;script&gt;" in contract.html
    assert "&lt;b&gt;bad" in contract.html


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount_fen": 0},
        {"amount_fen": "100"},
        {"amount_fen": 1.5},
        {"months": 0},
        {"annual_rate": "abc"},
        {"borrower": ""},
        {"schedule": [{"period": 1, "payment": 1.5}]},
    ],
)
def test_bad_terms_refused_nothing_changed(owner, borrower, overrides):
    with pytest.raises(InvalidTerms):
        services.contract_generate(
            subject=borrower, customer=borrower, terms=sample_terms(**overrides), actor=owner
        )
    assert Contract.objects.count() == 0


def test_template_edit_creates_version_and_old_contracts_keep_theirs(make_contract, owner):
    first = make_contract()
    template = services.template_update(
        code="loan",
        name="借款合同 2026 版",
        body="<p>{{ contract_number }} {{ borrower }} {{ amount_upper }}</p>{{ schedule_table }}",
        note="精简",
        actor=owner,
    )
    assert template.version == 2 and template.is_current
    assert ContractTemplate.objects.filter(code="loan", is_current=True).count() == 1
    second = make_contract()
    assert second.template == template and "<table" in second.html
    first.refresh_from_db()
    assert first.template.version == 1 and "第七条" in first.html


@pytest.mark.parametrize(
    "body",
    [
        "{% if borrower %}unterminated",
        "{{ borrower|nosuchfilter }}",
        "{% load static %}{% static 'x' %}",
        "{% include 'base.html' %}",
        "   ",
    ],
)
def test_template_syntax_errors_refused_not_saved(owner, body):
    services.template_current("loan")
    with pytest.raises(TemplateInvalid) as err:
        services.template_update(code="loan", name="x", body=body, actor=owner)
    assert err.value.message
    assert list(ContractTemplate.objects.values_list("version", flat=True)) == [1]


def test_template_cannot_reach_outside_context(owner):
    html = services.template_preview("{{ settings.SECRET_KEY }}{{ request }}{{ user }}|")
    assert html == "|"


def test_send_and_simulated_sign_fires_listener_once(make_contract, owner, listener):
    contract = services.contract_send(contract=make_contract(), actor=owner)
    assert contract.status == "sent" and contract.provider == "simulated"
    assert contract.provider_ref.startswith("SIM-")
    assert contract.expires_at > contract.sent_at
    with pytest.raises(InvalidState):
        services.contract_send(contract=contract, actor=owner)
    signed = services.contract_simulate(contract=contract, outcome="signed", actor=owner)
    assert signed.status == "signed" and signed.signed_at
    assert listener == [contract.pk]
    # the same callback again: no error, no second listener call
    provider = esign.get_provider()
    body, headers = provider.callback_body(contract.provider_ref, "signed")
    again = services.contract_callback(body=body, headers=headers)
    assert again.status == "signed" and listener == [contract.pk]
    # a late rejection cannot undo the signature
    body, headers = provider.callback_body(contract.provider_ref, "rejected")
    with pytest.raises(InvalidState):
        services.contract_callback(body=body, headers=headers)
    contract.refresh_from_db()
    assert contract.status == "signed"
    kinds = list(ContractEvent.objects.filter(contract=contract).values_list("kind", flat=True))
    assert kinds == ["generated", "sent", "signed"]


def test_invalid_signature_changes_nothing(make_contract, owner, listener):
    contract = services.contract_send(contract=make_contract(), actor=owner)
    body = json.dumps({"ref": contract.provider_ref, "status": "signed"}).encode()
    for headers in (
        {},
        {"X-Credo-Signature": "0" * 64},
        {"X-Credo-Signature": esign.sign_body(b"x")},
    ):
        with pytest.raises(InvalidSignature):
            services.contract_callback(body=body, headers=headers)
    contract.refresh_from_db()
    assert contract.status == "sent" and listener == []


def test_reject_and_simulation_needs_sent(make_contract, owner, listener):
    contract = make_contract()
    with pytest.raises(InvalidState):
        services.contract_simulate(contract=contract, outcome="signed", actor=owner)
    contract = services.contract_send(contract=contract, actor=owner)
    rejected = services.contract_simulate(contract=contract, outcome="rejected", actor=owner)
    assert rejected.status == "rejected" and rejected.closed_at and listener == []


def test_expire_task(make_contract, owner, listener):
    old = services.contract_send(contract=make_contract(), actor=owner)
    fresh = services.contract_send(contract=make_contract(), actor=owner)
    draft = make_contract()
    Contract.objects.filter(pk=old.pk).update(expires_at=timezone.now() - dt.timedelta(hours=1))
    assert services.contracts_expire() == 1
    assert services.contracts_expire() == 0
    statuses = dict(Contract.objects.values_list("pk", "status"))
    assert statuses == {old.pk: "expired", fresh.pk: "sent", draft.pk: "draft"}
    assert listener == []
    from credo.core.scheduling.registry import registered_schedules

    [spec] = [s for s in registered_schedules() if s.name == "contracts.expire"]
    assert spec.task_path == "credo.contracts.tasks.expire_contracts"


def test_cancel(make_contract, owner):
    contract = services.contract_cancel(contract=make_contract(), actor=owner, reason="重签")
    assert contract.status == "cancelled"
    with pytest.raises(InvalidState):
        services.contract_send(contract=contract, actor=owner)


@pytest.mark.django_db(transaction=True)
def test_numbers_unique_under_concurrency(owner, borrower):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for real concurrent transactions")
    n = 4
    barrier = threading.Barrier(n)
    numbers, errors = [], []

    def run():
        from django.db import connection as conn

        try:
            barrier.wait()
            contract = services.contract_generate(
                subject=borrower, customer=borrower, terms=sample_terms(), actor=owner
            )
            numbers.append(contract.number)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(numbers)) == n
    today = timezone.localdate()
    assert sorted(numbers) == [f"HT{today:%Y%m%d}{i:04d}" for i in range(1, n + 1)]
