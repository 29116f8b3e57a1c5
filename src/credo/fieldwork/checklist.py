"""The 贷后检查 checklist (framework-free). Each item is answered 正常 / 异常 / 不适用;
required items must be answered, and 不适用 is not accepted for them."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

OK, ISSUE, NA = "ok", "issue", "na"
ANSWERS = {OK: _("正常"), ISSUE: _("异常"), NA: _("不适用")}


@dataclass(frozen=True)
class Item:
    key: str
    label: object
    required: bool = True


CHECKLIST: tuple[Item, ...] = (
    Item("operating", _("经营场所正常经营")),
    Item("purpose", _("贷款资金按约定用途使用")),
    Item("finance", _("经营收入、现金流无明显下降")),
    Item("staff", _("实际控制人及主要人员无异常变动")),
    Item("collateral", _("抵质押物完好、未被转移"), required=False),
    Item("litigation", _("无新增涉诉、被执行或负面信息")),
    Item("other_debt", _("无新增大额对外负债或担保"), required=False),
)


def validate(answers: dict[str, str]) -> dict[str, str]:
    """Errors by item key (empty when complete)."""
    errors: dict[str, str] = {}
    for item in CHECKLIST:
        value = answers.get(item.key, "")
        if value not in ANSWERS and value != "":
            errors[item.key] = str(_("无效的选项。"))
        elif item.required and value in ("", NA):
            errors[item.key] = str(_("必填检查项，请选择“正常”或“异常”。"))
    return errors


def issues(answers: dict[str, str]) -> list[str]:
    """Labels of the items answered 异常."""
    return [str(i.label) for i in CHECKLIST if answers.get(i.key) == ISSUE]
