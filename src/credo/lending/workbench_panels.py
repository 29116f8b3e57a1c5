"""The 工作台 panels of lending (registered when imported from ``LendingConfig.ready``).

客户经理: the customers whose loans are overdue and the loans maturing soon (续贷 candidates);
财务: loans waiting for disbursement, bank statement lines not matched yet, the last month's
period close; 风控: the concentration headroom (集中度余量) under the single-borrower and top-10
limits. Counts go through the user's data scope and the same filters as the linked lists.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.core import clock, figcache
from credo.core.money import fen_of
from credo.core.ui.workbench import CARDS, WorkbenchPanel, register_workbench_panel
from credo.lending import selectors
from credo.lending.models import Loan

RENEWAL_DAYS = 60  # loans maturing within two months: time to talk about a renewal (续贷)


def _overdue_q() -> Q:
    return Q(dpd__gt=0) | Q(status=Loan.Status.OVERDUE)  # as loan_list(overdue=1)


def _account_manager_counts(user: Any) -> dict[str, int]:
    agg = selectors.loans_for(user).aggregate(
        customers=Count("customer", distinct=True, filter=_overdue_q()),
        loans=Count("id", filter=_overdue_q()),
        maturing=Count("id", filter=selectors.maturing_q(RENEWAL_DAYS)),
    )
    return {k: int(v or 0) for k, v in agg.items()}


def account_manager_panel(user: Any) -> dict[str, Any]:
    # the counts read every loan of the user's scope (≈ 20 ms at 33,000 loans, on every home
    # page view): cached while the data version (loans, journal entries, closes) and the
    # date (the maturing window) are unchanged
    agg = figcache.cached(
        user, "am-loans", lambda: _account_manager_counts(user), clock.today().isoformat()
    )
    url = reverse("lending:loan_list")
    return {
        "items": [
            {
                "key": "customers-overdue",
                "label": _("逾期客户"),
                "value": int(agg["customers"] or 0),
                "url": f"{url}?overdue=1",
                "tone": "danger",
                "note": _("逾期贷款 %(n)d 笔") % {"n": int(agg["loans"] or 0)},
            },
            {
                "key": "renewals",
                "label": _("即将到期"),
                "value": int(agg["maturing"] or 0),
                "url": f"{url}?maturing={RENEWAL_DAYS}",
                "tone": "warning",
                "note": _("%(d)d 天内到期，可沟通续贷") % {"d": RENEWAL_DAYS},
            },
        ]
    }


def _last_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def finance_panel(user: Any) -> dict[str, Any]:
    from credo.lending.books.models import AccountingPeriod
    from credo.lending.models import StatementLine

    items: list[dict[str, Any]] = []
    if user.has_perm("lending.view_loan"):
        pending = selectors.loans_for(user).filter(status=Loan.Status.PENDING).count()
        items.append(
            {
                "key": "disbursements",
                "label": _("待放款"),
                "value": pending,
                "url": reverse("lending:loan_list") + f"?status={Loan.Status.PENDING}",
                "tone": "warning",
                "note": _("合同已签，待核对放款"),
            }
        )
    if user.has_perm("lending.post_repayment"):
        lines = StatementLine.objects.filter(status=StatementLine.Status.UNMATCHED).aggregate(
            n=Count("id"), total=Sum("amount")
        )
        items.append(
            {
                "key": "statement-unmatched",
                "label": _("未匹配流水"),
                "value": int(lines["n"] or 0),
                "url": reverse("lending_statements:list") + "?unmatched=1",
                "tone": "danger",
                "note": _("合计 %(m)s 元") % {"m": _yuan(fen_of(lines["total"]))},
            }
        )
    if any(
        user.has_perm(p)
        for p in ("lending.view_books", "lending.close_period", "lending.approve_reopen")
    ):
        month = _last_month(clock.today())
        period = AccountingPeriod.objects.filter(month=month).first()
        status = period.status if period else AccountingPeriod.Status.OPEN
        items.append(
            {
                "key": "period-close",
                "label": _("%(m)s 结账") % {"m": month.strftime("%Y-%m")},
                "value": str(AccountingPeriod.Status(status).label),
                "fmt": "text",
                "url": reverse("lending:books:periods"),
                "tone": "" if status == AccountingPeriod.Status.CLOSED else "warning",
                "note": _("已于 %(d)s 结账") % {"d": period.closed_at.date().isoformat()}
                if period and period.closed_at and status == AccountingPeriod.Status.CLOSED
                else _("上月账期尚未结账"),
            }
        )
    return {"items": items, "empty": _("您没有财务相关的查看权限。")}


def _yuan(fen: int) -> str:
    from credo.core.templatetags.money import yuan

    return yuan(fen)


def concentration_panel(user: Any) -> dict[str, Any]:
    """Book-wide (concentration is measured on the whole book): the largest borrower's and the
    top 10's headroom under their limits, from the cached ranking the checks use."""
    from credo.lending.exposure import selectors as exposure
    from credo.lending.exposure.services import headroom, pct_text, share_of

    net, limits = exposure.checked_config(clock.today())
    ranking = exposure.top_exposures()
    url = reverse("lending:exposure:report")
    if net is None:
        return {
            "items": [
                {
                    "key": "net-assets-missing",
                    "label": _("净资产"),
                    "value": _("未录入"),
                    "fmt": "text",
                    "url": reverse("lending:exposure:net_assets"),
                    "tone": "danger",
                    "note": _("集中度检查未执行，请先录入净资产"),
                }
            ]
        }
    net_fen = net.amount.fen
    largest = ranking[0][1] if ranking else 0
    top10 = sum(v for _c, v in ranking[:10])
    single_room = headroom(largest, limits.single_pct, net_fen)
    top10_room = headroom(top10, limits.top10_pct, net_fen)
    return {
        "items": [
            {
                "key": "headroom-single",
                "label": _("单一借款人余量"),
                "value": single_room,
                "fmt": "money",
                "url": url,
                "tone": "danger" if single_room < 0 else "",
                "note": _("最大借款人占净资产 %(s)s%%，上限 %(l)s%%")
                % {"s": pct_text(share_of(largest, net_fen)), "l": pct_text(limits.single_pct)},
            },
            {
                "key": "headroom-top10",
                "label": _("前十大余量"),
                "value": top10_room,
                "fmt": "money",
                "url": url,
                "tone": "danger" if top10_room < 0 else "",
                "note": _("前十大占净资产 %(s)s%%，上限 %(l)s%%")
                % {"s": pct_text(share_of(top10, net_fen)), "l": pct_text(limits.top10_pct)},
            },
        ]
    }


register_workbench_panel(
    WorkbenchPanel(
        "am-loans",
        gettext_lazy("我的贷款"),
        CARDS,
        account_manager_panel,
        permission="lending.view_loan",
        section="account_manager",
        order=40,
    )
)
register_workbench_panel(
    WorkbenchPanel(
        "fin-ops", gettext_lazy("放款与对账"), CARDS, finance_panel, section="finance", order=10
    )
)
register_workbench_panel(
    WorkbenchPanel(
        "risk-concentration",
        gettext_lazy("集中度余量"),
        CARDS,
        concentration_panel,
        permission="lending.view_exposure",
        section="risk",
        order=20,
    )
)
