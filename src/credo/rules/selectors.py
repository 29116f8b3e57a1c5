"""Reads for the decision-model pages and API.

Decision models are configuration, not customer data: access is by permission only
(``rules.view_decisionmodel``), there is no data scope to apply.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, QuerySet
from django.http import Http404

from credo.rules.models import DecisionModel, DecisionTestCase, DecisionVersion, Evaluation
from credo.rules.registry import get_spec
from credo.rules.services import ensure_defaults


def model_list() -> list[dict[str, Any]]:
    """Every model (registered ones installed first) with its published version, open draft,
    number of test cases and last change."""
    ensure_defaults()
    models = DecisionModel.objects.annotate(
        n_tests=Count("test_cases", distinct=True), last_changed=Max("versions__updated_at")
    ).order_by("key")
    versions: dict[int, dict[str, DecisionVersion]] = {}
    for v in DecisionVersion.objects.exclude(status=DecisionVersion.Status.RETIRED).only(
        "id", "model_id", "number", "status"
    ):
        versions.setdefault(v.model_id, {})[v.status] = v
    return [
        {
            "model": m,
            "published": versions.get(m.pk, {}).get(DecisionVersion.Status.PUBLISHED),
            "draft": versions.get(m.pk, {}).get(DecisionVersion.Status.DRAFT),
            "n_tests": m.n_tests,
            "last_changed": m.last_changed,
        }
        for m in models
    ]


def model_get(key: str) -> DecisionModel:
    model = DecisionModel.objects.filter(key=key).first()
    if model is None and get_spec(key) is not None:
        from credo.rules.services import ensure_model

        model = ensure_model(key)
    if model is None:
        raise Http404("decision model")
    return model


def model_versions(model: DecisionModel) -> QuerySet[DecisionVersion]:
    return model.versions.select_related("created_by", "published_by").order_by("-number")


def version_get(model: DecisionModel, number: int) -> DecisionVersion:
    version = model.versions.select_related("model").filter(number=number).first()
    if version is None:
        raise Http404("decision version")
    return version


def draft_of(model: DecisionModel) -> DecisionVersion | None:
    return model.versions.filter(status=DecisionVersion.Status.DRAFT).first()


def testcase_get(model: DecisionModel, pk: int) -> DecisionTestCase:
    case = model.test_cases.filter(pk=pk).first()
    if case is None:
        raise Http404("test case")
    return case


def evaluations_for(model: DecisionModel) -> QuerySet[Evaluation]:
    return Evaluation.objects.filter(model_key=model.key).select_related("version").order_by("-id")


def spec_fields(key: str) -> dict[str, list[tuple[str, str]]]:
    """The declared inputs/outputs of a registered model (hints for editors)."""
    spec = get_spec(key)
    if spec is None:
        return {"inputs": [], "outputs": []}
    return {
        "inputs": [(f, str(label)) for f, label in spec.inputs],
        "outputs": [(f, str(label)) for f, label in spec.outputs],
    }


def sample_input(key: str) -> dict[str, Any]:
    spec = get_spec(key)
    return dict(spec.sample) if spec is not None and spec.sample else {}
