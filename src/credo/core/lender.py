"""The lender's identity as it appears on contracts, letters and notices.

Three settings: ``CREDO_ORG_NAME`` (legal name), ``CREDO_ORG_USCC`` (统一社会信用代码) and
``CREDO_ORG_ADDRESS`` (registered address). A contract without them names no lender, so
``credo check --deploy`` fails until all three are set and the USCC is valid.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from credo.core.validators import is_valid_uscc


@dataclass(frozen=True)
class Lender:
    name: str
    uscc: str
    address: str


def lender() -> Lender:
    return Lender(
        name=str(getattr(settings, "CREDO_ORG_NAME", "") or "").strip(),
        uscc=str(getattr(settings, "CREDO_ORG_USCC", "") or "").strip().upper(),
        address=str(getattr(settings, "CREDO_ORG_ADDRESS", "") or "").strip(),
    )


def problems() -> list[tuple[str, str]]:
    """(variable, message) for each identity setting that is missing or invalid."""
    who = lender()
    found = []
    if not who.name:
        found.append(("CREDO_ORG_NAME", "the lender's legal name (出借人名称) is not set"))
    if not who.uscc:
        found.append(("CREDO_ORG_USCC", "the lender's USCC (统一社会信用代码) is not set"))
    elif not is_valid_uscc(who.uscc):
        found.append(("CREDO_ORG_USCC", f"{who.uscc} is not a valid USCC (check character)"))
    if not who.address:
        found.append(("CREDO_ORG_ADDRESS", "the lender's registered address (住所) is not set"))
    return found


def contract_terms() -> dict[str, str]:
    """The lender's part of a contract's terms; an unset value is printed as a visible gap,
    never as a made-up name."""
    who = lender()
    gap = _("【未配置】")
    return {
        "lender": who.name or gap,
        "lender_uscc": who.uscc or gap,
        "lender_address": who.address or gap,
    }
