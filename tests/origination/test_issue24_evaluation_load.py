"""Issue 24: the evaluation loader reads only the columns admission and routing use — the same
inputs as from fully loaded applications, in a fixed number of queries."""

from __future__ import annotations

import random

import pytest

from bench.bench_origination import make_applications
from credo.origination import admission
from credo.origination.models import Application


@pytest.mark.django_db
def test_narrow_load_gives_the_same_inputs_in_three_queries(django_assert_num_queries):
    make_applications(40, random.Random(3))
    ids = list(Application.objects.order_by("id").values_list("id", flat=True))
    full = list(
        Application.objects.filter(id__in=ids)
        .select_related("customer", "product_version__product")
        .order_by("id")
    )
    with django_assert_num_queries(3):  # applications + external pulls + overdue loans
        narrow = sorted(admission.applications_for_evaluation(ids), key=lambda a: a.id)
        inputs = admission.build_inputs(narrow)
        routes = [(a.amount.fen, a.months, a.product_version.product.code) for a in narrow]
    assert inputs == admission.build_inputs(full)
    assert routes == [(a.amount.fen, a.months, a.product_version.product.code) for a in full]
