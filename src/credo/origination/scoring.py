"""The hook through which origination asks for an application score without importing the
scorecard app (which sits above origination and imports it).

The scorecard app registers itself from its ``AppConfig.ready()``::

    register_scorer(
        "scorecard",
        score="credo.scorecard.services.score_application",
        published="credo.scorecard.services.published",
    )

The dotted paths are resolved at call time (so the scorer's module loads lazily and tests may
patch it). With nothing registered, no scorecard is published: the credit report's rules grade
routes the approval.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.module_loading import import_string

from credo.core.registry import Registry


@dataclass(frozen=True)
class Scorer:
    """``score(application, admission_input=dict)`` → an object with ``score`` and ``grade``
    (stored by the scorer) or None when no model is published; ``published()`` → the published
    model (with ``name`` and ``label``) or None."""

    score: str
    published: str


scorers: Registry[Scorer] = Registry("application scorers", on_duplicate="replace")


def register_scorer(key: str, *, score: str, published: str) -> None:
    scorers.register(key, Scorer(score=score, published=published))


def _scorer() -> Scorer | None:
    for scorer in scorers:
        return scorer
    return None


def score_application(application: Any, *, admission_input: dict[str, Any]) -> Any:
    """The registered scorer's score of ``application`` (None: no scorer or nothing published)."""
    scorer = _scorer()
    if scorer is None:
        return None
    return import_string(scorer.score)(application, admission_input=admission_input)


def published_model() -> Any:
    """The scorer's published model, or None."""
    scorer = _scorer()
    if scorer is None:
        return None
    return import_string(scorer.published)()
