from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.core.forms import StyledFormMixin

MAX_UPLOAD = 2 * 1024 * 1024  # a JDM file is a few kB; refuse anything absurd


def parse_json_object(text: str, *, allow_empty: bool = False) -> dict[str, Any]:
    text = (text or "").strip()
    if not text:
        if allow_empty:
            return {}
        raise forms.ValidationError(_("请填写 JSON 对象。"))
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise forms.ValidationError(
            _("JSON 格式错误（第 %(line)d 行第 %(col)d 列）：%(msg)s")
            % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg}
        ) from None
    if not isinstance(value, dict):
        raise forms.ValidationError(_('必须是 JSON 对象，例如 {"amount": 100000}。'))
    return value


class TestCaseForm(StyledFormMixin, forms.Form):
    __test__ = False

    name = forms.CharField(label=_("用例名称"), max_length=120)
    input = forms.CharField(
        label=_("输入（JSON）"), widget=forms.Textarea(attrs={"rows": 4, "class": "font-monospace"})
    )
    expected = forms.CharField(
        label=_("期望输出（JSON）"),
        widget=forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}),
    )

    def clean_input(self) -> dict[str, Any]:
        return parse_json_object(self.cleaned_data["input"], allow_empty=True)

    def clean_expected(self) -> dict[str, Any]:
        value = parse_json_object(self.cleaned_data["expected"])
        if not value:
            raise forms.ValidationError(_("期望输出不能为空。"))
        return value


class UploadForm(StyledFormMixin, forms.Form):
    file = forms.FileField(label=_("JDM 文件"), required=False)
    text = forms.CharField(
        label=_("或粘贴 JDM JSON"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "font-monospace"}),
    )
    note = forms.CharField(label=_("变更说明"), max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_UPLOAD:
                raise forms.ValidationError(_("文件过大。"))
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError(_("文件必须是 UTF-8 编码的 JSON。")) from None
        else:
            text = data.get("text") or ""
        if not text.strip():
            raise forms.ValidationError(_("请选择文件或粘贴 JDM JSON。"))
        data["content"] = parse_json_object(text)
        return data


class ContentForm(forms.Form):
    """The editor posts the whole JDM back (serialised by editor.js)."""

    content = forms.CharField(widget=forms.Textarea)
    note = forms.CharField(max_length=200, required=False)

    def clean_content(self) -> dict[str, Any]:
        return parse_json_object(self.cleaned_data["content"])


class TryForm(forms.Form):
    input = forms.CharField(widget=forms.Textarea, required=False)

    def clean_input(self) -> dict[str, Any]:
        return parse_json_object(self.cleaned_data["input"], allow_empty=True)


SIM_DEFAULT = 1000
SIM_MAX = 50000


class SimulateForm(StyledFormMixin, forms.Form):
    limit = forms.IntegerField(
        label=_("最近记录数"), min_value=1, max_value=SIM_MAX, initial=SIM_DEFAULT
    )
