"""集中度管理 (issue 22 item 1): the related-party group, exposure, the checks at credit-limit
setting, net assets and limits, and the concentration report — service level, real DB."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credo.core import clock
from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.customers.models import Customer, Relation
from credo.lending import limits, services
from credo.lending.exposure import selectors
from credo.lending.exposure import services as exposure
from credo.lending.exposure.models import ConcentrationLimits, NetAssets
from credo.lending.exposure.services import ConcentrationBreach
from credo.lending.models import CreditLimit

pytestmark = pytest.mark.django_db

K = Relation.Kind


def _customer(owner, name, kind="enterprise"):
    return Customer.objects.create(kind=kind, name=name, owner=owner)


def _rel(a, b, kind, share=None):
    return Relation.objects.create(from_customer=a, to_customer=b, kind=kind, share_pct=share)


@pytest.fixture
def graph(owner):
    """A: 甲公司 (borrower); P 股东 30 % of A and 10 % of B; S spouse of P; G guarantees A and C;
    C affiliate of A (a cycle A–G–C–A); Q shareholder of B with no recorded share; E and F
    (legal representative); H alone."""
    c = {n: _customer(owner, f"{n}客户") for n in "APSGCBQEFH"}
    _rel(c["P"], c["A"], K.SHAREHOLDER, Decimal("30"))
    _rel(c["P"], c["B"], K.SHAREHOLDER, Decimal("10"))
    _rel(c["S"], c["P"], K.SPOUSE)
    _rel(c["G"], c["A"], K.GUARANTOR)
    _rel(c["G"], c["C"], K.GUARANTOR)
    _rel(c["C"], c["A"], K.AFFILIATE)
    _rel(c["Q"], c["B"], K.SHAREHOLDER)
    _rel(c["F"], c["E"], K.LEGAL_REPRESENTATIVE)
    return c


def _ids(c, names):
    return frozenset(c[n].pk for n in names)


def test_groups_known_answer(graph):
    c = graph
    assert selectors.related_group(c["A"]) == _ids(c, "APSGC")
    assert selectors.related_group(c["S"]) == _ids(c, "APSGC")
    assert selectors.related_group(c["B"]) == _ids(c, "BQ")  # P holds 10 % < 20 %: no link
    assert selectors.related_group(c["E"]) == _ids(c, "EF")
    assert selectors.related_group(c["H"]) == _ids(c, "H")
    # a lower threshold links B through its 10 % shareholder P
    assert selectors.related_group(c["A"], shareholder_min_pct=Decimal("5")) == _ids(c, "APSGCBQ")
    # batch form: one call for many customers gives the same groups
    groups = selectors.related_groups([c[n].pk for n in "ABEH"])
    assert groups[c["A"].pk] == _ids(c, "APSGC") and groups[c["B"].pk] == _ids(c, "BQ")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    edges=st.lists(
        st.tuples(
            st.integers(0, 6),
            st.integers(0, 6),
            st.sampled_from([K.GUARANTOR, K.SPOUSE, K.AFFILIATE, K.SHAREHOLDER]),
            st.sampled_from([None, Decimal("5"), Decimal("50")]),
        ),
        max_size=12,
    )
)
def test_group_closure_is_symmetric_and_idempotent(owner, edges):
    people = list(Customer.objects.filter(name__startswith="图").order_by("pk"))
    if not people:
        people = [_customer(owner, f"图{i}") for i in range(7)]
    Relation.objects.filter(from_customer__in=people).delete()
    for a, b, kind, share in edges:
        if a != b:
            Relation.objects.get_or_create(
                from_customer=people[a],
                to_customer=people[b],
                kind=kind,
                defaults={"share_pct": share},
            )
    ids = [p.pk for p in people]
    groups = selectors.related_groups(ids)
    for x in ids:
        assert x in groups[x]
        for y in groups[x]:
            assert groups[y] == groups[x]  # idempotent: a member's group is the same group
        for y in ids:
            assert (y in groups[x]) == (x in groups[y])  # symmetric
    # the recursive query (a few customers) and the in-memory components (many) agree
    assert selectors._components(set(ids), Decimal("20")) == groups
    assert all(selectors.related_group(x) == groups[x] for x in ids)
    # the check's one-query form walks the same closure
    assert all(
        selectors.group_exposure(x, shareholder_min_pct=Decimal("20"))[0] == groups[x] for x in ids
    )


def _net(finance, yuan="10000000", day=None):
    return exposure.net_assets_set(
        effective_date=day or clock.today(), amount=Money(yuan), actor=finance, note="月末报表"
    )


def _loan(customer, product_version, owner, yuan):
    return services.loan_create(
        customer=customer,
        product_version=product_version,
        principal=Money(yuan),
        annual_rate=Decimal("12"),
        months=12,
        actor=owner,
    )


def test_no_net_assets_skips_with_warning(graph, finance):
    check = exposure.concentration_check(customer=graph["A"], additional_fen=10**12)
    assert check.skipped and check.ok and "未录入净资产" in check.warning
    # limit setting still works (nothing to check against)
    limits.limit_set(customer=graph["A"], amount=Money("90000000"), actor=finance, reason="授信")


def test_single_borrower_refused_at_limit_setting(graph, finance):
    _net(finance)
    with pytest.raises(ConcentrationBreach) as err:
        limits.limit_set(customer=graph["H"], amount=Money("1100000"), actor=finance, reason="授信")
    assert err.value.message == (
        "超过集中度限额，不能设置该授信额度：借款人 H客户 授信敞口 1,100,000.00 元，"
        "占净资产 11.00%，超过 10% 上限。"
    )
    assert not CreditLimit.objects.exists()
    # exactly at the limit passes
    limits.limit_set(customer=graph["H"], amount=Money("1000000"), actor=finance, reason="授信")


def test_group_limit_counts_loans_limits_and_related_parties(
    graph, finance, owner, product_version
):
    c = graph
    _net(finance)
    limits.limit_set(customer=c["A"], amount=Money("900000"), actor=finance, reason="授信")
    _loan(c["C"], product_version, owner, "500000")  # pending: counts in full
    _loan(c["B"], product_version, owner, "800000")  # another group
    check = exposure.concentration_check(customer=c["A"])
    group = {f.kind: f for f in check.findings}["group"]
    assert check.ok and group.after == 140_000_000 and group.share == Decimal("14.00")
    with pytest.raises(ConcentrationBreach) as err:
        limits.limit_set(customer=c["G"], amount=Money("250000"), actor=finance, reason="授信")
    message = err.value.message
    assert "借款人及其关联方（集团：G客户、A客户、C客户、P客户、S客户）" in message
    assert "授信敞口 1,650,000.00 元，占净资产 16.50%，超过 15% 上限" in message
    # a loan that draws on A's limit does not add to the exposure (max(limit, loans))
    _loan(c["A"], product_version, owner, "600000")
    assert selectors.exposure_of([c["A"].pk]) == {c["A"].pk: 90_000_000}
    # lowering a limit never raises the exposure: allowed even when over
    exposure.limits_update(
        single_pct=Decimal("5"),
        group_pct=Decimal("10"),
        top10_pct=Decimal("50"),
        shareholder_min_pct=Decimal("20"),
        actor=finance,
        note="从严",
    )
    limits.limit_set(customer=c["A"], amount=Money("800000"), actor=finance, reason="压降")


def test_top10_share(owner, finance, product_version):
    _net(finance, "10000000")
    exposure.limits_update(
        single_pct=Decimal("10"),
        group_pct=Decimal("15"),
        top10_pct=Decimal("20"),
        shareholder_min_pct=Decimal("20"),
        actor=finance,
        note="前十大从严",
    )
    a, b, x = (_customer(owner, n) for n in ("大户甲", "大户乙", "新客户"))
    _loan(a, product_version, owner, "900000")
    _loan(b, product_version, owner, "900000")
    check = exposure.concentration_check(customer=x, additional_fen=30_000_000)
    assert [f.kind for f in check.breaches] == ["top10"]
    assert check.message == (
        "前十大借款人授信敞口合计 2,100,000.00 元，占净资产 21.00%，超过 20% 上限"
    )
    assert exposure.concentration_check(customer=x, additional_fen=20_000_000).ok


def test_net_assets_latest_effective_applies_and_is_audited(finance):
    today = clock.today()
    _net(finance, "8000000", today - dt.timedelta(days=40))
    _net(finance, "9000000", today - dt.timedelta(days=10))
    _net(finance, "99000000", today + dt.timedelta(days=5))  # not yet effective
    assert selectors.net_assets_on().amount.fen == 900_000_000
    _net(finance, "9500000", today - dt.timedelta(days=10))  # a correction of the same date
    assert NetAssets.objects.count() == 3
    assert selectors.net_assets_on().amount.fen == 950_000_000
    entries = AuditEntry.objects.filter(action="exposure.net_assets_set").order_by("id")
    assert entries.count() == 4
    assert entries.last().changes == {"amount": [900_000_000, 950_000_000]}
    with pytest.raises(Exception, match="大于 0"):
        exposure.net_assets_set(effective_date=today, amount=Money("0"), actor=finance)


def test_limits_are_versioned_and_audited(finance):
    assert selectors.current_limits().version == 0  # defaults
    assert selectors.current_limits().group_pct == Decimal("15")
    for note, single in (("一", "8"), ("二", "9")):
        exposure.limits_update(
            single_pct=Decimal(single),
            group_pct=Decimal("15"),
            top10_pct=Decimal("50"),
            shareholder_min_pct=Decimal("25"),
            actor=finance,
            note=note,
        )
    assert list(ConcentrationLimits.objects.values_list("version", "single_pct")) == [
        (2, Decimal("9.00")),
        (1, Decimal("8.00")),
    ]
    assert selectors.current_limits().single_pct == Decimal("9")
    audit = AuditEntry.objects.filter(action="exposure.limits_update").order_by("id").last()
    assert audit.changes["single_pct"] == ["8", "9"]
    with pytest.raises(Exception, match="不能低于"):
        exposure.limits_update(
            single_pct=Decimal("20"),
            group_pct=Decimal("15"),
            top10_pct=Decimal("50"),
            shareholder_min_pct=Decimal("20"),
            actor=finance,
            note="错",
        )


def test_report_and_export(client, graph, owner, finance, product_version):
    from io import BytesIO

    import openpyxl

    c = graph
    _net(finance)
    limits.limit_set(customer=c["A"], amount=Money("900000"), actor=finance, reason="授信")
    _loan(c["C"], product_version, owner, "500000")
    _loan(c["B"], product_version, owner, "800000")
    _loan(c["H"], product_version, owner, "100000")
    report = selectors.concentration_report()
    assert [(r.label, r.exposure) for r in report.borrowers] == [
        ("A客户", 90_000_000),
        ("B客户", 80_000_000),
        ("C客户", 50_000_000),
        ("H客户", 10_000_000),
    ]
    assert report.borrowers[0].share == Decimal("9.00")
    assert report.borrowers[0].headroom == 10_000_000
    assert [(r.members, r.exposure) for r in report.groups] == [
        (["A客户", "C客户", "P客户", "S客户", "G客户"], 140_000_000),
        (["B客户", "Q客户"], 80_000_000),
    ]
    assert report.groups[0].headroom == 10_000_000 and report.groups[0].share == Decimal("14.00")
    assert report.top10_total == 230_000_000 and report.top10_share == Decimal("23.00")
    assert report.warning == ""

    finance.roles.first().permissions.add(Permission.objects.get(codename="view_exposure"))
    client.force_login(finance)
    body = client.get(reverse("lending:exposure:report")).content.decode()
    assert "A客户" in body and "900,000.00" in body and "14.00%" in body
    resp = client.get(reverse("lending:exposure:report") + "?format=xlsx")
    wb = openpyxl.load_workbook(BytesIO(resp.content))
    sheet = wb.worksheets[2]
    assert sheet.cell(2, 2).value == "A客户、C客户、P客户…"
    assert sheet.cell(2, 3).value == 1400000
    assert "B客户、Q客户" in [sheet.cell(r, 7).value for r in range(2, 4)]


def test_report_without_net_assets_warns(client, finance, graph, owner, product_version):
    _loan(graph["H"], product_version, owner, "100000")
    finance.roles.first().permissions.add(Permission.objects.get(codename="view_exposure"))
    client.force_login(finance)
    resp = client.get(reverse("lending:exposure:report"))
    assert resp.status_code == 200
    assert "未录入净资产" in resp.content.decode()


def test_pages_need_permissions(client, finance, colleague):
    client.force_login(colleague)
    assert client.get(reverse("lending:exposure:report")).status_code == 403
    assert client.get(reverse("lending:exposure:net_assets")).status_code == 403
    finance.roles.first().permissions.add(Permission.objects.get(codename="manage_exposure"))
    client.force_login(finance)
    resp = client.post(
        reverse("lending:exposure:net_assets"),
        {"effective_date": clock.today().isoformat(), "amount": "12000000", "note": "11月"},
    )
    assert resp.status_code == 302
    assert selectors.net_assets_on().amount.fen == 1_200_000_000
    resp = client.post(
        reverse("lending:exposure:limits"),
        {
            "single_pct": "10",
            "group_pct": "15",
            "top10_pct": "40",
            "shareholder_min_pct": "25",
            "note": "董事会决议",
        },
    )
    assert resp.status_code == 302 and selectors.current_limits().top10_pct == Decimal("40")
    assert "董事会决议" in client.get(reverse("lending:exposure:limits")).content.decode()


@given(
    exposure_fen=st.integers(0, 10**13),
    pct=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100"), places=2),
    net_fen=st.integers(1, 10**13),
)
def test_over_and_headroom_agree(exposure_fen, pct, net_fen):
    """A figure is over the limit exactly when its headroom is negative, and the share shown
    rounds the exact ratio half-up."""
    over = exposure.over(exposure_fen, pct, net_fen)
    assert over == (exposure.headroom(exposure_fen, pct, net_fen) < 0)
    exact = Decimal(exposure_fen) * 100 / Decimal(net_fen)
    assert abs(exposure.share_of(exposure_fen, net_fen) - exact) <= Decimal("0.005")
