"""The Tencent Cloud and Aliyun adapters against local fakes that check signatures."""

from __future__ import annotations

import json

import pytest

from credo.core.validators import id_check_char
from credo.ocr.providers.aliyun import AliyunOcr
from credo.ocr.providers.base import (
    AUTH,
    BAD_RESPONSE,
    NOT_RECOGNIZED,
    TIMEOUT,
    UNAVAILABLE,
    OcrError,
)
from credo.ocr.providers.tencent import TencentOcr
from tests.factories import png_bytes
from tests.ocr.fakes import (
    ALIYUN_ID,
    ALIYUN_SECRET,
    ID_FRONT,
    TENCENT_ID,
    TENCENT_KEY,
    FakeAliyun,
    FakeTencent,
    prism,
)

FIRST17 = "14010519900307001"
ID_NUMBER = FIRST17 + id_check_char(FIRST17)
IMAGE = png_bytes((40, 30))


@pytest.fixture
def tencent():
    with FakeTencent() as fake:
        fake.answer = {
            "IDCardOCR": {
                **ID_FRONT,
                "IdNum": ID_NUMBER,
                "Authority": "",
                "ValidDate": "",
                "AdvancedInfo": json.dumps({"Quality": 88, "WarnInfos": []}),
            },
            "BizLicenseOCR": {
                "RegNum": "91140105MA0K2B3C4D",
                "Name": "山西晋阳商贸有限公司",
                "Capital": "人民币500万元",
                "Person": "王伟",
                "Address": "山西省太原市小店区长治路1号",
                "Business": "日用品销售",
                "Type": "有限责任公司",
                "Period": "2015年05月08日至长期",
                "SetDate": "2015年05月08日",
                "RecognizeWarnCode": [-9102],
                "RecognizeWarnMsg": ["WARN_COPY_CARD"],
            },
            "BankCardOCR": {
                "CardNo": "6217 0000 0000 0000 000",
                "BankInfo": "中国建设银行(01050000)",
                "ValidDate": "08/2031",
                "CardType": "借记卡",
                "QualityValue": 95,
                "WarningCode": [],
            },
        }
        yield fake


def _tencent(fake, **kw):
    opts = {"secret_id": TENCENT_ID, "secret_key": TENCENT_KEY, "endpoint": fake.url}
    opts.update(kw)
    return TencentOcr(**opts)


def test_tencent_id_card_front_signed_and_parsed(tencent):
    result = _tencent(tencent).recognize("id_card", IMAGE, "front")
    assert result.fields["id_number"] == (ID_NUMBER, 0.88)
    assert result.fields["name"] == ("李明", 0.88)
    assert result.fields["birth"][0] == "1990/3/7"
    sent = tencent.requests[0]["headers"]
    assert sent["x-tc-action"] == "IDCardOCR"
    assert sent["x-tc-version"] == "2018-11-19"
    assert sent["authorization"].startswith(f"TC3-HMAC-SHA256 Credential={TENCENT_ID}/")
    assert "/ocr/tc3_request, SignedHeaders=content-type;host, Signature=" in sent["authorization"]
    body = json.loads(tencent.requests[0]["body"])
    assert body["CardSide"] == "FRONT"
    assert result.raw["IdNum"] == "***"  # the log never keeps the clear number


def test_tencent_id_card_back(tencent):
    result = _tencent(tencent).recognize("id_card", IMAGE, "back")
    assert json.loads(tencent.requests[0]["body"])["CardSide"] == "BACK"
    assert result.fields["valid_from"] == ("2015.08.01", 0.9)
    assert result.fields["valid_to"] == ("2035.08.01", 0.9)
    assert "name" not in result.fields


def test_tencent_licence_warning_lowers_confidence(tencent):
    result = _tencent(tencent).recognize("business_license", IMAGE)
    assert result.fields["uscc"] == ("91140105MA0K2B3C4D", 0.6)
    assert result.fields["registered_capital"][0] == "人民币500万元"


def test_tencent_bank_card(tencent):
    result = _tencent(tencent).recognize("bank_card", IMAGE)
    assert result.fields["card_number"] == ("6217 0000 0000 0000 000", 0.95)
    assert result.fields["bank_name"] == ("中国建设银行", 0.95)


@pytest.mark.parametrize(
    ("kw", "vendor_code"),
    [
        ({"secret_key": "wrong-key"}, "AuthFailure.SignatureFailure"),
        ({"secret_id": "AKIDunknown"}, "AuthFailure.SecretIdNotFound"),
        ({"now": lambda: 1_000_000_000}, "AuthFailure.SignatureExpire"),
    ],
)
def test_tencent_bad_credentials(tencent, kw, vendor_code):
    with pytest.raises(OcrError) as exc:
        _tencent(tencent, **kw).recognize("id_card", IMAGE)
    assert exc.value.code == AUTH
    assert exc.value.vendor_code == vendor_code


def test_tencent_tampered_body_fails_signature(tencent, monkeypatch):
    from credo.ocr.providers import http

    real_post = http.post

    def tamper(url, body, headers, *, timeout):
        return real_post(url, body.replace(b"FRONT", b"BACK"), headers, timeout=timeout)

    monkeypatch.setattr(http, "post", tamper)
    with pytest.raises(OcrError) as exc:
        _tencent(tencent).recognize("id_card", IMAGE)
    assert exc.value.vendor_code == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("error:FailedOperation.ImageNoIdCard", NOT_RECOGNIZED),
        ("error:RequestLimitExceeded", UNAVAILABLE),
        ("http500", UNAVAILABLE),
        ("garbage", BAD_RESPONSE),
    ],
)
def test_tencent_vendor_errors(tencent, mode, code):
    tencent.mode = mode
    with pytest.raises(OcrError) as exc:
        _tencent(tencent).recognize("id_card", IMAGE)
    assert exc.value.code == code


def test_tencent_timeout(tencent):
    tencent.mode = "timeout"
    with pytest.raises(OcrError) as exc:
        _tencent(tencent, timeout=0.3).recognize("id_card", IMAGE)
    assert exc.value.code == TIMEOUT


def test_unreachable_endpoint():
    with pytest.raises(OcrError) as exc:
        TencentOcr(
            secret_id=TENCENT_ID, secret_key=TENCENT_KEY, endpoint="http://127.0.0.1:9"
        ).recognize("id_card", IMAGE)
    assert exc.value.code == UNAVAILABLE


# --- Aliyun --------------------------------------------------------------------------------------
@pytest.fixture
def aliyun():
    with FakeAliyun() as fake:
        face = {
            "name": "李明",
            "sex": "男",
            "ethnicity": "汉",
            "birthDate": "1990年3月7日",
            "address": "山西省太原市小店区平阳路1号",
            "idNumber": ID_NUMBER,
        }
        licence = {
            "creditCode": "91140105MA0K2B3C4D",
            "companyName": "山西晋阳商贸有限公司",
            "legalPerson": "王伟",
            "registeredCapital": "伍佰万元整",
            "RegistrationDate": "2015年05月08日",
            "businessAddress": "山西省太原市小店区长治路1号",
        }
        card = {"cardNumber": "6217000000000000000", "bankName": "中国建设银行"}
        fake.answer = {
            "RecognizeIdcard": {
                "data": {
                    "face": {"data": face, "prism_keyValueInfo": prism(face, {"address": 62})},
                    "back": {
                        "data": {
                            "issueAuthority": "太原市公安局",
                            "validPeriod": "2015.08.01-长期",
                        },
                        "prism_keyValueInfo": prism(
                            {"issueAuthority": "x", "validPeriod": "y"}, {"validPeriod": 90}
                        ),
                    },
                }
            },
            "RecognizeBusinessLicense": {
                "data": licence,
                "prism_keyValueInfo": prism(licence, {"creditCode": 97}),
            },
            "RecognizeBankCard": {"data": card, "prism_keyValueInfo": prism(card, {})},
        }
        yield fake


def _aliyun(fake, **kw):
    opts = {"access_key_id": ALIYUN_ID, "access_key_secret": ALIYUN_SECRET, "endpoint": fake.url}
    opts.update(kw)
    return AliyunOcr(**opts)


def test_aliyun_id_card_signed_with_confidence(aliyun):
    result = _aliyun(aliyun).recognize("id_card", IMAGE, "front")
    assert result.fields["id_number"] == (ID_NUMBER, 0.99)
    assert result.fields["address"] == ("山西省太原市小店区平阳路1号", 0.62)
    sent = aliyun.requests[0]
    assert sent["body"] == IMAGE  # the image is the binary body
    assert sent["headers"]["x-acs-action"] == "RecognizeIdcard"
    assert sent["headers"]["x-acs-version"] == "2021-07-07"
    assert sent["headers"]["authorization"].startswith(
        f"ACS3-HMAC-SHA256 Credential={ALIYUN_ID},SignedHeaders=content-type;host;x-acs-action;"
    )


def test_aliyun_id_card_back(aliyun):
    result = _aliyun(aliyun).recognize("id_card", IMAGE, "back")
    assert result.fields == {
        "authority": ("太原市公安局", 0.99),
        "valid_from": ("2015.08.01", 0.9),
        "valid_to": ("长期", 0.9),
    }


def test_aliyun_licence_and_bank_card(aliyun):
    licence = _aliyun(aliyun).recognize("business_license", IMAGE)
    assert licence.fields["uscc"] == ("91140105MA0K2B3C4D", 0.97)
    card = _aliyun(aliyun).recognize("bank_card", IMAGE)
    assert card.fields["card_number"] == ("6217000000000000000", 0.99)


@pytest.mark.parametrize(
    ("kw", "vendor_code"),
    [
        ({"access_key_secret": "wrong"}, "SignatureDoesNotMatch"),
        ({"access_key_id": "LTAIunknown"}, "InvalidAccessKeyId.NotFound"),
    ],
)
def test_aliyun_bad_credentials(aliyun, kw, vendor_code):
    with pytest.raises(OcrError) as exc:
        _aliyun(aliyun, **kw).recognize("id_card", IMAGE)
    assert (exc.value.code, exc.value.vendor_code) == (AUTH, vendor_code)


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("error:unmatchedImageType", NOT_RECOGNIZED),
        ("error:Throttling.User", UNAVAILABLE),
        ("http500", UNAVAILABLE),
        ("garbage", BAD_RESPONSE),
    ],
)
def test_aliyun_vendor_errors(aliyun, mode, code):
    aliyun.mode = mode
    with pytest.raises(OcrError) as exc:
        _aliyun(aliyun).recognize("id_card", IMAGE)
    assert exc.value.code == code


def test_aliyun_timeout(aliyun):
    aliyun.mode = "timeout"
    with pytest.raises(OcrError) as exc:
        _aliyun(aliyun, timeout=0.3).recognize("bank_card", IMAGE)
    assert exc.value.code == TIMEOUT


def test_missing_credentials_refused_without_network():
    with pytest.raises(OcrError) as exc:
        AliyunOcr(access_key_id="", access_key_secret="").recognize("id_card", IMAGE)
    assert exc.value.code == "not_configured"
