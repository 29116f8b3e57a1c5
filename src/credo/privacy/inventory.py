"""The personal-information inventory (个人信息清单, 个人信息保护法 第五十一条、第五十四条):
generated from the models and the sensitive-field registry (``core.sensitive``: every
encrypted field registers itself), completed by the declarations below for the plain fields
that are personal, and by the lender's custom fields on customers and leads.

``credo privacy_inventory`` prints it as Markdown (docs/privacy.md carries a copy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

from credo.core.fields import BlindIndexField, EncryptedTextField
from credo.core.sensitive import sensitive_fields

PERSONAL = "personal"
SENSITIVE = "sensitive"
CATEGORY_LABELS = {PERSONAL: _("个人信息"), SENSITIVE: _("敏感个人信息")}

# Retention classes (docs/privacy.md explains each).
CONTRACT = "contract"  # while a loan is open, then CREDO_PRIVACY_RETENTION_YEARS after settlement
LEAD = "lead"  # unconverted leads: retention policy unconverted_leads
APPLICATION_DOC = "application_doc"  # rejected applicants: policy rejected_documents
BUREAU = "bureau"  # bureau payloads: policy bureau_reports
MESSAGE = "message"  # the outbox: with the customer
RETENTION_LABELS = {
    CONTRACT: _("合同存续期 + 结清后保存期"),
    LEAD: _("未转化线索：最后更新后两年"),
    APPLICATION_DOC: _("未获批：决定后一年"),
    BUREAU: _("征信原文：查询后两年"),
    MESSAGE: _("随客户"),
}

#: Models whose encrypted fields are system credentials, not personal information.
CREDENTIAL_MODELS = {"notify.channel", "customers.externalprovider"}


@dataclass(frozen=True)
class Declared:
    category: str
    purpose: Any
    retention: str


#: "app_label.model.field" → what it is. Encrypted fields not listed here are classed by their
#: mask kind (ID numbers and bank accounts: sensitive; the rest: personal).
DECLARED: dict[str, Declared] = {
    "customers.customer.name": Declared(PERSONAL, _("识别借款人、签订合同"), CONTRACT),
    "customers.customer.id_number": Declared(SENSITIVE, _("实名认证、征信查询与报送"), CONTRACT),
    "customers.customer.phone": Declared(PERSONAL, _("联系借款人、通知与催收"), CONTRACT),
    "customers.customer.bank_account": Declared(SENSITIVE, _("放款与还款（金融账户）"), CONTRACT),
    "customers.customer.legal_representative": Declared(
        PERSONAL, _("企业客户的法定代表人身份"), CONTRACT
    ),
    "customers.customer.employer": Declared(PERSONAL, _("还款能力评估"), CONTRACT),
    "customers.customer.address": Declared(PERSONAL, _("联系与贷后管理"), CONTRACT),
    "customers.customer.region_code": Declared(PERSONAL, _("地区统计与监管报表"), CONTRACT),
    "customers.customer.custom": Declared(PERSONAL, _("机构自定义字段"), CONTRACT),
    "customers.contact.name": Declared(PERSONAL, _("联系人（第三方）"), CONTRACT),
    "customers.contact.phone": Declared(PERSONAL, _("联系人电话（第三方）"), CONTRACT),
    "customers.authorization.granted_by": Declared(PERSONAL, _("查询授权的授权人"), CONTRACT),
    "customers.authorization.document": Declared(PERSONAL, _("授权书原件"), CONTRACT),
    "customers.externalpull.raw_payload": Declared(SENSITIVE, _("征信/司法原始报文"), BUREAU),
    "customers.externalpull.parsed": Declared(SENSITIVE, _("征信/司法解析结果"), BUREAU),
    "leads.lead.name": Declared(PERSONAL, _("营销线索"), LEAD),
    "leads.lead.contact_name": Declared(PERSONAL, _("营销线索联系人"), LEAD),
    "leads.lead.phone": Declared(PERSONAL, _("营销联系"), LEAD),
    "leads.lead.note": Declared(PERSONAL, _("跟进记录"), LEAD),
    "leads.followup.notes": Declared(PERSONAL, _("跟进记录"), LEAD),
    "collections.contactattempt.party_name": Declared(PERSONAL, _("催收联系记录"), CONTRACT),
    "collections.contactattempt.notes": Declared(PERSONAL, _("催收联系记录"), CONTRACT),
    "origination.document.original_name": Declared(
        SENSITIVE, _("申请资料（身份证件、流水、财务报表等）"), APPLICATION_DOC
    ),
    "lending.statementline.payer_name": Declared(PERSONAL, _("银行流水对账"), CONTRACT),
    "lending.statementline.payer_account": Declared(SENSITIVE, _("银行流水对账"), CONTRACT),
    "notify.message.address": Declared(PERSONAL, _("消息投递"), MESSAGE),
    "notify.message.body": Declared(PERSONAL, _("消息正文（含姓名、金额）"), MESSAGE),
    "notify.notifypreference.mobile": Declared(PERSONAL, _("接收偏好"), MESSAGE),
    "notify.notifypreference.email": Declared(PERSONAL, _("接收偏好"), MESSAGE),
}


@dataclass(frozen=True)
class InventoryRow:
    key: str
    model: Any
    field: Any
    table: str
    column: str
    category: str
    encrypted: bool
    blind_index: bool
    purpose: Any
    retention: str

    @property
    def category_label(self) -> Any:
        return CATEGORY_LABELS[self.category]

    @property
    def retention_label(self) -> Any:
        return RETENTION_LABELS.get(self.retention, self.retention)


def _field(key: str) -> Any:
    app_label, model_name, field_name = key.split(".")
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        return None, None
    try:
        return model, model._meta.get_field(field_name)
    except FieldDoesNotExist:
        return model, None


def inventory() -> list[InventoryRow]:
    """Every personal field: the declarations plus every registered sensitive field."""
    keys = dict(DECLARED)
    for sf in sensitive_fields():
        if sf.key.rsplit(".", 1)[0] in CREDENTIAL_MODELS or sf.key in keys:
            continue
        category = SENSITIVE if sf.mask_kind in ("id_number", "bank_account") else PERSONAL
        keys[sf.key] = Declared(category, _("（未声明用途，请补充）"), CONTRACT)
    rows: list[InventoryRow] = []
    for key, decl in keys.items():
        model, field = _field(key)
        if model is None or field is None:
            continue
        bidx = any(
            isinstance(f, BlindIndexField) and f.source == field.name
            for f in model._meta.concrete_fields
        )
        rows.append(
            InventoryRow(
                key=key,
                model=model._meta.verbose_name,
                field=field.verbose_name,
                table=model._meta.db_table,
                column=field.column,
                category=decl.category,
                encrypted=isinstance(field, EncryptedTextField),
                blind_index=bidx,
                purpose=decl.purpose,
                retention=decl.retention,
            )
        )
    rows.extend(_custom_fields())
    return sorted(rows, key=lambda r: r.key)


def _custom_fields() -> list[InventoryRow]:
    """The lender's custom fields on customers and leads (stored in the ``custom`` JSON)."""
    from credo.core.customfields.models import CustomField

    out = []
    tables = {"customer": ("customers_customer", CONTRACT), "lead": ("leads_lead", LEAD)}
    for cf in CustomField.objects.filter(entity__in=tables, is_active=True).order_by("id"):
        table, retention = tables[cf.entity]
        out.append(
            InventoryRow(
                key=f"custom.{cf.entity}.{cf.key}",
                model=cf.get_entity_display(),
                field=cf.label,
                table=table,
                column=f"custom→{cf.key}",
                category=PERSONAL,
                encrypted=False,
                blind_index=False,
                purpose=_("机构自定义字段"),
                retention=retention,
            )
        )
    return out


def markdown(rows: list[InventoryRow]) -> str:
    head = "| 字段 | 对象 | 存储位置 | 类别 | 加密 | 用途 | 保存期限 |\n|---|---|---|---|---|---|---|\n"
    body = "".join(
        f"| {r.field} (`{r.key}`) | {r.model} | `{r.table}.{r.column}` | {r.category_label} | "
        f"{'AES-GCM' + (' + 盲索引' if r.blind_index else '') if r.encrypted else '否'} | "
        f"{r.purpose} | {r.retention_label} |\n"
        for r in rows
    )
    return head + body
