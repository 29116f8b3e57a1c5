"""The configured OCR provider (``CREDO_OCR_PROVIDER``: simulated / tencent / aliyun / off)."""

from __future__ import annotations

from django.conf import settings

from credo.ocr.providers.base import OcrProvider

PROVIDER_CODES = ("simulated", "tencent", "aliyun", "off")


def provider_code() -> str:
    return str(getattr(settings, "CREDO_OCR_PROVIDER", "") or "off")


def get_provider() -> OcrProvider | None:
    """None when OCR is switched off. The simulated provider invents people: in production it
    is refused here as well as by ``credo check --deploy``."""
    code = provider_code()
    if code == "simulated" and settings.ENVIRONMENT == "production":
        return None
    timeout = float(getattr(settings, "CREDO_OCR_TIMEOUT", 10))
    endpoint = str(getattr(settings, "CREDO_OCR_ENDPOINT", "") or "")
    key_id = str(getattr(settings, "CREDO_OCR_SECRET_ID", "") or "")
    secret = str(getattr(settings, "CREDO_OCR_SECRET_KEY", "") or "")
    if code == "tencent":
        from credo.ocr.providers.tencent import DEFAULT_ENDPOINT, TencentOcr

        return TencentOcr(
            secret_id=key_id,
            secret_key=secret,
            region=str(getattr(settings, "CREDO_OCR_REGION", "") or "ap-guangzhou"),
            endpoint=endpoint or DEFAULT_ENDPOINT,
            timeout=timeout,
        )
    if code == "aliyun":
        from credo.ocr.providers.aliyun import DEFAULT_ENDPOINT as ALIYUN_ENDPOINT
        from credo.ocr.providers.aliyun import AliyunOcr

        return AliyunOcr(
            access_key_id=key_id,
            access_key_secret=secret,
            endpoint=endpoint or ALIYUN_ENDPOINT,
            timeout=timeout,
        )
    if code == "off":
        return None
    from credo.ocr.providers.simulated import SimulatedOcr

    return SimulatedOcr()
