"""Decisions of collections: the case strategy (DPD × amount × risk grade → tier)."""

from credo.collections.strategy import spec
from credo.rules.registry import register_decision

register_decision(spec())
