"""``credo check --deploy``: the simulated OCR provider invents values, never in production."""

from __future__ import annotations

from credo.core.checks import ERROR, OK, WARNING, Finding
from credo.ocr.providers import provider_code


def check_ocr_provider() -> list[Finding]:
    from django.conf import settings

    code = provider_code()
    if code == "simulated":
        # An error where it matters (production, where it is also refused at run time); a
        # warning when a staging or demo installation is checked.
        production = settings.ENVIRONMENT == "production"
        return [
            Finding(
                ERROR if production else WARNING,
                "credo.E131" if production else "credo.W131",
                "CREDO_OCR_PROVIDER",
                "CREDO_OCR_PROVIDER is the simulated provider (模拟): it invents names and ID "
                "numbers. Configure tencent or aliyun with CREDO_OCR_SECRET_ID/"
                "CREDO_OCR_SECRET_KEY, or set it to off.",
            )
        ]
    if code in ("tencent", "aliyun") and not (
        getattr(settings, "CREDO_OCR_SECRET_ID", "")
        and getattr(settings, "CREDO_OCR_SECRET_KEY", "")
    ):
        return [
            Finding(
                ERROR,
                "credo.E132",
                "CREDO_OCR_SECRET_KEY",
                f"CREDO_OCR_PROVIDER is {code} but CREDO_OCR_SECRET_ID/CREDO_OCR_SECRET_KEY "
                "are not set.",
            )
        ]
    return [Finding(OK, "credo.I131", "CREDO_OCR_PROVIDER", f"OCR provider '{code}'")]
