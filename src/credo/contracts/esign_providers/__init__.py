"""Real e-signature vendors: e签宝 (``esign``) and 法大大 (``fadada``); see each module."""

from __future__ import annotations

from credo.contracts.esign import register_provider
from credo.contracts.esign_providers.esign import EsignProvider
from credo.contracts.esign_providers.fadada import FadadaProvider

register_provider(EsignProvider)
register_provider(FadadaProvider)

__all__ = ["EsignProvider", "FadadaProvider"]
