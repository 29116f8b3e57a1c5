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

from django.db.models import Exists, OuterRef, Q

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
    exposure in one, names, direct relations; one when the applicant has no related party)
    plus one per commitment source."""
    from credo.customers.models import Relation
    from credo.lending.exposure import selectors as exposure
    from credo.lending.exposure.services import headroom, share_of

    cid = app.customer_id
    net, limits = exposure.checked_config(clock.today())
    group, parts = exposure.group_exposure(cid, shareholder_min_pct=limits.shareholder_min_pct)
    group = frozenset(group) | {cid}
    direct: dict[int, list[str]] = {}
    if group == {cid}:
        # no related party: the name is the applicant's, and no relation can name a member (a
        # customer never relates to itself)
        names = {cid: app.customer.name}
        rows: Any = ()
    else:
        names = exposure.names_of(group)
        rows = Relation.objects.filter(Q(from_customer_id=cid) | Q(to_customer_id=cid)).values_list(
            "from_customer_id", "to_customer_id", "kind"
        )
    kinds = {k: str(v) for k, v in Relation.Kind.choices}
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
# What the loan rows and their summary show (``_approval_loans.html``, :func:`loan_summary`): the
# rest of the loan's many columns is left unread (and read on access if ever needed).
LOAN_FIELDS = (
    "number",
    "status",
    "dpd",
    "principal",
    "outstanding_principal",
    "start_date",
    "maturity_date",
    "product_version__product__name",
)


def prior_loans(app: Any, user: Any) -> list[Any]:
    """The customer's loans (newest first) with their repayment record: installments fallen
    due (``n_due``), paid on time (``n_on_time``), paid late (``n_late``), still unpaid after
    their due date (``n_unpaid``) and the last payment (``last_paid``). ``in_scope`` says
    whether the user may open the loan page. Two plain queries: the loans (with the scope
    check), then the installments that count, tallied here."""
    from credo.lending.models import Installment, Loan
    from credo.lending.selectors import loans_for

    loans = list(
        Loan.objects.filter(customer_id=app.customer_id)
        .select_related("product_version__product")
        .only(*LOAN_FIELDS)
        # whether the user may open the loan: the scope check in the same query
        .annotate(visible=Exists(loans_for(user).filter(pk=OuterRef("pk"))))
        .order_by("-id")[:PRIOR_LOANS]
    )
    if not loans:
        return loans
    today = clock.today()
    unpaid = (Installment.Status.SCHEDULED, Installment.Status.DUE, Installment.Status.OVERDUE)
    record: dict[int, list[Any]] = {loan.pk: [0, 0, 0, 0, None] for loan in loans}
    # an installment neither fallen due nor paid counts nowhere
    rows = (
        Installment.objects.filter(loan_id__in=list(record))
        .filter(Q(due_date__lte=today) | Q(paid_on__isnull=False))
        .order_by()
        .values_list("loan_id", "due_date", "paid_on", "status")
    )
    for loan_id, due, paid, status in rows:
        tally = record[loan_id]
        if due <= today:
            tally[0] += 1  # fallen due
            if paid is not None and paid <= due:
                tally[1] += 1  # paid on time
        if paid is not None:
            if paid > due:
                tally[2] += 1  # paid late
            if tally[4] is None or paid > tally[4]:
                tally[4] = paid
        if due < today and status in unpaid:
            tally[3] += 1  # still unpaid after its due date
    for loan in loans:
        tally = record[loan.pk]
        loan.n_due, loan.n_on_time, loan.n_late, loan.n_unpaid, loan.last_paid = tally  # type: ignore[attr-defined]
        loan.in_scope = bool(loan.visible)  # type: ignore[attr-defined]
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
    loans and repayment record (the documents audit themselves as they load). One INSERT:
    atomic on its own, no BEGIN/COMMIT round trips around it."""
    audit_record(
        action="approval.subject_view",
        actor=user,
        obj=app,
        metadata={"application": app.number, "approval": instance.pk, **shown},
    )
