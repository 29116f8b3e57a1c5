"""Issue 16 item 13: ``{% debug %}`` is refused by the restricted contract-template engine."""

from __future__ import annotations

import pytest
from django.template import Context, Engine

from credo.contracts.errors import TemplateInvalid
from credo.contracts.rendering import SAMPLE_TERMS, compile_body, render_body


@pytest.mark.parametrize(
    "body", ["{% debug %}", "<p>{{ borrower }}</p>{% if 1 %}{% debug %}{% endif %}"]
)
def test_debug_tag_is_refused_with_a_clear_message(body, settings):
    settings.DEBUG = True
    with pytest.raises(TemplateInvalid) as err:
        compile_body(body)
    assert err.value.message == "合同模板不允许使用 debug 标签（它会输出全部上下文数据）。"
    with pytest.raises(TemplateInvalid):
        render_body(body, {"borrower": "甲", "secret": "不应出现"})


def test_other_builtin_tags_still_work_and_project_templates_keep_debug(settings):
    out = render_body(
        "{% for p in items %}{{ p }}{% endfor %}{% if borrower %}/{{ borrower }}{% endif %}",
        {"items": [1, 2], "borrower": SAMPLE_TERMS["borrower"]},
    )
    assert out == "12/示例借款人有限公司"
    # The shared default tag library is untouched: other engines still know {% debug %}.
    settings.DEBUG = False
    assert Engine().from_string("{% debug %}").render(Context({})) == ""
