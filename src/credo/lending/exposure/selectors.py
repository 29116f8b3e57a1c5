"""Reads of 集中度管理: the related-party group (ONE selector, :func:`related_groups` /
:func:`related_group`), the exposure of customers, the net assets and limits in force, and the
book ranking the report and the top-10 check use.

**Which relations link a group** (借款人及其关联方). Following the related-party notions of
《商业银行大额风险暴露管理办法》(2018, 关联客户: 集团客户 by control, 经济依存客户) and 《企业会计准则
第 36 号——关联方披露》 (control, joint control, significant influence, key management, close
family), as the 15 % rule of 银保监办发〔2020〕86 号 for small lenders is applied in practice:

* 实际控制人 (controller), 法定代表人 (legal representative), 配偶 (spouse), 关联企业 (affiliate):
  always link;
* 担保人 (guarantor): links — a guarantor whose guaranteed borrower fails is hit by the same loss
  (经济依存), and 担保圈 are the typical hidden group of small lenders;
* 股东 (shareholder): links when the share is at least the configured threshold (default 20 %,
  significant influence) or when the share is not recorded (conservative: an unknown share is
  treated as significant).

A relation links both ways and groups are closed transitively: the group of a borrower is the
connected component of the borrower in the graph of linking relations (cycles are harmless). So
the relation "is in the same group" is symmetric and every member has the same group.

**Exposure** (授信敞口) of a customer = max(its valid credit limit, open loan principal +
commitments). Open loan principal: a loan pending disbursement counts in full, an active or
overdue one by its outstanding principal (the drawdown rule of :mod:`credo.lending.limits`);
written-off and paid-off loans do not count. A credit limit that is neither frozen nor expired is
a commitment the lender has made, so the customer's exposure is at least the limit; the loans
draw on it, so they are not added on top. Commitments are contributed by upper apps through
:func:`register_commitment_source` (origination: approved applications not yet booked as loans).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import Case, F, Q, Sum, When

from credo.core import clock
from credo.core.money import fen_of
from credo.core.registry import Registry, callable_key
from credo.customers.models import Customer, Relation
from credo.lending.exposure.models import ConcentrationLimits, NetAssets
from credo.lending.models import CreditLimit, Loan
from credo.lending.states import LOAN_LIMIT_STATES

CHUNK = 2000
TOP_CACHE_KEY = "lending.exposure.top"
TOP_CACHE_SECONDS = 60
TOP_CACHE_SIZE = 40

ALWAYS_LINK = (
    Relation.Kind.CONTROLLER,
    Relation.Kind.LEGAL_REPRESENTATIVE,
    Relation.Kind.SPOUSE,
    Relation.Kind.GUARANTOR,
    Relation.Kind.AFFILIATE,
)

CommitmentSource = Callable[[Collection[int] | None], dict[int, int]]
commitment_sources: Registry[CommitmentSource] = Registry(
    "exposure commitment sources", on_duplicate="keep"
)


def register_commitment_source(fn: CommitmentSource) -> None:
    """``fn(customer_ids or None for all) -> {customer_id: fen}``: amounts committed to customers
    that are not (yet) loans, e.g. approved applications awaiting the contract."""
    commitment_sources.register(callable_key(fn), fn)


# --- limits and net assets -----------------------------------------------------------------------
CONFIG_CACHE_KEY = "lending.exposure.config"


def checked_config(day: Any) -> tuple[NetAssets | None, ConcentrationLimits]:
    """The net assets and limits a check uses, cached for :data:`TOP_CACHE_SECONDS` (two queries
    fewer per check; the services that change them clear the cache of their process, other
    processes see the change within that time)."""
    key = f"{CONFIG_CACHE_KEY}:{day.isoformat()}"
    cached = cache.get(key)
    if cached is None:
        cached = (net_assets_on(day), current_limits())
        cache.set(key, cached, TOP_CACHE_SECONDS)
    return cached


def clear_cached() -> None:
    cache.delete_many([TOP_CACHE_KEY, f"{CONFIG_CACHE_KEY}:{clock.today().isoformat()}"])


def current_limits() -> ConcentrationLimits:
    """The limits in force: the latest version, or the defaults (unsaved) when none is stored."""
    return ConcentrationLimits.objects.order_by("-version").first() or ConcentrationLimits(
        version=0
    )


def net_assets_on(day: Any = None) -> NetAssets | None:
    """The net assets applying on ``day`` (default today): the latest entry effective by then."""
    day = day or clock.today()
    return NetAssets.objects.filter(effective_date__lte=day).order_by("-effective_date").first()


# --- the group ------------------------------------------------------------------------------------
def _link_q(shareholder_min_pct: Decimal) -> Q:
    return Q(kind__in=ALWAYS_LINK) | Q(
        Q(share_pct__isnull=True) | Q(share_pct__gte=shareholder_min_pct),
        kind=Relation.Kind.SHAREHOLDER,
    )


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


# A few starts (a check): one recursive query per start — the database walks the graph, however
# long the chains (a 担保圈 of hundreds of customers is one round trip). Many starts (the
# report): the linking relations are read once and the components found in memory.
FEW_STARTS = 50

# The recursive term joins the relations on either end (an OR of the two foreign-key indexes:
# a BitmapOr per step on PostgreSQL, the OR optimisation on SQLite); UNION drops customers
# already reached, so cycles end.
_CLOSURE_CTE = """
WITH RECURSIVE g(id) AS (
    SELECT CAST(%s AS BIGINT)
    UNION
    SELECT CASE WHEN r.from_customer_id = g.id THEN r.to_customer_id ELSE r.from_customer_id END
    FROM {rel} r JOIN g ON (r.from_customer_id = g.id OR r.to_customer_id = g.id)
    WHERE {link}
)
"""
_CLOSURE_SQL = _CLOSURE_CTE + "SELECT id FROM g"  # noqa: S608 — placeholders only
# the check's one round trip: each member of the group (the same closure) with its open
# principal and its valid limit, as correlated subqueries (an index lookup per member: a join
# here lets the planner hash a whole table for a group of five)
_EXPOSURE_TAIL = """
SELECT g.id,
       (SELECT SUM(CASE WHEN l.status = %s THEN l.principal ELSE l.outstanding_principal END)
          FROM {loan} l WHERE l.customer_id = g.id AND l.status IN ({statuses})),
       (SELECT c.amount FROM {limit} c
         WHERE c.customer_id = g.id AND NOT c.frozen
           AND (c.valid_until IS NULL OR c.valid_until >= %s))
FROM g
"""
_GROUP_EXPOSURE_SQL = _CLOSURE_CTE + _EXPOSURE_TAIL  # noqa: S608 — _meta table names, placeholders


def _link_sql(shareholder_min_pct: Decimal) -> tuple[str, list[Any]]:
    kinds = ", ".join(["%s"] * len(ALWAYS_LINK))
    sql = f"(r.kind IN ({kinds}) OR (r.kind = %s AND (r.share_pct IS NULL OR r.share_pct >= %s)))"
    return sql, [
        *(str(k) for k in ALWAYS_LINK),
        str(Relation.Kind.SHAREHOLDER),
        shareholder_min_pct,
    ]


def _closure(start: int, shareholder_min_pct: Decimal) -> frozenset[int]:
    link, params = _link_sql(shareholder_min_pct)
    sql = _CLOSURE_SQL.format(rel=Relation._meta.db_table, link=link)
    with connection.cursor() as cur:
        cur.execute(sql, [start, *params])
        return frozenset(int(r[0]) for r in cur.fetchall())


def group_exposure(
    customer_id: int, *, shareholder_min_pct: Decimal
) -> tuple[frozenset[int], dict[int, Parts]]:
    """The related-party group of one customer (the closure of :func:`related_group`) and the
    exposure parts of its members, in one query (plus one per commitment source)."""
    link, params = _link_sql(shareholder_min_pct)
    sql = _GROUP_EXPOSURE_SQL.format(
        rel=Relation._meta.db_table,
        link=link,
        loan=Loan._meta.db_table,
        limit=CreditLimit._meta.db_table,
        statuses=", ".join(["%s"] * len(LOAN_LIMIT_STATES)),
    )
    members: set[int] = set()
    loans: dict[int, int] = {}
    limits: dict[int, int] = {}
    with connection.cursor() as cur:
        cur.execute(
            sql,
            [
                int(customer_id),
                *params,
                str(Loan.Status.PENDING),
                *(str(s) for s in LOAN_LIMIT_STATES),
                clock.today(),
            ],
        )
        for cid, loan_sum, limit in cur.fetchall():
            members.add(int(cid))
            if loan_sum is not None:
                loans[int(cid)] = fen_of(loan_sum)
            if limit is not None:
                limits[int(cid)] = fen_of(limit)
    commitments: dict[int, int] = defaultdict(int)
    for source in commitment_sources:
        for cid, fen in source(members).items():
            commitments[cid] += int(fen)
    parts = {
        cid: Parts(
            loans=loans.get(cid, 0),
            commitments=commitments.get(cid, 0),
            limit=limits.get(cid, 0),
        )
        for cid in set(loans) | set(limits) | set(commitments)
    }
    return frozenset(members), parts


def _components(starts: set[int], shareholder_min_pct: Decimal) -> dict[int, frozenset[int]]:
    adjacency: dict[int, set[int]] = defaultdict(set)
    rows = Relation.objects.filter(_link_q(shareholder_min_pct)).values_list(
        "from_customer_id", "to_customer_id"
    )
    for a, b in rows.iterator(chunk_size=20000):
        adjacency[a].add(b)
        adjacency[b].add(a)
    groups: dict[int, frozenset[int]] = {}
    for start in starts:
        if start in groups:
            continue
        component = {start}
        stack = [start]
        while stack:
            for other in adjacency.get(stack.pop(), ()):
                if other not in component:
                    component.add(other)
                    stack.append(other)
        frozen = frozenset(component)
        for member in component:
            if member in starts:
                groups[member] = frozen
    return groups


def related_groups(
    customer_ids: Iterable[int], *, shareholder_min_pct: Decimal | None = None
) -> dict[int, frozenset[int]]:
    """THE group selector: for each customer id, the ids of its related-party group (itself
    included) — the connected component of the linking relations (see the module docstring)."""
    starts = {int(c) for c in customer_ids}
    if shareholder_min_pct is None:
        shareholder_min_pct = current_limits().shareholder_min_pct
    if len(starts) > FEW_STARTS:
        return _components(starts, shareholder_min_pct)
    groups: dict[int, frozenset[int]] = {}
    for start in sorted(starts):
        if start not in groups:
            component = _closure(start, shareholder_min_pct)
            for member in component & starts:
                groups[member] = component
    return groups


def related_group(customer: Any, *, shareholder_min_pct: Decimal | None = None) -> frozenset[int]:
    """The related-party group of one customer (ids, itself included)."""
    cid = int(getattr(customer, "pk", customer))
    return related_groups([cid], shareholder_min_pct=shareholder_min_pct)[cid]


# --- exposure ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Parts:
    loans: int = 0
    commitments: int = 0
    limit: int = 0

    def total(self, *, extra: int = 0, limit: int | None = None) -> int:
        granted = self.limit if limit is None else limit
        return max(granted, self.loans + self.commitments + extra)


def _loan_sums(ids: Collection[int] | None) -> dict[int, int]:
    qs = Loan.objects.filter(status__in=LOAN_LIMIT_STATES)
    out: dict[int, int] = {}
    open_principal = Sum(
        Case(
            When(status=Loan.Status.PENDING, then=F("principal")),
            default=F("outstanding_principal"),
        )
    )
    parts = [None] if ids is None else list(_chunks(sorted(ids)))
    for part in parts:
        q = qs if part is None else qs.filter(customer_id__in=part)
        for cid, total in (
            q.values_list("customer_id").annotate(t=open_principal).values_list("customer_id", "t")
        ):
            out[cid] = fen_of(total)
    return out


def _limit_amounts(ids: Collection[int] | None) -> dict[int, int]:
    today = clock.today()
    qs = CreditLimit.objects.filter(frozen=False).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    )
    out: dict[int, int] = {}
    parts = [None] if ids is None else list(_chunks(sorted(ids)))
    for part in parts:
        q = qs if part is None else qs.filter(customer_id__in=part)
        for cid, amount in q.values_list("customer_id", "amount"):
            out[cid] = fen_of(amount)
    return out


def exposure_parts(customer_ids: Collection[int] | None) -> dict[int, Parts]:
    """Exposure components per customer (only customers with any); ``None``: the whole book."""
    loans = _loan_sums(customer_ids)
    limits = _limit_amounts(customer_ids)
    commitments: dict[int, int] = defaultdict(int)
    for source in commitment_sources:
        for cid, fen in source(customer_ids).items():
            commitments[cid] += int(fen)
    ids = set(loans) | set(limits) | set(commitments)
    return {
        cid: Parts(
            loans=loans.get(cid, 0), commitments=commitments.get(cid, 0), limit=limits.get(cid, 0)
        )
        for cid in ids
    }


def exposure_of(customer_ids: Collection[int]) -> dict[int, int]:
    return {cid: p.total() for cid, p in exposure_parts(customer_ids).items()}


def names_of(customer_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(customer_ids))
    out: dict[int, str] = {}
    for part in _chunks(ids):
        out.update(Customer.objects.filter(pk__in=part).values_list("pk", "name"))
    return out


def book_exposures() -> dict[int, int]:
    """Every customer's exposure (the report). Reads the whole book."""
    loans = _loan_sums(None)
    limits = _limit_amounts(None)
    commitments: dict[int, int] = defaultdict(int)
    for source in commitment_sources:
        for cid, fen in source(None).items():
            commitments[cid] += int(fen)
    out: dict[int, int] = {}
    for cid in set(loans) | set(limits) | set(commitments):
        total = max(limits.get(cid, 0), loans.get(cid, 0) + commitments.get(cid, 0))
        if total > 0:
            out[cid] = total
    return out


def _top_candidates(n: int) -> set[int]:
    """Customers that can be among the ``n`` largest exposures: the ``n`` largest open principals,
    the ``n`` largest valid limits and every customer with a commitment. Exact: exposure is
    max(limit, loans + commitments), so a customer whose exposure is its limit (or its loans,
    without commitments) and that is among the ``n`` largest exposures is among the ``n`` largest
    limits (or loans) too."""
    open_principal = Sum(
        Case(
            When(status=Loan.Status.PENDING, then=F("principal")),
            default=F("outstanding_principal"),
        )
    )
    by_loans = (
        Loan.objects.filter(status__in=LOAN_LIMIT_STATES)
        .values("customer_id")
        .annotate(t=open_principal)
        .order_by("-t")
        .values_list("customer_id", flat=True)[:n]
    )
    today = clock.today()
    by_limit = (
        CreditLimit.objects.filter(frozen=False)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .order_by("-amount")
        .values_list("customer_id", flat=True)[:n]
    )
    candidates = set(by_loans) | set(by_limit)
    for source in commitment_sources:
        candidates |= set(source(None))
    return candidates


def top_exposures(*, fresh: bool = False) -> list[tuple[int, int]]:
    """The largest customer exposures ``[(customer_id, fen)]``, descending, at most
    :data:`TOP_CACHE_SIZE` — from a few candidates (:func:`_top_candidates`), not the whole book.
    The check uses a copy at most :data:`TOP_CACHE_SECONDS` old; the applicant's own figures are
    always read fresh."""
    if not fresh:
        cached = cache.get(TOP_CACHE_KEY)
        if cached is not None:
            return list(cached)
    totals = exposure_of(_top_candidates(TOP_CACHE_SIZE))
    ranked = sorted(((c, v) for c, v in totals.items() if v > 0), key=lambda kv: (-kv[1], kv[0]))[
        :TOP_CACHE_SIZE
    ]
    cache.set(TOP_CACHE_KEY, ranked, TOP_CACHE_SECONDS)
    return ranked


def top10_total(
    ranking: Iterable[tuple[int, int]], overrides: dict[int, int]
) -> tuple[int, list[int]]:
    """The sum of the ten largest exposures of ``ranking`` with ``overrides`` applied (fresh or
    post-decision figures of some customers), and their ids."""
    merged = dict(ranking)
    merged.update(overrides)
    top = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return sum(v for _, v in top), [cid for cid, _ in top]


# --- the report ----------------------------------------------------------------------------------
@dataclass
class Row:
    label: str
    exposure: int
    share: Decimal | None
    headroom: int | None
    limit_pct: Decimal
    members: list[str]
    customer_id: int | None = None

    @property
    def over(self) -> bool:
        return self.headroom is not None and self.headroom < 0


@dataclass
class Report:
    day: Any
    net_assets: NetAssets | None
    limits: ConcentrationLimits
    borrowers: list[Row]
    groups: list[Row]
    top10_total: int
    top10_share: Decimal | None
    top10_headroom: int | None
    book_total: int

    @property
    def warning(self) -> str:
        from django.utils.translation import gettext as _

        if self.net_assets is None:
            return _("未录入净资产：集中度检查（提交、审批、授信额度）均未执行，请先录入净资产。")
        return ""


def concentration_report(*, limit: int = 20) -> Report:
    """Top borrowers and related-party groups by exposure, their share of net assets and the
    headroom to each limit. Reads the whole book (the groups through :func:`related_groups`)."""
    from credo.lending.exposure.services import headroom, share_of

    day = clock.today()
    net = net_assets_on(day)
    limits = current_limits()
    net_fen = net.amount.fen if net else None
    exposures = book_exposures()
    ranked = sorted(exposures.items(), key=lambda kv: (-kv[1], kv[0]))

    def share(v: int) -> Decimal | None:
        return share_of(v, net_fen) if net_fen else None

    def room(v: int, pct: Decimal) -> int | None:
        return headroom(v, pct, net_fen) if net_fen else None

    groups_of = related_groups(exposures, shareholder_min_pct=limits.shareholder_min_pct)
    seen: set[frozenset[int]] = set()
    group_rows: list[tuple[int, frozenset[int]]] = []
    for members in groups_of.values():
        if len(members) < 2 or members in seen:
            continue
        seen.add(members)
        group_rows.append((sum(exposures.get(m, 0) for m in members), members))
    group_rows.sort(key=lambda t: (-t[0], min(t[1])))
    top_groups = group_rows[:limit]
    top_borrowers = ranked[:limit]
    names = names_of(
        {c for c, _ in top_borrowers} | {m for _, members in top_groups for m in members}
    )
    borrowers = [
        Row(
            label=names.get(cid, str(cid)),
            exposure=v,
            share=share(v),
            headroom=room(v, limits.single_pct),
            limit_pct=limits.single_pct,
            members=[],
            customer_id=cid,
        )
        for cid, v in top_borrowers
    ]
    groups = []
    for total, members in top_groups:
        ordered = sorted(members, key=lambda m: (-exposures.get(m, 0), m))
        member_names = [names.get(m, str(m)) for m in ordered]
        groups.append(
            Row(
                label="、".join(member_names[:3]) + ("…" if len(member_names) > 3 else ""),
                exposure=total,
                share=share(total),
                headroom=room(total, limits.group_pct),
                limit_pct=limits.group_pct,
                members=member_names,
                customer_id=ordered[0],
            )
        )
    top10 = sum(v for _, v in ranked[:10])
    return Report(
        day=day,
        net_assets=net,
        limits=limits,
        borrowers=borrowers,
        groups=groups,
        top10_total=top10,
        top10_share=share(top10),
        top10_headroom=room(top10, limits.top10_pct),
        book_total=sum(exposures.values()),
    )
