"""The loan detail page reads each thing once: its number of queries is pinned and does not grow
with the loan's schedule, postings or charges, and its table rows (credo.lending.loan_page)
render exactly what the template filters they replace rendered."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from credo.core.money import Money
from credo.lending import loan_page, selectors, services
from credo.lending.charges.services import charge_create
from credo.lending.models import Installment, JournalEntry, Loan, Posting
from credo.lending.templatetags.pricing import loan_apr, loan_apr_only
from credo.lending.templatetags.upfront_fee import upfront_fee_info
from tests.lending.conftest import VALUE_DATE
from tests.lending.test_views import active_loan, am, fin  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

# The whole request as the test client makes it: session, user, permissions and 2FA devices
# (middleware), the unread-message count and the custom-records check (base page and the
# records panel), and the page's own reads — loan (with its customer, product, 客户经理 and
# creator, and the scope check), schedule, postings, journal (entries with lines and accounts),
# charges, events, application, accrual, and the collateral panel's links, guarantees and LTV
# limit. It was 23 (and one more per charge) before the page read each thing once.
LOAN_PAGE_MAX_QUERIES = 18


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url)
    assert resp.status_code == 200
    return len(ctx.captured_queries), resp.content.decode()


@pytest.fixture
def charger(fin):  # noqa: F811
    fin.roles.first().permissions.add(*Permission.objects.filter(codename="charge_fee"))
    return type(fin).objects.get(pk=fin.pk)


def test_query_count_is_pinned_and_flat(client, charger, active_loan):  # noqa: F811
    url = reverse("lending:loan_detail", args=[active_loan.pk])
    client.force_login(charger)
    client.get(url)  # the first request of a session fills the per-user caches
    first, _html = _queries(client, url)
    assert first <= LOAN_PAGE_MAX_QUERIES
    # more postings (each with its entry, lines and events) and a reversal: same queries
    for day, amount in ((dt.date(2026, 2, 15), "5000"), (dt.date(2026, 3, 15), "6000")):
        services.repayment_post(
            loan=Loan.objects.get(pk=active_loan.pk),
            amount=Money(amount),
            received_on=day,
            actor=charger,
        )
    services.posting_reverse(
        posting=Posting.objects.filter(loan=active_loan).first(), actor=charger, reason="错账"
    )
    more, html = _queries(client, url)
    assert more == first
    assert html.count("reverse-form") == 1 and html.count("已冲正") == 1
    # the first charge adds the read of the charges' creators, later ones nothing
    for n in (1, 2):
        charge_create(
            loan=Loan.objects.get(pk=active_loan.pk),
            kind="handling",
            amount=Money("50"),
            charged_on=dt.date(2026, 3, 20),
            actor=charger,
            memo=f"手续费{n}",
        )
        count, html = _queries(client, url)
        assert count == first + 1
    assert html.count("手续费1") == 1 and html.count("手续费2") == 1


# --- the rows render what the template filters rendered -------------------------------------
OLD_SCHEDULE = """{% load money %}{% for i in installments %}<tr class="{{ i.css }}"\
 data-status="{{ i.status }}"><td>{{ i.period }}</td><td>{{ i.due_date|date:"Y-m-d" }}</td>\
<td>{{ i.principal_due.fen|yuan }}</td><td>{{ i.interest_due.fen|yuan }}</td>\
<td>{{ i.fee_due.fen|yuan }}</td><td>{{ i.penalty_due.fen|yuan }}</td>\
<td>{{ i.principal_paid.fen|yuan }}</td><td>{{ i.interest_paid.fen|yuan }}</td>\
<td>{{ i.fee_paid.fen|yuan }}</td><td>{{ i.penalty_paid.fen|yuan }}</td>\
<td>{{ i.get_status_display }}{% if i.paid_on %} {{ i.paid_on|date:"Y-m-d" }}{% endif %}</td>\
</tr>{% endfor %}"""
NEW_SCHEDULE = """{% for i in installments %}<tr class="{{ i.css }}" data-status="{{ i.status }}">\
<td>{{ i.period }}</td><td>{{ i.due_date }}</td>\
<td>{{ i.principal_due }}</td><td>{{ i.interest_due }}</td>\
<td>{{ i.fee_due }}</td><td>{{ i.penalty_due }}</td>\
<td>{{ i.principal_paid }}</td><td>{{ i.interest_paid }}</td>\
<td>{{ i.fee_paid }}</td><td>{{ i.penalty_paid }}</td>\
<td>{{ i.status_label }}{% if i.paid_on %} {{ i.paid_on }}{% endif %}</td></tr>{% endfor %}"""


def _render(source, **context):
    with translation.override("zh-hans"):
        return Template(source).render(Context(context))


def test_schedule_rows(fin, active_loan):  # noqa: F811
    loan = Loan.objects.get(pk=active_loan.pk)
    services.repayment_post(
        loan=loan, amount=Money("10661.85"), received_on=dt.date(2026, 2, 15), actor=fin
    )
    Installment.objects.filter(loan=loan, period=2).update(
        status="overdue", penalty_due=Money("12.34")
    )
    Installment.objects.filter(loan=loan, period=3).update(status="due")
    installments = list(loan.installments.order_by("period"))
    rows, first = loan_page.installment_rows(loan)
    assert [r["period"] for r in rows] == list(range(1, 13))
    assert [r["css"] for r in rows[:4]] == ["table-success", "table-danger", "table-warning", ""]
    for i in installments:  # the row class as the view set it
        i.css = loan_page.INSTALLMENT_CLASS.get(i.status, "")
    expected = _render(OLD_SCHEDULE, installments=installments)
    assert _render(NEW_SCHEDULE, installments=rows) == expected
    assert "12.34" in expected and "已还清 2026-02-15" in expected
    one = installments[0]
    assert (first.status, first.due_date, first.paid_on) == (one.status, one.due_date, one.paid_on)
    pending = Loan.objects.create(**_copy_terms(loan, number="L-PENDING"))
    assert loan_page.installment_rows(pending) == ([], None)


def _copy_terms(loan, **changes):
    fields = {
        f.attname: getattr(loan, f.attname)
        for f in Loan._meta.concrete_fields
        if not f.primary_key and f.attname not in ("number",)
    }
    fields.update(status="pending", start_date=None, maturity_date=None, **changes)
    return fields


OLD_POSTING = """{% load money %}{{ p.received_on|date:"Y-m-d" }}|{{ p.amount.fen|yuan }}|\
{{ p.get_channel_display }}|{{ p.allocation.totals.penalty|default:0|yuan }}|\
{{ p.allocation.totals.fee|default:0|yuan }}|{{ p.allocation.totals.interest|default:0|yuan }}|\
{{ p.allocation.totals.principal|default:0|yuan }}|{% if p.allocation.credit %}\
{{ p.allocation.credit|yuan }}{% endif %}|{{ p.actor.display_name|default:p.actor.username }}|\
{% if p.reversed_at %}R{% endif %}"""
NEW_POSTING = """{{ p.received_on }}|{{ p.amount }}|{{ p.channel }}|{{ p.penalty }}|{{ p.fee }}|\
{{ p.interest }}|{{ p.principal }}|{{ p.credit }}|{{ p.actor }}|{% if p.reversed %}R{% endif %}"""


@pytest.mark.parametrize(
    "allocation",
    [
        {},
        {"totals": {"fee": 150, "principal": 123456789}, "credit": 200},
        {"totals": {"penalty": 0, "interest": None}, "credit": 0},
        {"totals": "odd", "credit": None},
        {"prepayment": True, "totals": {"interest": 1}},
    ],
)
def test_posting_rows(fin, allocation):  # noqa: F811
    fin.display_name = ""
    for channel, reversed_at in (("manual", None), ("statement", dt.datetime(2026, 3, 1))):
        p = Posting(
            pk=7,
            amount=Money("1234.56"),
            received_on=dt.date(2026, 2, 15),
            channel=channel,
            reference="<R1>",
            allocation=allocation,
            actor=fin,
            reversed_at=reversed_at,
        )
        (row,) = loan_page.posting_rows([p])
        assert row["pk"] == 7 and row["reference"] == "<R1>"
        assert _render(NEW_POSTING, p=row) == _render(OLD_POSTING, p=p)


OLD_JOURNAL = """{% load money %}{% for e in entries %}{% for line in e.lines.all %}\
<tr{% if forloop.first %} class="border-top"{% endif %}>\
<td>{% if forloop.first %}{{ e.business_date|date:"Y-m-d" }}{% endif %}</td>\
<td>{% if forloop.first %}{{ e.get_kind_display }}{% endif %}</td>\
<td>{{ line.account.code }} {{ line.account.name }}</td>\
<td>{% if line.debit.fen %}{{ line.debit.fen|yuan }}{% endif %}</td>\
<td>{% if line.credit.fen %}{{ line.credit.fen|yuan }}{% endif %}</td>\
<td>{% if forloop.first %}{{ e.memo }}{% endif %}</td></tr>{% endfor %}{% endfor %}"""
NEW_JOURNAL = """{% for line in journal %}<tr{% if line.first %} class="border-top"{% endif %}>\
<td>{{ line.date }}</td><td>{{ line.kind }}</td><td>{{ line.account }}</td>\
<td>{{ line.debit }}</td><td>{{ line.credit }}</td><td>{{ line.memo }}</td></tr>{% endfor %}"""


def test_journal_rows(fin, active_loan):  # noqa: F811
    loan = Loan.objects.get(pk=active_loan.pk)
    posting = services.repayment_post(
        loan=loan, amount=Money("10661.85"), received_on=dt.date(2026, 2, 15), actor=fin
    )
    services.posting_reverse(posting=posting, actor=fin, reason="错账 <x>")
    entries = list(selectors.loan_entries(loan))
    assert len(entries) >= 3
    with CaptureQueriesContext(connection) as ctx:
        has_entries, rows = loan_page.journal(loan)
    assert len(ctx.captured_queries) == 1 and has_entries
    assert sum(r["first"] for r in rows) == len(entries)
    assert _render(NEW_JOURNAL, journal=rows) == _render(OLD_JOURNAL, entries=entries)
    # an entry without lines still counts as an entry (the table is shown), and gives no row
    JournalEntry.objects.create(kind="adjustment", loan=loan, business_date=VALUE_DATE, memo="空")
    has_entries, again = loan_page.journal(loan)
    assert has_entries and again == rows
    assert loan_page.journal(Loan.objects.create(**_copy_terms(loan, number="L-X"))) == (
        False,
        [],
    )


def test_choice_label_is_get_display():
    loan = Loan(status="overdue", classification="doubtful", method="bullet")
    with translation.override("zh-hans"):
        for field in ("status", "classification", "method"):
            label = loan_page.choice_label(Loan, field, getattr(loan, field))
            assert label == getattr(loan, f"get_{field}_display")()
        assert loan_page.choice_label(Loan, "status", "nonsense") == "nonsense"
        assert loan_page.choice_label(Installment, "status", "paid") == "已还清"
    with translation.override("en"):
        assert loan_page.choice_label(Installment, "status", "paid") == str(
            Installment(status="paid").get_status_display()
        )


def test_upfront_fee_info_takes_the_first_installment(make_loan, fin, product_version):  # noqa: F811
    product_version.upfront_fee_rate = Decimal("1")
    product_version.upfront_fee_timing = "first_installment"
    product_version.save(update_fields=["upfront_fee_rate", "upfront_fee_timing"])
    loan = services.loan_disburse(loan=make_loan(), actor=fin, value_date=VALUE_DATE)
    for paid in (False, True):
        if paid:
            Installment.objects.filter(loan=loan, period=1).update(
                status="paid", paid_on=dt.date(2026, 2, 10)
            )
        _rows, first = loan_page.installment_rows(loan)
        with CaptureQueriesContext(connection) as ctx:
            given = upfront_fee_info(loan, first)
        assert not ctx.captured_queries
        assert given == upfront_fee_info(loan) and given["amount"] == 120_000
        assert ("2026-02-10" in given["status"]) is paid
    assert upfront_fee_info(loan, None)["status"] == ""  # no schedule: nothing to say


def test_loan_apr_only_is_the_disclosed_apr_without_the_lpr(active_loan):  # noqa: F811
    disclosure = loan_apr(active_loan)
    with CaptureQueriesContext(connection) as ctx:
        apr = loan_apr_only(active_loan)
    assert not ctx.captured_queries  # the 4 × LPR warning (the page shows none) reads the LPR
    assert (apr.percent_str, apr.effective_percent_str) == (
        disclosure.percent,
        disclosure.effective,
    )
    assert loan_apr_only(None) is None
    broken = SimpleNamespace(**{f: getattr(active_loan, f) for f in ("principal", "months")})
    broken.annual_rate, broken.method, broken.start_date = Decimal("12"), "nonsense", None
    broken.repayment_day, broken.upfront_fee = None, Money(0)
    broken.installment_fee, broken.upfront_fee_timing = Money(0), "disbursement"
    assert loan_apr_only(broken) is None


def test_loan_events_from_the_postings_read(fin, active_loan):  # noqa: F811
    loan = Loan.objects.get(pk=active_loan.pk)
    services.repayment_post(
        loan=loan, amount=Money("1000"), received_on=dt.date(2026, 2, 15), actor=fin
    )
    ids = [p.pk for p in selectors.loan_postings(loan)]
    expected = list(selectors.loan_events(loan))
    assert any(e.object_type == "lending.posting" for e in expected)
    with CaptureQueriesContext(connection) as ctx:
        assert list(selectors.loan_events(loan, ids)) == expected
    assert len(ctx.captured_queries) == 1


def test_loan_get_reads_the_relations_asked_for(am, active_loan):  # noqa: F811
    loan = selectors.loan_get(am, active_loan.pk, related=selectors.LOAN_PAGE_RELATED)
    with CaptureQueriesContext(connection) as ctx:
        names = (loan.customer.name, loan.owner.username, loan.product_version.product.name)
        assert loan.created_by.username and all(names)
    assert not ctx.captured_queries
    full = selectors.loan_get(am, active_loan.pk)
    assert full.team_id and full.branch_id
    with CaptureQueriesContext(connection) as ctx:
        assert (full.team, full.branch) == (full.team, full.branch)
    assert not ctx.captured_queries
    with CaptureQueriesContext(connection) as ctx:
        assert (loan.team, loan.branch) == (full.team, full.branch)
    assert len(ctx.captured_queries) == 2  # the page's read takes neither
