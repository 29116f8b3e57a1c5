"""e签宝 and 法大大 adapters against the local fake vendors (tests.contracts.esign_fakes):
the documented request signatures, the whole flow send → signer URL → signed callback → signed PDF
stored → contract signed, bad signatures, replays, timeouts and outages leaving nothing half done,
and the deployment check."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

import pytest
from django.utils import timezone

from credo.contracts import esign, rendering, services
from credo.contracts.errors import InvalidSignature, InvalidState
from credo.contracts.esign import ProviderRefused, ProviderUnavailable
from credo.contracts.esign_providers import esign as eqb
from credo.contracts.esign_providers import fadada as fdd
from credo.contracts.models import Contract
from credo.core.audit.models import AuditEntry
from tests.contracts.esign_fakes import SIGNED_MARK, FakeEsign, FakeFadada

pytestmark = pytest.mark.django_db
CALLBACK = "/api/v1/contracts/esign/callback"


@pytest.fixture
def eqb_fake(settings):
    with FakeEsign() as fake:
        settings.CREDO_ESIGN_PROVIDER = "esign"
        settings.CREDO_EQB_APP_ID = fake.app_id
        settings.CREDO_EQB_APP_SECRET = fake.secret
        settings.CREDO_EQB_BASE_URL = fake.url
        settings.CREDO_ESIGN_TIMEOUT = 1
        yield fake


@pytest.fixture
def fdd_fake(settings):
    fdd.forget_tokens()
    with FakeFadada() as fake:
        settings.CREDO_ESIGN_PROVIDER = "fadada"
        settings.CREDO_FADADA_APP_ID = fake.app_id
        settings.CREDO_FADADA_APP_SECRET = fake.secret
        settings.CREDO_FADADA_OPEN_CORP_ID = fake.corp_id
        settings.CREDO_FADADA_BASE_URL = fake.url
        settings.CREDO_ESIGN_TIMEOUT = 1
        yield fake
    fdd.forget_tokens()


@pytest.fixture(params=["esign", "fadada"])
def vendor(request):
    """(fake, signed callback builder, rejected callback builder) for each vendor."""
    if request.param == "esign":
        fake = request.getfixturevalue("eqb_fake")
        return (
            fake,
            (lambda ref, **kw: fake.callback(ref, "2", **kw)),
            (lambda ref: fake.callback(ref, "7")),
        )
    fake = request.getfixturevalue("fdd_fake")
    return (
        fake,
        (lambda ref, **kw: fake.callback(ref, "sign-task-finished", **kw)),
        (lambda ref: fake.callback(ref, "sign-task-sign-rejected")),
    )


@pytest.fixture
def contract(make_contract, borrower):
    borrower.phone = "13800138000"
    borrower.legal_representative = "王法人"
    borrower.save()
    return make_contract()


@pytest.fixture
def listener():
    calls: list[int] = []

    def on_signed(c):
        calls.append(c.pk)

    services.register_signed_listener(on_signed)
    yield calls
    services.unregister_signed_listener(on_signed)


def _post(client, body, headers):
    content_type = headers.get("Content-Type", "application/json")
    extra = {k: v for k, v in headers.items() if k != "Content-Type"}
    return client.post(CALLBACK, body, content_type=content_type, headers=extra)


# --- documented signatures, computed independently of the adapters ----------------------------
def test_esign_request_signature_follows_the_documented_string_to_sign():
    body = b'{"a":1}'
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()  # noqa: S324
    to_sign = f"POST\n*/*\n{md5}\napplication/json; charset=UTF-8\n\n/v3/x?a=1&b=2"
    expected = base64.b64encode(hmac.new(b"k", to_sign.encode(), hashlib.sha256).digest()).decode()
    got = eqb.request_signature(
        "k",
        method="post",
        accept="*/*",
        md5=eqb.content_md5(body),
        content_type="application/json; charset=UTF-8",
        url="/v3/x?b=2&a=1",  # the query is signed sorted by name
    )
    assert got == expected
    assert eqb.callback_signature("k", "1700", b"{}") == (
        hmac.new(b"k", b"1700{}", hashlib.sha256).hexdigest()
    )


def test_fadada_signature_follows_the_documented_two_step_hmac():
    params = {"X-FASC-Nonce": "n", "X-FASC-App-Id": "a", "bizContent": '{"x":1}', "empty": " "}
    text = 'X-FASC-App-Id=a&X-FASC-Nonce=n&bizContent={"x":1}'  # sorted, blanks left out
    key = hmac.new(b"s", b"123", hashlib.sha256).digest()
    expected = hmac.new(
        key, hashlib.sha256(text.encode()).hexdigest().encode(), hashlib.sha256
    ).hexdigest()
    assert fdd.sign("s", "123", params) == expected


# --- the whole flow -----------------------------------------------------------------------------
def test_send_sign_callback_downloads_and_stores_the_signed_pdf(
    vendor, contract, owner, client, listener
):
    fake, signed, _rejected = vendor
    sent = services.contract_send(contract=contract, actor=owner)
    assert sent.status == "sent" and sent.provider == esign.provider_code()
    assert sent.signer_url.startswith(fake.url) and sent.provider_ref in sent.signer_url
    assert sent.send_claimed_at is None and fake.refused == []
    original = rendering.read_pdf(contract.pdf_path)
    if isinstance(fake, FakeEsign):
        flow = fake.flows[sent.provider_ref]
        assert fake.files[flow["fileId"]] == original
        signer = flow["request"]["signers"][0]
        assert signer["signerType"] == 1
        assert signer["orgSignerInfo"]["orgName"] == "太原借款企业有限公司"
        assert signer["orgSignerInfo"]["transactorInfo"]["psnAccount"] == "13800138000"
        assert flow["request"]["signFlowConfig"]["signFlowExpireTime"] > 0
    else:
        task = fake.tasks[sent.provider_ref]
        assert fake.files[task["fileId"]] == original
        actor = task["request"]["actors"][0]["actor"]
        assert actor["actorType"] == "corp" and actor["accountName"] == "13800138000"
        assert task["request"]["initiator"] == {"idType": "corp", "openId": fake.corp_id}
        assert task["request"]["transReferenceId"] == contract.number
    assert AuditEntry.objects.filter(action="contracts.sent", object_id=str(contract.pk)).exists()

    body, headers = signed(sent.provider_ref)
    resp = _post(client, body, headers)
    assert resp.status_code == 200, resp.content
    assert resp.json()["status"] == "signed" and "success" in resp.content.decode()
    done = Contract.objects.get(pk=contract.pk)
    assert done.status == "signed" and done.signed_at is not None
    stored = rendering.read_pdf(done.signed_pdf_path)
    assert stored == original + SIGNED_MARK
    assert done.signed_pdf_sha256 == hashlib.sha256(stored).hexdigest()
    assert done.signed_pdf_size == len(stored)
    assert listener == [contract.pk]

    # the vendor retries the same callback: acknowledged, nothing downloaded or changed again
    downloads = len([c for c in fake.calls if "/download/" in c])
    again = _post(client, body, headers)
    assert again.status_code == 200 and again.json()["status"] == "signed"
    assert len([c for c in fake.calls if "/download/" in c]) == downloads
    assert listener == [contract.pk]
    assert Contract.objects.get(pk=contract.pk).signed_pdf_path == done.signed_pdf_path


def test_rejected_callback_closes_without_download(vendor, contract, owner, client):
    fake, _signed, rejected = vendor
    sent = services.contract_send(contract=contract, actor=owner)
    resp = _post(client, *rejected(sent.provider_ref))
    assert resp.status_code == 200 and resp.json()["status"] == "rejected"
    done = Contract.objects.get(pk=contract.pk)
    assert done.status == "rejected" and done.signed_pdf_path == ""
    assert not [c for c in fake.calls if "download" in c]


@pytest.mark.parametrize("how", ["wrong_secret", "tampered", "stale"])
def test_bad_callback_signature_is_refused_and_audited(vendor, contract, owner, client, how):
    fake, signed, _rejected = vendor
    sent = services.contract_send(contract=contract, actor=owner)
    if how == "wrong_secret":
        body, headers = signed(sent.provider_ref, secret="not-the-secret")
    elif how == "stale":  # a captured callback replayed two days later
        old = str(int((timezone.now() - dt.timedelta(days=2)).timestamp() * 1000))
        body, headers = signed(sent.provider_ref, timestamp=old)
    else:
        body, headers = signed(sent.provider_ref)
        body = body.replace(b"task_finished", b"task_finishee").replace(b'"2"', b'"7"')
    resp = _post(client, body, headers)
    assert resp.status_code == 403
    assert resp.json()["code"] == "invalid_signature"
    assert Contract.objects.get(pk=contract.pk).status == "sent"
    assert AuditEntry.objects.filter(action="contracts.callback_refused").count() == 1
    assert not [c for c in fake.calls if "download" in c]


def test_fadada_intermediate_event_is_acknowledged_and_changes_nothing(
    fdd_fake, contract, owner, client
):
    sent = services.contract_send(contract=contract, actor=owner)
    resp = _post(client, *fdd_fake.callback(sent.provider_ref, "sign-task-signed"))
    assert resp.status_code == 200 and resp.json()["status"] == "ignored"
    assert "success" in resp.content.decode()
    assert Contract.objects.get(pk=contract.pk).status == "sent"


def test_signed_pdf_download_failure_defers_the_callback(vendor, contract, owner, client, listener):
    fake, signed, _rejected = vendor
    sent = services.contract_send(contract=contract, actor=owner)
    body, headers = signed(sent.provider_ref)
    fake.fail_status = 503
    resp = _post(client, body, headers)
    assert resp.status_code == 503 and resp.json()["code"] == "provider_unavailable"
    assert "HTTP 503" in resp.json()["message"]
    still = Contract.objects.get(pk=contract.pk)
    assert still.status == "sent" and still.signed_pdf_path == "" and listener == []
    assert AuditEntry.objects.filter(action="contracts.callback_deferred").count() == 1
    fake.fail_status = 0  # the vendor's retry completes it
    assert _post(client, body, headers).status_code == 200
    done = Contract.objects.get(pk=contract.pk)
    assert done.status == "signed" and done.signed_pdf_path and listener == [contract.pk]


# --- failures when sending leave a draft ----------------------------------------------------
def test_send_timeout_leaves_a_draft_and_can_be_retried(vendor, contract, owner):
    fake, _signed, _rejected = vendor
    fake.delay = 1.5
    with pytest.raises(ProviderUnavailable) as exc:
        services.contract_send(contract=contract, actor=owner)
    assert "超时" in exc.value.message and "请稍后重试" in exc.value.message
    draft = Contract.objects.get(pk=contract.pk)
    assert draft.status == "draft" and draft.provider_ref == "" and draft.send_claimed_at is None
    failed = AuditEntry.objects.get(action="contracts.send_failed", object_id=str(contract.pk))
    assert "超时" in failed.metadata["error"]
    fake.delay = 0
    assert services.contract_send(contract=draft, actor=owner).status == "sent"


def test_vendor_outage_is_a_clear_error(vendor, contract, owner):
    fake, _signed, _rejected = vendor
    fake.fail_status = 502
    with pytest.raises(ProviderUnavailable, match="HTTP 502"):
        services.contract_send(contract=contract, actor=owner)
    assert Contract.objects.get(pk=contract.pk).status == "draft"


def test_unreachable_vendor_is_a_clear_error(eqb_fake, settings, contract, owner):
    settings.CREDO_EQB_BASE_URL = "http://127.0.0.1:9"  # discard port: connection refused
    with pytest.raises(ProviderUnavailable, match="无法连接 e签宝"):
        services.contract_send(contract=contract, actor=owner)
    assert Contract.objects.get(pk=contract.pk).status == "draft"


def test_wrong_app_secret_is_refused_by_the_vendor(vendor, settings, contract, owner):
    fake, _signed, _rejected = vendor
    if isinstance(fake, FakeEsign):
        settings.CREDO_EQB_APP_SECRET = "wrong"
        expected = "INVALID_SIGNATURE"
    else:
        settings.CREDO_FADADA_APP_SECRET = "wrong"
        expected = "签名校验失败"
    with pytest.raises(ProviderRefused, match=expected):
        services.contract_send(contract=contract, actor=owner)
    assert fake.refused and Contract.objects.get(pk=contract.pk).status == "draft"


def test_missing_mobile_is_refused_before_any_network(eqb_fake, make_contract, owner):
    contract = make_contract()  # the borrower has no mobile number
    with pytest.raises(ProviderRefused, match="手机号"):
        services.contract_send(contract=contract, actor=owner)
    assert eqb_fake.calls == []


def test_unconfigured_vendor_is_refused_before_any_network(eqb_fake, settings, contract, owner):
    settings.CREDO_EQB_APP_SECRET = ""
    with pytest.raises(ProviderRefused, match="CREDO_EQB_APP_SECRET"):
        services.contract_send(contract=contract, actor=owner)
    assert eqb_fake.calls == []


def test_a_second_sender_waits_for_the_claim(eqb_fake, contract, owner):
    Contract.objects.filter(pk=contract.pk).update(send_claimed_at=timezone.now())
    with pytest.raises(InvalidState, match="正在发送"):
        services.contract_send(contract=contract, actor=owner)
    assert eqb_fake.calls == []
    # a claim left by a crashed worker expires
    stale = timezone.now() - services.SEND_CLAIM_TTL - dt.timedelta(seconds=1)
    Contract.objects.filter(pk=contract.pk).update(send_claimed_at=stale)
    assert services.contract_send(contract=contract, actor=owner).status == "sent"


def test_missing_signer_url_can_be_fetched_again(eqb_fake, contract, owner, client, contract_perms):
    sent = services.contract_send(contract=contract, actor=owner)
    Contract.objects.filter(pk=sent.pk).update(signer_url="")
    client.force_login(owner)
    resp = client.post(f"/contracts/{sent.pk}/signer-url/")
    assert resp.status_code == 302
    assert Contract.objects.get(pk=sent.pk).signer_url == f"{eqb_fake.url}/s/{sent.provider_ref}"
    assert AuditEntry.objects.filter(action="contracts.signer_url_refreshed").count() == 1
    page = client.get(f"/contracts/{sent.pk}/")
    assert f"{eqb_fake.url}/s/{sent.provider_ref}" in page.content.decode()
    assert "contract-simulate-sign" not in page.content.decode()


def test_signed_pdf_page_link_and_audited_download(
    fdd_fake, contract, owner, client, contract_perms, colleague
):
    sent = services.contract_send(contract=contract, actor=owner)
    assert _post(client, *fdd_fake.callback(sent.provider_ref)).status_code == 200
    client.force_login(owner)
    page = client.get(f"/contracts/{sent.pk}/").content.decode()
    assert f"/contracts/{sent.pk}/signed-pdf/" in page
    resp = client.get(f"/contracts/{sent.pk}/signed-pdf/")
    assert resp.status_code == 200 and resp.content.endswith(SIGNED_MARK)
    assert AuditEntry.objects.filter(action="contracts.signed_pdf_download").count() == 1
    client.force_login(colleague)  # outside the owner's data scope
    assert client.get(f"/contracts/{sent.pk}/signed-pdf/").status_code in (403, 404)


def test_simulated_contract_has_no_signed_pdf(settings, contract, owner, client, contract_perms):
    settings.CREDO_ESIGN_PROVIDER = "simulated"
    sent = services.contract_send(contract=contract, actor=owner)
    services.contract_simulate(contract=sent, outcome="signed", actor=owner)
    client.force_login(owner)
    assert client.get(f"/contracts/{sent.pk}/signed-pdf/").status_code == 404


def test_callback_for_an_unknown_flow_is_404(eqb_fake, client):
    resp = _post(client, *eqb_fake.callback("no-such-flow"))
    assert resp.status_code == 404


def test_verify_callback_checks_the_app_id(fdd_fake):
    body, headers = fdd_fake.callback("t1")
    headers["X-FASC-App-Id"] = "someone-else"
    with pytest.raises(InvalidSignature):
        fdd.FadadaProvider().verify_callback(body, headers)


def test_fadada_token_is_cached_and_renewed_after_a_refusal(fdd_fake, contract, owner):
    services.contract_send(contract=contract, actor=owner)
    assert len([c for c in fdd_fake.calls if "get-access-token" in c]) == 1
    fdd_fake.tokens.clear()  # the vendor revoked it
    other = services.contract_generate(
        subject=contract.customer, customer=contract.customer, terms=contract.terms, actor=owner
    )
    with pytest.raises(ProviderRefused, match="accessToken"):
        services.contract_send(contract=other, actor=owner)
    assert services.contract_send(contract=other, actor=owner).status == "sent"
    assert len([c for c in fdd_fake.calls if "get-access-token" in c]) == 2


def test_person_borrower_is_a_psn_signer(eqb_fake, owner):
    from credo.core.validators import id_check_char

    id_number = "11010519491231002" + id_check_char("11010519491231002")
    from credo.customers import services as customer_services

    person = customer_services.customer_create(
        actor=owner,
        data={
            "kind": "individual",
            "name": "李借款",
            "id_number": id_number,
            "phone": "13900139000",
            "region_code": "140105",
        },
    )
    from tests.contracts.conftest import sample_terms

    contract = services.contract_generate(
        subject=person, customer=person, terms=sample_terms(borrower="李借款"), actor=owner
    )
    sent = services.contract_send(contract=contract, actor=owner)
    signer = eqb_fake.flows[sent.provider_ref]["request"]["signers"][0]
    assert signer["signerType"] == 0
    assert signer["psnSignerInfo"]["psnAccount"] == "13900139000"
    assert signer["psnSignerInfo"]["psnInfo"]["psnIDCardNum"] == id_number


def test_cancel_revokes_the_flow_at_the_vendor_first(vendor, contract, owner):
    fake, _signed, _rejected = vendor
    sent = services.contract_send(contract=contract, actor=owner)
    cancelled = services.contract_cancel(contract=sent, actor=owner, reason="客户放弃借款")
    assert cancelled.status == "cancelled"
    if isinstance(fake, FakeEsign):
        flow = fake.flows[sent.provider_ref]
        assert flow["status"] == "3" and flow["revokeReason"] == "客户放弃借款"
    else:
        task = fake.tasks[sent.provider_ref]
        assert task["status"] == "task_cancelled" and task["note"] == "客户放弃借款"


@pytest.mark.parametrize("how", ["signed_meanwhile", "outage"])
def test_cancel_refused_or_unreachable_vendor_keeps_the_contract_sent(vendor, contract, owner, how):
    fake, _signed, _rejected = vendor
    sent = services.contract_send(contract=contract, actor=owner)
    if how == "outage":
        fake.fail_status = 503
        expected: type[Exception] = ProviderUnavailable
    else:  # the borrower signed a moment ago; the callback has not arrived yet
        if isinstance(fake, FakeEsign):
            fake.flows[sent.provider_ref]["status"] = "2"
        else:
            fake.tasks[sent.provider_ref]["status"] = "task_finished"
        expected = ProviderRefused
    with pytest.raises(expected):
        services.contract_cancel(contract=sent, actor=owner)
    assert Contract.objects.get(pk=contract.pk).status == "sent"
    assert not AuditEntry.objects.filter(action="contracts.cancelled").exists()


# --- credo check --deploy -----------------------------------------------------------------------
def _esign_findings():
    from credo.core import checks

    return {
        f.code: f.variable
        for f in checks.config_report(deploy=True)
        if f.code in ("credo.E091", "credo.E093", "credo.I093")
    }


def test_deploy_check_refuses_simulated_unknown_and_unconfigured_providers(settings):
    settings.CREDO_ESIGN_PROVIDER = "simulated"
    assert _esign_findings() == {"credo.E091": "CREDO_ESIGN_PROVIDER"}
    settings.CREDO_ESIGN_PROVIDER = "esignbao"
    assert _esign_findings() == {"credo.E093": "CREDO_ESIGN_PROVIDER"}
    settings.CREDO_ESIGN_PROVIDER = "esign"
    settings.CREDO_EQB_APP_ID = "app"
    settings.CREDO_EQB_APP_SECRET = ""
    assert _esign_findings() == {"credo.E093": "CREDO_EQB_APP_SECRET"}
    settings.CREDO_EQB_APP_SECRET = "secret"
    assert _esign_findings() == {"credo.I093": "CREDO_ESIGN_PROVIDER"}
    settings.CREDO_ESIGN_PROVIDER = "fadada"
    settings.CREDO_FADADA_APP_ID = "a"
    settings.CREDO_FADADA_APP_SECRET = "s"
    settings.CREDO_FADADA_OPEN_CORP_ID = ""
    assert _esign_findings() == {"credo.E093": "CREDO_FADADA_OPEN_CORP_ID"}


def test_fake_zip_download_is_unpacked():
    import io
    import zipfile

    from credo.contracts.esign_providers.http import unzip_pdf

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", b"x")
        archive.writestr("a.pdf", b"%PDF-1.7 data")
    assert unzip_pdf(buffer.getvalue()) == b"%PDF-1.7 data"
    assert unzip_pdf(b"%PDF-plain") == b"%PDF-plain"
