"""Borrower self-service settings (``CREDO_BORROWER_*`` in credo.settings; defaults here so the
app also works where a value is not set)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    "CREDO_BORROWER_OTP_TTL_SECONDS": 300,  # a code is valid 5 minutes
    "CREDO_BORROWER_OTP_MAX_ATTEMPTS": 5,  # wrong entries before a code is void
    "CREDO_BORROWER_OTP_RESEND_SECONDS": 60,  # at most one code per number per minute
    "CREDO_BORROWER_OTP_PER_NUMBER_HOUR": 5,  # codes per number per hour
    "CREDO_BORROWER_OTP_PER_IP_HOUR": 20,  # codes requested per client address per hour
    "CREDO_BORROWER_VERIFY_PER_IP_HOUR": 60,  # code entries per client address per hour
    "CREDO_BORROWER_LOCKOUT_FAILURES": 10,  # wrong codes per number before the lockout …
    "CREDO_BORROWER_LOCKOUT_MINUTES": 30,  # … of this long
    "CREDO_BORROWER_SESSION_IDLE_MINUTES": 15,
    "CREDO_BORROWER_SESSION_MAX_HOURS": 2,
    "CREDO_BORROWER_COOKIE": "credo_borrower",
    "CREDO_BORROWER_PRIVACY_VERSION": "2026-01",
    # Repayment instructions: the lender's collection account and an optional QR payload
    # (a payment link or the account text) shown as a QR code.
    "CREDO_BORROWER_REPAY_ACCOUNT_NAME": "",
    "CREDO_BORROWER_REPAY_BANK": "",
    "CREDO_BORROWER_REPAY_ACCOUNT_NO": "",
    "CREDO_BORROWER_REPAY_QR": "",
    "CREDO_BORROWER_SERVICE_PHONE": "",
}


def get(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])
