"""The access copy (查阅复制, 个人信息保护法 第四十五条): one zip with the machine-readable
JSON and a readable PDF (WeasyPrint, Noto CJK) of the same data."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from django.template.loader import render_to_string

from credo.privacy.models import DataSubjectRequest

#: Section key → title in the PDF (the JSON keeps the keys).
SECTIONS: list[tuple[str, str]] = [
    ("customer", "客户资料"),
    ("contacts", "联系人"),
    ("relations", "关联关系"),
    ("leads", "线索"),
    ("applications", "贷款申请"),
    ("documents", "申请资料（文件清单）"),
    ("loans", "贷款与还款计划"),
    ("authorizations", "查询授权"),
    ("external_data", "外部数据查询"),
    ("notifications", "通知记录"),
    ("consents", "营销联系同意"),
    ("timeline", "客户事件"),
]


def _table(value: Any) -> dict[str, Any]:
    """A section as rows for the template: a dict → key/value rows; a list of dicts → a
    table with the union of keys (nested lists shown as JSON)."""
    if isinstance(value, dict):
        return {"pairs": [(k, _cell(v)) for k, v in value.items()]}
    rows = [r for r in (value or []) if isinstance(r, dict)]
    cols: list[str] = []
    for r in rows:
        for k in r:
            if k not in cols and not isinstance(r[k], list):
                cols.append(k)
    nested = [
        (i, k, v) for i, r in enumerate(rows, 1) for k, v in r.items() if isinstance(v, list) and v
    ]
    return {
        "cols": cols,
        "rows": [[_cell(r.get(c)) for c in cols] for r in rows],
        "nested": [(i, k, _table(v)) for i, k, v in nested],
    }


def _cell(v: Any) -> str:
    if v is None or v == "":
        return "—"
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bool):
        return "是" if v else "否"
    return str(v)


def render_pdf(req: DataSubjectRequest, data: dict[str, Any]) -> bytes:
    from weasyprint import HTML

    sections = [(title, _table(data[key])) for key, title in SECTIONS if key in data and data[key]]
    html = render_to_string(
        "privacy/export_pdf.html",
        {"req": req, "sections": sections, "generated_at": data.get("generated_at")},
    )
    return HTML(string=html, base_url=None).write_pdf()  # type: ignore[no-any-return]


def build_zip(req: DataSubjectRequest, data: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "personal_data.json", json.dumps(data, ensure_ascii=False, indent=2, default=str)
        )
        zf.writestr("personal_data.pdf", render_pdf(req, data))
        zf.writestr(
            "README.txt",
            "本压缩包是个人信息副本（个人信息保护法第四十五条）。\n"
            "personal_data.json：机器可读的全部数据；personal_data.pdf：便于阅读的同一份数据。\n"
            f"请求编号：{req.pk}，生成时间：{data.get('generated_at', '')}\n",
        )
    return buf.getvalue()
