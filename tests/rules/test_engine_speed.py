"""Issue 24: a compiled graph is evaluated through a single-graph ZEN engine (static loader)
instead of ``ZenDecision.evaluate`` (10× slower in the binding). Both paths must give the same
result and the same trace — so the same matched rows — for every shipped model."""

from __future__ import annotations

import json

import zen
from hypothesis import given, settings
from hypothesis import strategies as st

from credo.rules import engine
from credo.rules.registry import get_spec


def _both(key: str, data: dict) -> tuple[dict, dict]:
    spec = get_spec(key)
    assert spec is not None
    content = spec.default_content()
    compiled = engine.compile_content(content)
    reference = zen.ZenEngine().create_decision(json.dumps(content, ensure_ascii=False))
    fast = compiled.evaluate(data, {"trace": True})
    slow = reference.evaluate(data, {"trace": True})
    return fast, slow


def _same(fast: dict, slow: dict, content_key: str) -> None:
    assert fast["result"] == slow["result"]
    content = get_spec(content_key).default_content()
    assert engine.reasons(content, fast["trace"]) == engine.reasons(content, slow["trace"])


applications = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["enterprise", "individual"]),
        "registered_capital": st.one_of(st.none(), st.integers(0, 50_000_000)),
        "litigation_count": st.integers(0, 8),
        "judgment_debtor": st.booleans(),
        "industry": st.sampled_from(list("ABCFGHIKL") + [""]),
        "business_years": st.integers(0, 40),
        "overdue_loans": st.integers(0, 4),
        "amount": st.integers(1_000, 10_000_000),
        "months": st.integers(1, 60),
    }
)


@settings(max_examples=200, deadline=None)
@given(applications)
def test_admission_same_result_and_matched_rows(data):
    fast, slow = _both("origination.admission", data)
    _same(fast, slow, "origination.admission")


@settings(max_examples=100, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "amount_yuan": st.integers(1_000, 10_000_000),
            "risk_grade": st.sampled_from(["A", "B", "C", "D", "E", ""]),
            "months": st.integers(1, 60),
            "flow": st.sampled_from(["origination.application", "other"]),
        }
    )
)
def test_route_same_result_and_matched_rows(data):
    spec = get_spec("approvals.route")
    sample = dict(spec.sample or {})
    sample.update(data)
    fast, slow = _both("approvals.route", sample)
    _same(fast, slow, "approvals.route")


def test_compiled_graphs_are_cached_per_key():
    content = get_spec("origination.admission").default_content()
    assert engine.compile_content(content, cache_key=("t", 1)) is engine.compile_content(
        content, cache_key=("t", 1)
    )
