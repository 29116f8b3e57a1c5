import datetime as dt
import io

import pytest
from django.urls import include, path

from credo.core.money import Money
from credo.lending import ledger, services, statements
from credo.lending.errors import InvalidState
from credo.lending.models import Posting, StatementLine
from credo.urls import urlpatterns as base_urlpatterns
from tests.lending.conftest import VALUE_DATE

pytestmark = pytest.mark.django_db

# The lead mounts statement_urls at /lending/statements/; until then tests use this urlconf.
urlpatterns = [
    path("lending/statements/", include("credo.lending.statements.urls")),
    *base_urlpatterns,
]
URLS = "tests.lending.test_statements"


@pytest.fixture
def loan(make_loan, finance):
    return services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)


def _csv(loan_number: str, encoding: str = "utf-8-sig") -> bytes:
    text = (
        "工商银行 账户明细\n"
        "交易日期,贷方发生额,对方户名,对方账号,摘要,附言,流水号\n"
        f'2026-02-15,"10,661.85",某某公司,6222000011112222,还款,{loan_number} 二月,T001\n'
        "2026/02/16,500.00,不认识的人,6222000099990000,转账,,T002\n"
        "2026-02-16,,支出,,,,T003\n"
        "20260217,300.00,太原借款企业有限公司,,货款,,T004\n"
    )
    return text.encode(encoding)


def test_parse_and_match(loan, finance):
    st = statements.statement_import(data=_csv(loan.number), filename="b.csv", actor=finance)
    lines = {ln.bank_txn_id: ln for ln in st.lines.all()}
    assert set(lines) == {"T001", "T002", "T004"}
    assert st.counts["skipped"] == 1
    t1 = lines["T001"]
    assert t1.status == "matched" and t1.loan == loan and t1.match_reason == "贷款编号"
    assert t1.amount == Money("10661.85") and t1.txn_date == dt.date(2026, 2, 15)
    assert t1.reference == f"还款 {loan.number} 二月"
    assert lines["T002"].status == "unmatched" and lines["T002"].txn_date == dt.date(2026, 2, 16)
    assert lines["T004"].status == "matched" and lines["T004"].match_reason == "户名"
    assert st.counts["matched"] == 2 and st.counts["unmatched"] == 1


def test_gbk_and_xlsx(loan, finance):
    st = statements.statement_import(
        data=_csv(loan.number, "gbk"), filename="gbk.csv", actor=finance
    )
    assert st.lines.filter(status="matched").count() == 2
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["交易日期", "金额", "对方户名", "摘要/附言", "流水号"])
    ws.append([dt.datetime(2026, 3, 1, 10, 5), 1234.5, "某人", f"还{loan.number}", "X1"])
    buf = io.BytesIO()
    wb.save(buf)
    st2 = statements.statement_import(data=buf.getvalue(), filename="a.xlsx", actor=finance)
    line = st2.lines.get()
    assert line.amount == Money("1234.50") and line.status == "matched"


def test_bad_file(finance):
    with pytest.raises(statements.StatementFileError, match="交易日期"):
        statements.statement_import(data=b"a,b\n1,2\n", filename="x.csv", actor=finance)
    with pytest.raises(statements.StatementFileError):
        statements.statement_import(data=b"xx", filename="x.pdf", actor=finance)


def test_post_matched_duplicates_and_manual(loan, finance):
    st = statements.statement_import(data=_csv(loan.number), filename="b.csv", actor=finance)
    result = statements.post_matched(statement=st, actor=finance)
    assert result["posted"] == 2 and not result["errors"]
    assert Posting.objects.filter(loan=loan, channel="statement").count() == 2
    t1 = st.lines.get(bank_txn_id="T001")
    assert t1.status == "posted" and t1.posting.idempotency_key == "stmt:T001"
    # posting again does nothing
    assert statements.post_matched(statement=st, actor=finance)["posted"] == 0
    # the same file again: already known 流水号 → ignored
    st2 = statements.statement_import(data=_csv(loan.number), filename="b.csv", actor=finance)
    assert set(st2.lines.values_list("status", flat=True)) == {"ignored"}
    # manual match of the unmatched line, then post it
    t2 = st.lines.get(bank_txn_id="T002")
    statements.line_match(line=t2, loan=loan, actor=finance)
    statements.line_post(line=t2, actor=finance)
    t2.refresh_from_db()
    assert t2.status == "posted" and t2.match_reason == "手工匹配"
    assert Posting.objects.filter(loan=loan).count() == 3
    with pytest.raises(InvalidState):
        statements.line_ignore(line=t2, actor=finance)
    assert ledger.verify().ok


@pytest.mark.urls(URLS)
def test_pages(client, loan, finance, owner):
    client.force_login(owner)
    assert client.get("/lending/statements/").status_code == 403
    client.force_login(finance)
    listing = client.get("/lending/statements/")
    assert listing.status_code == 200
    assert "/api/v1/lending/accounting/vouchers" in listing.content.decode()
    csv_resp = client.get("/api/v1/lending/accounting/vouchers?from=2026-01-01&to=2026-01-31")
    assert csv_resp.status_code == 200 and "凭证号" in csv_resp.content.decode()
    upload = io.BytesIO(_csv(loan.number))
    upload.name = "bank.csv"
    resp = client.post("/lending/statements/", {"file": upload})
    assert resp.status_code == 302
    detail = resp["Location"]
    page = client.get(detail).content.decode()
    assert "T001" in page and "T002" in page and "入账" in page
    st_pk = int(detail.rstrip("/").split("/")[-1])
    unmatched = StatementLine.objects.get(statement_id=st_pk, bank_txn_id="T002")
    resp = client.post(
        f"/lending/statements/lines/{unmatched.pk}/match/", {"loan_number": "L000000000000"}
    )
    unmatched.refresh_from_db()
    assert unmatched.status == "unmatched"
    client.post(
        f"/lending/statements/lines/{unmatched.pk}/match/", {"loan_number": loan.number.lower()}
    )
    unmatched.refresh_from_db()
    assert unmatched.status == "matched"
    resp = client.post(f"/lending/statements/{st_pk}/post/")
    assert resp.status_code == 302
    assert StatementLine.objects.filter(statement_id=st_pk, status="posted").count() == 3
    ignored = StatementLine.objects.filter(statement_id=st_pk).first()
    client.post(f"/lending/statements/lines/{ignored.pk}/ignore/")


def test_direction_column_skips_debits(loan, finance):
    text = (
        "交易日期,交易金额,借贷标志,对方户名,附言,流水号\n"
        f"2026-02-15,100.00,借,某人,{loan.number},D1\n"
        f"2026-02-15,200.00,贷,某人,{loan.number},C1\n"
    )
    st = statements.statement_import(data=text.encode(), filename="d.csv", actor=finance)
    assert list(st.lines.values_list("bank_txn_id", flat=True)) == ["C1"]
    assert st.counts["skipped"] == 1


def test_match_by_payer_account_through_blind_index(loan, finance):
    customer = loan.customer
    customer.bank_account = "6222 0000 3333 4444"
    customer.save()
    assert customer.bank_account_bidx  # computed on save, never the clear number
    assert "6222" not in customer.bank_account_bidx
    text = (
        "交易日期,贷方发生额,对方户名,对方账号,摘要,流水号\n"
        "2026-02-15,800.00,代付人,6222000033334444,代还,A1\n"
        "2026-02-15,800.00,代付人,6222000033339999,代还,A2\n"
    )
    st = statements.statement_import(data=text.encode(), filename="c.csv", actor=finance)
    lines = {ln.bank_txn_id: ln for ln in st.lines.all()}
    assert lines["A1"].status == "matched" and lines["A1"].loan == loan
    assert lines["A1"].match_reason == "付款账号"
    assert lines["A2"].status == "unmatched"
