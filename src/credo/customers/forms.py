from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.accounts.fieldperms import can_edit_field, masked_value
from credo.core.customfields import engine as cf
from credo.core.forms import IsoDateInput, StyledFormMixin, style_form
from credo.core.regions import children_of
from credo.customers.industries import INDUSTRY_SECTIONS
from credo.customers.models import Customer, DataKind, Relation
from credo.customers.profile import SENSITIVE_FIELDS, clean_profile

ENTERPRISE_FIELDS = [
    "name",
    "uscc",
    "registered_capital",
    "industry",
    "legal_representative",
    "founded_on",
    "region_code",
    "address",
    "phone",
    "bank_account",
]
INDIVIDUAL_FIELDS = [
    "name",
    "id_number",
    "phone",
    "employer",
    "industry",
    "region_code",
    "address",
    "bank_account",
]


def region_choices() -> list[tuple[str, Any]]:
    """Shanxi counties grouped by city (the lender's home province)."""
    groups: list[tuple[str, Any]] = [("", "—")]
    for city in children_of("140000"):
        groups.append((city.name, [(c.code, c.name) for c in children_of(city.code)]))
    return groups


class CustomerForm(forms.Form):
    name = forms.CharField(label=_("名称/姓名"), max_length=120)
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=18, required=False)
    registered_capital = forms.CharField(
        label=_("注册资本（元）"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    industry = forms.ChoiceField(
        label=_("行业"), required=False, choices=[("", "—"), *INDUSTRY_SECTIONS]
    )
    legal_representative = forms.CharField(label=_("法定代表人"), max_length=60, required=False)
    founded_on = forms.DateField(label=_("成立日期"), required=False, widget=IsoDateInput())
    id_number = forms.CharField(label=_("身份证号"), max_length=18, required=False)
    phone = forms.CharField(label=_("手机号/电话"), max_length=20, required=False)
    bank_account = forms.CharField(label=_("银行账号"), max_length=40, required=False)
    employer = forms.CharField(label=_("工作单位"), max_length=120, required=False)
    region_code = forms.ChoiceField(label=_("所在地区"), required=False, choices=[])
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self, *args: Any, kind: str, user: Any, instance: Customer | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.kind, self.user, self.instance = kind, user, instance
        keep = ENTERPRISE_FIELDS if kind == Customer.Kind.ENTERPRISE else INDIVIDUAL_FIELDS
        for name in list(self.fields):
            if name not in keep and name != "version":
                del self.fields[name]
        region = self.fields["region_code"]
        assert isinstance(region, forms.ChoiceField)
        region.choices = region_choices()
        if kind == Customer.Kind.ENTERPRISE:
            self.fields["uscc"].required = True
        else:
            self.fields["id_number"].required = True
            self.fields["phone"].required = True
            self.fields["name"].label = _("姓名")
        for name in SENSITIVE_FIELDS & set(self.fields):
            key = f"customers.customer.{name}"
            if instance is not None:
                # Never put the clear value in the page: leave empty = unchanged.
                current = getattr(instance, name) or ""
                self.fields[name].required = False
                self.fields[name].widget.attrs["placeholder"] = (
                    f"{masked_value(instance, name)}（{_('不修改请留空')}）" if current else ""
                )
                if not can_edit_field(user, key):
                    self.fields[name].disabled = True
                    self.fields[name].help_text = _("无权修改此字段")
        if instance is not None:
            for name in self.fields:
                if name in SENSITIVE_FIELDS or name == "version":
                    continue
                value = getattr(instance, name)
                if name == "registered_capital" and value is not None:
                    value = value.yuan
                self.initial.setdefault(name, value)
            self.initial["version"] = instance.version
            if "uscc" in self.fields:
                self.fields["uscc"].disabled = True  # the legal identifier does not change
        cf.add_form_fields(self, "customer", user, instance.custom if instance else {})
        style_form(self)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        raw = {
            k: v
            for k, v in data.items()
            if k in self.fields and not k.startswith(cf.PREFIX) and k != "version"
        }
        if self.instance is not None:
            raw = {
                k: v
                for k, v in raw.items()
                if not (k in SENSITIVE_FIELDS and (v in (None, "") or self.fields[k].disabled))
            }
            raw.pop("uscc", None)
            values, errors = clean_profile(raw, kind=self.kind)
        else:
            values, errors = clean_profile({**raw, "kind": self.kind})
        for field, message in errors.items():
            if field in self.fields:
                self.add_error(field, message)
            else:
                self.add_error(None, message)
        self.profile_data = raw
        return data

    @property
    def custom_bound_fields(self) -> list[Any]:
        return [self[n] for n in self.fields if n.startswith(cf.PREFIX)]

    @property
    def profile_bound_fields(self) -> list[Any]:
        return [self[n] for n in self.fields if not n.startswith(cf.PREFIX) and n != "version"]


class RelationForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("关系类型"), choices=Relation.Kind.choices)
    direction = forms.ChoiceField(
        label=_("方向"),
        choices=[("in", _("对方是本客户的…")), ("out", _("本客户是对方的…"))],
        initial="in",
    )
    other = forms.CharField(
        label=_("关联客户"), help_text=_("输入客户名称、统一社会信用代码或身份证号"), max_length=120
    )
    share_pct = forms.DecimalField(
        label=_("持股比例（%）"), required=False, max_digits=6, decimal_places=3
    )
    note = forms.CharField(label=_("备注"), required=False, max_length=200)


class ContactForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=60)
    title = forms.CharField(label=_("职务/关系"), max_length=60, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    is_primary = forms.BooleanField(label=_("主要联系人"), required=False)


class AuthorizationForm(StyledFormMixin, forms.Form):
    scope = forms.ChoiceField(
        label=_("授权范围"), choices=DataKind.choices, initial=DataKind.BUREAU
    )
    granted_by = forms.CharField(label=_("授权人"), max_length=60)
    valid_from = forms.DateField(label=_("生效日期"), widget=IsoDateInput())
    valid_until = forms.DateField(label=_("失效日期"), widget=IsoDateInput())
    document = forms.FileField(label=_("授权书扫描件（PDF/图片）"), required=False)

    def clean_document(self) -> Any:
        doc = self.cleaned_data.get("document")
        if doc is None:
            return None
        name = doc.name.lower()
        if not name.endswith((".pdf", ".jpg", ".jpeg", ".png")):
            raise forms.ValidationError(_("授权书只能上传 PDF 或 JPG/PNG 图片。"))
        if doc.size > 10 * 1024 * 1024:
            raise forms.ValidationError(_("文件不能超过 10 MB。"))
        head = doc.read(8)
        doc.seek(0)
        if not (
            head.startswith(b"%PDF") or head.startswith(b"\xff\xd8") or head.startswith(b"\x89PNG")
        ):
            raise forms.ValidationError(_("文件内容与类型不符。"))
        return doc
