"""What the approver needs besides the application itself, read for the approval task page
(issue 21 #2 — decide without leaving the task): the related-party exposure (集中度, the
applicant's group and its headroom after this application), the customer's prior loans with
their repayment record, and which documents can be previewed inline.

Reads only. The page view is audited once (``approval.subject_view``) with what was shown;
each document preview goes through the document download view, which checks the permission and
audits every read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Max, Q

from credo.core import clock
from credo.core.audit.services import audit_record

PRIOR_LOANS = 20  # the most recent; older ones are on the customer's 360 page


# --- related-party exposure -------------------------------------------------------------------------
@dataclass
class Member:
    customer_id: int
    name: str
    relation: str  # how it relates to the applicant directly ("" when only through others)
    exposure: int  # fen: max(limit, open loans + approved not booked)
    is_applicant: bool = False


@dataclass
class Exposure:
    skipped: bool = False  # no net assets entered: no check runs anywhere
    net_assets: int | None = None
    amount: int = 0  # this application's amount (fen)
    members: list[Member] = field(default_factory=list)
    own_before: int = 0
    own_after: int = 0
    group_before: int = 0
    group_after: int = 0
    single_pct: Any = None
    group_pct: Any = None
    single_share: Any = None
    group_share: Any = None
    single_headroom: int | None = None
    group_headroom: int | None = None

    @property
    def is_group(self) -> bool:
        return len(self.members) > 1

    @property
    def single_over(self) -> bool:
        return self.single_headroom is not None and self.single_headroom < 0

    @property
    def group_over(self) -> bool:
        return self.is_group and self.group_headroom is not None and self.group_headroom < 0


def related_exposure(app: Any) -> Exposure:
    """The applicant's related-party group (the same closure the concentration check uses),
    each member's exposure, and the single and group figures before and after this
    application, with their headroom under the limits in force. Three queries (group and
    exposure in one, names, direct relations) plus one per commitment source."""
    from credo.customers.models import Relation
    from credo.lending.exposure import selectors as exposure
    from credo.lending.exposure.services import headroom, share_of

    cid = app.customer_id
    net, limits = exposure.checked_config(clock.today())
    group, parts = exposure.group_exposure(cid, shareholder_min_pct=limits.shareholder_min_pct)
    group = frozenset(group) | {cid}
    names = exposure.names_of(group)
    kinds = {k: str(v) for k, v in Relation.Kind.choices}
    direct: dict[int, list[str]] = {}
    rows = Relation.objects.filter(Q(from_customer_id=cid) | Q(to_customer_id=cid)).values_list(
        "from_customer_id", "to_customer_id", "kind"
    )
    for src, dst, kind in rows:
        other, label = (dst, kinds.get(kind, kind)) if src == cid else (src, kinds.get(kind, kind))
        # "A is the 股东 of B": seen from the applicant, the other side's role
        text = (_of(label) if src == cid else label) if other in group else ""
        if text:
            direct.setdefault(other, []).append(text)
    none = exposure.Parts()
    amount = int(app.amount.fen) if app.amount is not None else 0
    own = parts.get(cid, none)
    result = Exposure(amount=amount, single_pct=limits.single_pct, group_pct=limits.group_pct)
    result.own_before = own.total()
    # an application in approval is not a commitment yet: it adds its amount on approval
    result.own_after = own.total(extra=amount)
    others = sum(p.total() for c, p in parts.items() if c != cid)
    result.group_before = result.own_before + others
    result.group_after = result.own_after + others
    members = [
        Member(
            customer_id=c,
            name=names.get(c, str(c)),
            relation="、".join(direct.get(c, [])),
            exposure=parts.get(c, none).total(),
            is_applicant=c == cid,
        )
        for c in group
    ]
    members.sort(key=lambda m: (not m.is_applicant, -m.exposure, m.name))
    result.members = members
    if net is None:
        result.skipped = True
        return result
    net_fen = net.amount.fen
    result.net_assets = net_fen
    result.single_share = share_of(result.own_after, net_fen)
    result.group_share = share_of(result.group_after, net_fen)
    result.single_headroom = headroom(result.own_after, limits.single_pct, net_fen)
    result.group_headroom = headroom(result.group_after, limits.group_pct, net_fen)
    return result


def _of(label: str) -> str:
    # the applicant is the 股东/担保人 … of the other customer
    from django.utils.translation import gettext as _

    return _("申请人为其%(k)s") % {"k": label}


# --- prior loans and repayment record ---------------------------------------------------------------
def prior_loans(app: Any, user: Any) -> list[Any]:
    """The customer's loans (newest first) with their repayment record, in one query:
    installments fallen due, paid on time, paid late, still overdue, and the longest delay
    seen on a paid one. ``in_scope`` says whether the user may open the loan page."""
    from credo.lending.models import Installment, Loan
    from credo.lending.selectors import loans_for

    today = clock.today()
    fallen = Q(installments__due_date__lte=today)
    late = Q(installments__paid_on__gt=F("installments__due_date"))
    on_time = Q(installments__paid_on__lte=F("installments__due_date"))
    open_late = Q(installments__due_date__lt=today) & Q(
        installments__status__in=(
            Installment.Status.SCHEDULED,
            Installment.Status.DUE,
            Installment.Status.OVERDUE,
        )
    )
    loans = list(
        Loan.objects.filter(customer_id=app.customer_id)
        .select_related("product_version__product")
        .annotate(
            n_due=Count("installments", filter=fallen),
            n_on_time=Count("installments", filter=on_time & fallen),
            n_late=Count("installments", filter=late),
            n_unpaid=Count("installments", filter=open_late),
            last_paid=Max("installments__paid_on"),
        )
        .order_by("-id")[:PRIOR_LOANS]
    )
    if not loans:
        return loans
    visible = set(loans_for(user).filter(pk__in=[x.pk for x in loans]).values_list("pk", flat=True))
    for loan in loans:
        loan.in_scope = loan.pk in visible  # type: ignore[attr-defined]
    return loans


def loan_summary(loans: list[Any]) -> dict[str, int]:
    from credo.lending.models import Loan

    open_states = (Loan.Status.ACTIVE, Loan.Status.OVERDUE, Loan.Status.PENDING)
    return {
        "count": len(loans),
        "open": sum(1 for x in loans if x.status in open_states),
        "outstanding": sum(int(x.outstanding_principal.fen) for x in loans),
        "late": sum(x.n_late for x in loans),
        "unpaid": sum(x.n_unpaid for x in loans),
        "due": sum(x.n_due for x in loans),
        "written_off": sum(1 for x in loans if x.status == Loan.Status.WRITTEN_OFF),
    }


# --- documents ----------------------------------------------------------------------------------------
def preview_kind(content_type: str) -> str:
    """``image`` / ``pdf`` / "" (no inline preview: download only)."""
    ct = (content_type or "").lower()
    if ct.startswith("image/") and ct != "image/svg+xml":  # an SVG could carry script
        return "image"
    if ct == "application/pdf":
        return "pdf"
    return ""


def audit_view(*, user: Any, app: Any, instance: Any, shown: dict[str, Any]) -> None:
    """One audit row per approval-page view: the approver read the applicant's exposure, prior
    loans and repayment record (the documents audit themselves as they load)."""
    with transaction.atomic():
        audit_record(
            action="approval.subject_view",
            actor=user,
            obj=app,
            metadata={"application": app.number, "approval": instance.pk, **shown},
        )
