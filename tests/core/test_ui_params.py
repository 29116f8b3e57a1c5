"""core.ui.params.QueryParams and the workbench card defaults: templates read absent keys as ""
without a failed lookup."""

from __future__ import annotations

from django.template import Context, Template
from django.test import RequestFactory

from credo.core.ui.params import QueryParams, query_params
from credo.core.ui.workbench import _card_defaults


def test_query_params_last_value_and_empty_for_absent_keys():
    request = RequestFactory().get("/x/?status=open&status=overdue&q=%E5%BC%A0")
    params = query_params(request)
    assert isinstance(params, QueryParams)
    assert params["status"] == "overdue"  # what QueryDict[key] returns: the last value
    assert params["q"] == "张"
    assert params["kind"] == ""
    assert "kind" not in params  # reading an absent key adds nothing


def test_query_params_render_like_the_query_dict():
    request = RequestFactory().get("/x/?kind=enterprise")
    tpl = Template(
        "{% if params.kind == 'enterprise' %}E{% endif %}[{{ params.q|default:'' }}]"
        "{% if params.q or params.region %}F{% endif %}"
    )
    for params in (request.GET, query_params(request)):
        assert tpl.render(Context({"params": params})) == "E[]"


def test_card_defaults_fill_every_key_the_card_template_reads():
    data = {"items": [{"key": "a", "label": "A", "value": 3, "url": "/a/"}], "rows": None}
    _card_defaults(data)
    assert data["more_url"] is None and data["rows_empty"] is None and data["empty"] is None
    item = data["items"][0]
    assert item["value"] == 3 and item["fmt"] is None and item["note"] is None
    kept = {"items": [], "empty": "没有", "more_url": "/m/"}
    _card_defaults(kept)
    assert kept["empty"] == "没有" and kept["more_url"] == "/m/"
