"""The automation editor: one form for trigger, condition and up to ``ACTION_SLOTS`` actions,
converted to and from the version's JSON."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.automations import actions as action_types
from credo.automations import subjects, triggers

ACTION_SLOTS = 3


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
        field.widget.attrs.setdefault("class", css)


class CreateForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("名称"), max_length=120)
    description = forms.CharField(
        label=gettext_lazy("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


def _event_choices() -> list[Any]:
    from credo.core.events.catalogue import catalogue

    groups: dict[str, list[tuple[str, str]]] = {}
    for row in catalogue():
        groups.setdefault(row["group"] or _("其他"), []).append(
            (row["key"], f"{row['label']}（{row['key']}）")
        )
    return [("", "—")] + [(g, rows) for g, rows in groups.items()]


def _state_choices() -> list[Any]:
    out: list[Any] = [("", "—")]
    for kind in triggers.transition_specs():
        label = str(subjects.KINDS[kind].label) if kind in subjects.KINDS else kind
        if kind == "approval":
            label = _("审批")
        elif kind == "contract":
            label = _("合同")
        out.append(
            (
                label,
                [(f"{kind}:{s}", f"{label}·{sl}") for s, sl in triggers.transition_states(kind)],
            )
        )
    return out


def _user_choices() -> list[tuple[str, str]]:
    from django.contrib.auth import get_user_model

    from credo.automations.engine import SERVICE_USERNAME

    users = get_user_model().objects.filter(is_active=True).exclude(username=SERVICE_USERNAME)
    return [("", "—")] + [(str(u.pk), str(u)) for u in users.order_by("username")[:500]]


def _template_choices() -> list[tuple[str, str]]:
    from credo.notify.services import registered_templates

    return [("", "—")] + [
        (code, f"{spec.name}（{code}）") for code, spec in sorted(registered_templates().items())
    ]


def _flow_choices() -> list[tuple[str, str]]:
    from credo.approvals.defaults import default_flows
    from credo.approvals.models import ApprovalFlow

    flows = {key: str(spec[0]) for key, spec in default_flows.items()}
    flows.update({f.key: f.name for f in ApprovalFlow.objects.order_by("key")})
    return [("", "—")] + sorted(flows.items())


def _record_type_choices() -> list[tuple[str, str]]:
    try:
        from credo.records.models import RecordType

        return [("", "—")] + [(t.code, t.name) for t in RecordType.objects.order_by("code")]
    except Exception:  # noqa: BLE001 — the records app is built in parallel
        return [("", "—")]


def _endpoint_choices() -> list[tuple[str, str]]:
    try:
        from credo.webhooks.models import WebhookEndpoint  # type: ignore[import-not-found,unused-ignore]

        return [("", "—")] + [
            (str(e.id), e.name + ("" if e.enabled else _("（已停用）")))
            for e in WebhookEndpoint.objects.order_by("name")
        ]
    except Exception:  # noqa: BLE001 — the webhooks app is built in parallel
        return [("", "—")]


def _flag_choices() -> list[tuple[str, str]]:
    from credo.customers.services.risk import RISK_FLAGS

    return [("", "—")] + list(RISK_FLAGS.items())


def _channel_choices() -> list[tuple[str, str]]:
    from credo.notify.models import Kind

    return [("", _("按模板与偏好"))] + [(str(v), str(label)) for v, label in Kind.choices]


class VersionForm(forms.Form):
    trigger_type = forms.ChoiceField(label=gettext_lazy("触发类型"))
    event = forms.ChoiceField(label=gettext_lazy("事件"), required=False)
    changed_fields = forms.CharField(
        label=gettext_lazy("字段变更（任一，逗号分隔）"), required=False, max_length=300
    )
    equals = forms.CharField(
        label=gettext_lazy("字段取值（字段=值，逗号分隔）"), required=False, max_length=300
    )
    to_state = forms.ChoiceField(label=gettext_lazy("变更后状态"), required=False)
    from_state = forms.ChoiceField(label=gettext_lazy("变更前状态（可选）"), required=False)
    date_field = forms.ChoiceField(label=gettext_lazy("日期字段"), required=False)
    days = forms.IntegerField(
        label=gettext_lazy("天数 N"), required=False, min_value=0, max_value=365
    )
    eod_result = forms.ChoiceField(label=gettext_lazy("日终结果"), required=False)
    to_class = forms.CharField(
        label=gettext_lazy("变为分类（可选）"), required=False, max_length=16
    )
    severity = forms.ChoiceField(label=gettext_lazy("严重程度"), required=False)
    cron = forms.CharField(label=gettext_lazy("cron 表达式"), required=False, max_length=100)
    cron_object = forms.ChoiceField(label=gettext_lazy("逐条检查的对象（可选）"), required=False)
    condition_kind = forms.ChoiceField(
        label=gettext_lazy("条件"),
        choices=[
            ("none", gettext_lazy("无条件")),
            ("expression", gettext_lazy("ZEN 表达式")),
            ("table", gettext_lazy("决策表（JDM，输出 fire）")),
        ],
    )
    expression = forms.CharField(
        label=gettext_lazy("表达式"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    table = forms.CharField(
        label=gettext_lazy("决策表 JSON"), required=False, widget=forms.Textarea(attrs={"rows": 6})
    )
    note = forms.CharField(label=gettext_lazy("变更说明"), required=False, max_length=200)

    ACTION_FIELDS = (
        "type", "user", "title", "due_days", "assignee", "template", "channel", "recipient",
        "to", "flow", "flag", "on", "record_type", "values", "endpoint",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from credo.lending.models import Loan
        from credo.monitoring.models import Severity

        f: dict[str, Any] = self.fields  # type: ignore[assignment]
        f["trigger_type"].choices = [(k, str(v)) for k, v in triggers.TRIGGER_TYPES.items()]
        f["event"].choices = _event_choices()
        states = _state_choices()
        f["to_state"].choices = states
        f["from_state"].choices = states
        f["date_field"].choices = [("", "—")] + [
            (k, str(v[0])) for k, v in triggers.DATE_FIELDS.items()
        ]
        f["eod_result"].choices = [("", "—")] + [
            (k, str(v)) for k, v in triggers.EOD_RESULTS.items()
        ]
        f["to_class"].widget = forms.Select(
            choices=[("", _("任意"))] + list(Loan.Classification.choices)
        )
        f["severity"].choices = [("", _("任意"))] + list(Severity.choices)
        f["cron_object"].choices = [("", "—")] + subjects.kind_choices()
        users = _user_choices()
        type_choices = [("", "—")] + [
            (k, str(a.label)) for k, a in action_types.ACTION_TYPES.items()
        ]
        recipients = [("owner", _("记录负责人")), ("customer", _("客户本人"))] + users[1:]
        all_states = sorted(
            {s for k in triggers.transition_specs() for s, _l in triggers.transition_states(k)}
        )
        for i in range(1, ACTION_SLOTS + 1):
            p = f"a{i}_"
            f[p + "type"] = forms.ChoiceField(
                label=_("动作 %(i)s") % {"i": i}, choices=type_choices, required=False
            )
            f[p + "user"] = forms.ChoiceField(label=_("新负责人"), choices=users, required=False)
            f[p + "title"] = forms.CharField(label=_("待办标题"), required=False, max_length=200)
            f[p + "due_days"] = forms.IntegerField(
                label=_("期限（天）"), required=False, min_value=0, max_value=365
            )
            f[p + "assignee"] = forms.ChoiceField(
                label=_("待办接收人"),
                choices=[("owner", _("记录负责人"))] + users[1:],
                required=False,
            )
            f[p + "template"] = forms.ChoiceField(
                label=_("通知模板"), choices=_template_choices(), required=False
            )
            f[p + "channel"] = forms.ChoiceField(
                label=_("渠道"), choices=_channel_choices(), required=False
            )
            f[p + "recipient"] = forms.ChoiceField(
                label=_("通知接收人"), choices=recipients, required=False
            )
            f[p + "to"] = forms.ChoiceField(
                label=_("目标状态"),
                choices=[("", "—")] + [(s, s) for s in all_states],
                required=False,
            )
            f[p + "flow"] = forms.ChoiceField(
                label=_("审批流"), choices=_flow_choices(), required=False
            )
            f[p + "flag"] = forms.ChoiceField(
                label=_("风险标记"), choices=_flag_choices(), required=False
            )
            f[p + "on"] = forms.ChoiceField(
                label=_("设置或解除"), choices=[("1", _("设置")), ("0", _("解除"))], required=False
            )
            f[p + "record_type"] = forms.ChoiceField(
                label=_("记录类型"), choices=_record_type_choices(), required=False
            )
            f[p + "values"] = forms.CharField(
                label=_("字段值 JSON"), required=False, max_length=2000
            )
            f[p + "endpoint"] = forms.ChoiceField(
                label=_("回调地址"), choices=_endpoint_choices(), required=False
            )
        _style(self)

    # --- JSON ↔ form ----------------------------------------------------------------------------
    @classmethod
    def initial_from(cls, version: Any) -> dict[str, Any]:
        t = dict(version.trigger or {})
        c = dict(version.condition or {})
        data: dict[str, Any] = {
            "trigger_type": t.get("type") or "event",
            "event": t.get("event", ""),
            "changed_fields": ", ".join(t.get("fields") or []),
            "equals": ", ".join(f"{k}={v}" for k, v in (t.get("equals") or {}).items()),
            "to_state": f"{t.get('object')}:{t.get('to')}" if t.get("type") == "transition" else "",
            "from_state": f"{t.get('object')}:{t['from']}" if t.get("from") else "",
            "date_field": t.get("field", ""),
            "days": t.get("days"),
            "eod_result": t.get("result", ""),
            "to_class": t.get("to_class", ""),
            "severity": t.get("severity", ""),
            "cron": t.get("cron", ""),
            "cron_object": t.get("object", "") if t.get("type") == "cron" else "",
            "condition_kind": c.get("kind") or "none",
            "expression": c.get("expression", ""),
            "table": json.dumps(c["table"], ensure_ascii=False, indent=1) if c.get("table") else "",
            "note": version.note,
        }
        for i, a in enumerate(version.actions or [], 1):
            if i > ACTION_SLOTS:
                break
            for name in cls.ACTION_FIELDS:
                if name in a:
                    value = a[name]
                    if name == "values":
                        value = json.dumps(value, ensure_ascii=False)
                    elif name == "on":
                        value = "1" if value else "0"
                    data[f"a{i}_{name}"] = value
        return data

    def to_json(
        self,
    ) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]], dict[str, str]]:
        """(trigger, condition, actions, parse errors) from cleaned data."""
        d = self.cleaned_data
        errors: dict[str, str] = {}
        trigger = self._trigger_json(errors)
        condition: dict[str, Any] = {"kind": d["condition_kind"]}
        if d["condition_kind"] == "expression":
            condition["expression"] = (d.get("expression") or "").strip()
        elif d["condition_kind"] == "table":
            try:
                condition["table"] = json.loads(d.get("table") or "{}")
            except ValueError:
                errors["table"] = _("决策表不是有效的 JSON。")
        actions = self._actions_json(errors)
        return trigger, condition, actions, errors

    def _trigger_json(self, errors: dict[str, str]) -> dict[str, Any]:
        d = self.cleaned_data
        kind = d["trigger_type"]
        trigger: dict[str, Any] = {"type": kind}
        if kind == "event":
            trigger.update(self._event_json(errors))
        elif kind == "transition":
            to = d.get("to_state") or ""
            obj, _sep, state = to.partition(":")
            trigger.update({"object": obj, "to": state})
            frm = d.get("from_state") or ""
            if frm:
                fobj, _sep, fstate = frm.partition(":")
                if fobj != obj:
                    errors["from_state"] = _("变更前后须是同一类对象的状态。")
                trigger["from"] = fstate
        elif kind == "date":
            trigger.update({"field": d.get("date_field") or "", "days": d.get("days") or 0})
        elif kind == "eod":
            trigger.update({"result": d.get("eod_result") or "", "days": d.get("days") or 0})
            if d.get("to_class"):
                trigger["to_class"] = d["to_class"]
        elif kind == "alert":
            if d.get("severity"):
                trigger["severity"] = d["severity"]
        elif kind == "cron":
            trigger["cron"] = (d.get("cron") or "").strip()
            if d.get("cron_object"):
                trigger["object"] = d["cron_object"]
        return trigger

    def _event_json(self, errors: dict[str, str]) -> dict[str, Any]:
        d = self.cleaned_data
        trigger: dict[str, Any] = {}
        trigger["event"] = d.get("event") or ""
        fields = [
            x.strip()
            for x in (d.get("changed_fields") or "").replace("，", ",").split(",")
            if x.strip()
        ]
        if fields:
            trigger["fields"] = fields
        equals = {}
        for part in (d.get("equals") or "").replace("，", ",").split(","):
            if not part.strip():
                continue
            if "=" not in part:
                errors["equals"] = _("请按“字段=值”填写。")
                continue
            k, v = part.split("=", 1)
            equals[k.strip()] = v.strip()
        if equals:
            trigger["equals"] = equals
        return trigger

    def _actions_json(self, errors: dict[str, str]) -> list[dict[str, Any]]:
        d = self.cleaned_data
        actions: list[dict[str, Any]] = []
        for i in range(1, ACTION_SLOTS + 1):
            p = f"a{i}_"
            atype = d.get(p + "type")
            if not atype:
                continue
            a: dict[str, Any] = {"type": atype}
            if atype == "assign_owner":
                a["user"] = d.get(p + "user") or ""
            elif atype == "todo":
                a.update(
                    {
                        "title": d.get(p + "title") or "",
                        "due_days": d.get(p + "due_days") or 0,
                        "assignee": d.get(p + "assignee") or "owner",
                    }
                )
            elif atype == "notify":
                a.update(
                    {
                        "template": d.get(p + "template") or "",
                        "channel": d.get(p + "channel") or "",
                        "recipient": d.get(p + "recipient") or "owner",
                    }
                )
            elif atype == "status":
                a["to"] = d.get(p + "to") or ""
            elif atype == "approval":
                a.update({"flow": d.get(p + "flow") or "", "title": d.get(p + "title") or ""})
            elif atype == "risk_flag":
                a.update({"flag": d.get(p + "flag") or "", "on": d.get(p + "on", "1") != "0"})
            elif atype == "record":
                a["record_type"] = d.get(p + "record_type") or ""
                try:
                    a["values"] = json.loads(d.get(p + "values") or "{}")
                except ValueError:
                    errors[p + "values"] = _("字段值不是有效的 JSON。")
            elif atype == "webhook":
                a["endpoint"] = d.get(p + "endpoint") or ""
            actions.append(a)
        return actions


class TestCaseForm(forms.Form):
    __test__ = False

    name = forms.CharField(label=gettext_lazy("用例名称"), max_length=120)
    input = forms.CharField(
        label=gettext_lazy("输入 JSON（record、customer、loan、event …）"),
        widget=forms.Textarea(attrs={"rows": 3}),
        initial='{"record": {}}',
    )
    expected_fire = forms.ChoiceField(
        label=gettext_lazy("期望"),
        choices=[("1", gettext_lazy("应触发")), ("0", gettext_lazy("不应触发"))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)

    def clean_input(self) -> dict[str, Any]:
        try:
            value = json.loads(self.cleaned_data["input"])
        except ValueError:
            raise forms.ValidationError(_("输入不是有效的 JSON。")) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("输入须为 JSON 对象。"))
        return value


class TryForm(forms.Form):
    days = forms.IntegerField(
        label=gettext_lazy("回放最近 N 天"), min_value=1, max_value=90, initial=7, required=False
    )
