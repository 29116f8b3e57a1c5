"""Rendering contract templates safely and turning the HTML into a PDF.

Templates are edited by staff in the browser, so they run in a sandboxed Django template
engine: no loaders (``include``/``extends`` find nothing), no tag libraries (``load`` fails),
autoescape on, ``{% debug %}`` refused (it dumps the whole context when DEBUG is on), and a
context of plain values only. The schedule table is built here and marked
safe, so the template author cannot inject markup through data.
"""

from __future__ import annotations

import hashlib
import uuid
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template import Context, Engine, Library, TemplateSyntaxError, defaulttags
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from credo.contracts.chinese_amount import amount_upper
from credo.contracts.errors import TemplateInvalid
from credo.core import clock
from credo.core.money import format_fen

_ENGINE = Engine(
    dirs=[],
    app_dirs=False,
    loaders=[("django.template.loaders.locmem.Loader", {})],
    libraries={},
    autoescape=True,
    debug=False,
)


class ForbiddenTag(TemplateSyntaxError):
    """A built-in tag the restricted engine refuses (raised while compiling)."""


# Built-in tags that leak data: ``debug`` prints the context (and loaded modules) in DEBUG.
FORBIDDEN_TAGS = ("debug",)


def _refuse(name: str) -> Any:
    def compile_func(parser: Any, token: Any) -> Any:
        raise ForbiddenTag(
            _("合同模板不允许使用 %(tag)s 标签（它会输出全部上下文数据）。") % {"tag": name}
        )

    return compile_func


def _restricted_builtins(builtins: list[Library]) -> list[Library]:
    # A copy of the default tag library without the forbidden tags; the shared library object
    # (used by every other template in the project) is left untouched.
    out = []
    for lib in builtins:
        if lib is defaulttags.register:
            safe = Library()
            safe.tags.update(lib.tags)
            safe.filters.update(lib.filters)
            for name in FORBIDDEN_TAGS:
                safe.tags[name] = _refuse(name)
            lib = safe
        out.append(lib)
    return out


_ENGINE.template_builtins = _restricted_builtins(_ENGINE.template_builtins)

PLACEHOLDERS: list[tuple[str, str]] = [
    ("contract_number", "合同编号"),
    ("sign_date", "签订日期"),
    ("lender", "出借人"),
    ("lender_uscc", "出借人统一社会信用代码"),
    ("lender_address", "出借人住所"),
    ("borrower", "借款人"),
    ("borrower_identifier", "借款人证件号码（个人已脱敏）"),
    ("borrower_address", "借款人地址"),
    ("amount", "借款金额（小写，元）"),
    ("amount_upper", "借款金额（大写）"),
    ("annual_rate", "年利率（%）"),
    ("apr", "年化利率（%，IRR 法，含全部费用，单利折算）"),
    ("months", "期限（月）"),
    ("method_label", "还款方式"),
    ("product", "贷款产品"),
    ("purpose", "借款用途"),
    ("start_date", "预计起息日"),
    ("schedule_table", "还款计划表（自动生成）"),
]


def yuan(fen: int) -> str:
    """12345678 → '123,456.78'."""
    return format_fen(int(fen))


def compile_body(body: str) -> Any:
    try:
        return _ENGINE.from_string(body)
    except ForbiddenTag as exc:
        raise TemplateInvalid(str(exc)) from None
    except TemplateSyntaxError as exc:
        raise TemplateInvalid(_("模板语法错误：%(e)s") % {"e": exc}) from None


def schedule_table(schedule: list[dict[str, Any]]) -> SafeString:
    if not schedule:
        return mark_safe("")  # noqa: S308 — constant
    head = format_html(
        "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        _("期数"),
        _("还款日"),
        _("应还金额（元）"),
        _("其中本金（元）"),
        _("其中利息（元）"),
    )
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td class='num'>{}</td><td class='num'>{}</td>"
        "<td class='num'>{}</td></tr>",
        (
            (
                row.get("period", ""),
                row.get("due_date") or "—",
                yuan(int(row.get("payment", 0))),
                yuan(int(row.get("principal", 0))),
                yuan(int(row.get("interest", 0))),
            )
            for row in schedule
        ),
    )
    total = sum(int(r.get("payment", 0)) for r in schedule)
    foot = format_html(
        "<tr class='total'><td colspan='2'>{}</td><td class='num'>{}</td><td></td><td></td></tr>",
        _("合计"),
        yuan(total),
    )
    return format_html('<table class="schedule">{}{}{}</table>', head, rows, foot)


def contract_apr(terms: dict[str, Any]) -> str:
    """年化利率 for the contract (中国人民银行公告〔2021〕第3号), two decimals: the figure the
    terms carry (``apr_percent``, computed by origination with the product's fees), else the
    IRR of the contract's own table — the amount less ``upfront_fee_fen`` received, each row's
    payment plus ``installment_fee_fen``."""
    given = terms.get("apr_percent")
    if given not in (None, ""):
        try:
            return f"{Decimal(str(given)):.2f}"
        except InvalidOperation:
            pass
    from credo.lending.pricing.apr import AprError, apr_from_payments, periods_per_year_of

    rows = list(terms.get("schedule") or [])
    try:
        months = int(terms.get("months") or 0)
        fee = int(terms.get("installment_fee_fen") or 0)
        received = int(terms["amount_fen"]) - int(terms.get("upfront_fee_fen") or 0)
        per_year = periods_per_year_of(str(terms.get("method") or ""), months or 12)
        payments = [int(r.get("payment", 0)) + fee for r in rows]
        return apr_from_payments(received, payments, per_year).percent_str
    except (AprError, KeyError, TypeError, ValueError, ArithmeticError):
        return ""


def context_for(*, number: str, terms: dict[str, Any], customer: Any) -> dict[str, Any]:
    from credo.core.masking import mask

    if customer.kind == "enterprise":
        identifier = customer.uscc
    else:
        identifier = mask("id_number", customer.id_number)
    try:
        rate = Decimal(str(terms.get("annual_rate", "0"))).normalize()
    except InvalidOperation:
        rate = Decimal(0)
    return {
        "contract_number": number,
        "sign_date": clock.today().strftime("%Y年%m月%d日"),
        "lender": terms.get("lender", ""),
        "lender_uscc": terms.get("lender_uscc", ""),
        "lender_address": terms.get("lender_address", ""),
        "borrower": terms.get("borrower", ""),
        "borrower_identifier": identifier,
        "borrower_address": customer.address,
        "amount": yuan(int(terms["amount_fen"])),
        "amount_upper": amount_upper(int(terms["amount_fen"])),
        "annual_rate": f"{rate:f}",
        "apr": contract_apr(terms),
        "months": terms.get("months", ""),
        "method": terms.get("method", ""),
        "method_label": terms.get("method_label", ""),
        "product": terms.get("product", ""),
        "purpose": terms.get("purpose", ""),
        "start_date": terms.get("start_date") or "",
        "schedule_table": schedule_table(list(terms.get("schedule") or [])),
    }


def render_body(body: str, context: dict[str, Any]) -> str:
    template = compile_body(body)
    try:
        return str(template.render(Context(context, autoescape=True)))
    except Exception as exc:  # noqa: BLE001 — any render error is the template's fault
        raise TemplateInvalid(_("模板渲染失败：%(e)s") % {"e": exc}) from None


SAMPLE_TERMS: dict[str, Any] = {
    "borrower": "示例借款人有限公司",
    "lender": "示例小额贷款有限公司",
    "lender_uscc": "91140100MA0L00000N",
    "lender_address": "山西省太原市小店区示例路1号",
    "amount_fen": 12000000,
    "annual_rate": "12.0000",
    "months": 3,
    "method": "equal_installment",
    "method_label": "等额本息",
    "product": "经营贷",
    "purpose": "经营周转",
    "start_date": None,
    "schedule": [
        {
            "period": 1,
            "due_date": "2026-02-01",
            "payment": 4080266,
            "principal": 3960266,
            "interest": 120000,
        },
        {
            "period": 2,
            "due_date": "2026-03-01",
            "payment": 4080266,
            "principal": 3999869,
            "interest": 80397,
        },
        {
            "period": 3,
            "due_date": "2026-04-01",
            "payment": 4080264,
            "principal": 4039865,
            "interest": 40399,
        },
    ],
}


# --- PDF -----------------------------------------------------------------------------------
PDF_CSS = """
@page { size: A4; margin: 20mm 18mm; @bottom-center { content: counter(page) " / " counter(pages);
  font-size: 9pt; } }
body { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", serif; font-size: 10.5pt;
  line-height: 1.7; }
h1.title { text-align: center; font-size: 20pt; letter-spacing: 6pt; margin-bottom: 4pt; }
h2 { font-size: 11pt; margin: 10pt 0 2pt; font-family: "Noto Sans CJK SC", sans-serif; }
p.meta { text-align: right; font-size: 9pt; color: #444; }
table { border-collapse: collapse; width: 100%; margin: 6pt 0; }
table.parties th { text-align: left; width: 28%; font-weight: normal; color: #333; }
table.schedule th, table.schedule td { border: 0.5pt solid #666; padding: 2pt 4pt;
  font-size: 9pt; }
table.schedule td.num { text-align: right; }
table.signatures td { width: 50%; vertical-align: top; padding-top: 24pt; }
"""


def html_document(body_html: str, *, title: str) -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{PDF_CSS}</style></head><body>{body_html}</body></html>"
    )


def pdf_bytes(document_html: str) -> bytes:
    from weasyprint import HTML

    # base_url=None and no url_fetcher for external resources: the HTML is self-contained.
    return HTML(string=document_html, base_url=None, url_fetcher=_no_fetch).write_pdf()  # type: ignore[no-any-return]


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"external resource refused: {url}")


def document_root() -> Path:
    configured = getattr(settings, "CREDO_DOCUMENT_ROOT", None)
    return Path(configured) if configured else Path(settings.DATA_DIR) / "documents"


def store_pdf(data: bytes) -> tuple[str, str]:
    """Write the PDF under the private document root → (relative path, sha256)."""
    now = timezone.now()
    rel = f"contracts/{now:%Y/%m}/{uuid.uuid4().hex}.pdf"
    path = document_root() / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return rel, hashlib.sha256(data).hexdigest()


def read_pdf(rel: str) -> bytes:
    root = document_root().resolve()
    path = (root / rel).resolve()
    if root not in path.parents:
        raise FileNotFoundError(rel)
    return path.read_bytes()
