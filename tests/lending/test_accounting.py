import csv
import datetime as dt
import io

import pytest

from credo.core.money import Money
from credo.lending import services
from credo.lending.accounting import HEADER, voucher_csv
from credo.lending.models import LedgerAccount
from tests.lending.conftest import VALUE_DATE

pytestmark = pytest.mark.django_db


def test_voucher_csv(make_loan, finance):
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    services.repayment_post(
        loan=loan, amount=Money("100.50"), received_on=dt.date(2026, 2, 20), actor=finance
    )
    LedgerAccount.objects.filter(code="cash").update(export_code="100201")
    text = voucher_csv(dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == HEADER
    body = rows[1:]
    # 放款 (principal, cash: the full principal) and the upfront fee's two 前置手续费 entries
    # (应收手续费 / 手续费收入, then 银行存款 / 应收手续费): no 砍头息 (issue 20 item 3)
    assert len(body) == 6
    lines = sorted((r[3], r[5], r[6]) for r in body)
    assert lines == [
        ("100201", "", "120000.00"),
        ("100201", "1200.00", ""),
        ("1221", "", "1200.00"),
        ("1221", "1200.00", ""),
        ("1303", "120000.00", ""),
        ("6021", "", "1200.00"),
    ]
    assert {r[0] for r in body} == {"2026-01-15"} and {r[7] for r in body} == {loan.number}
    debit = sum(Money(r[5]).fen for r in body if r[5])
    credit = sum(Money(r[6]).fen for r in body if r[6])
    assert debit == credit
    feb = list(csv.reader(io.StringIO(voucher_csv(dt.date(2026, 2, 1), dt.date(2026, 2, 28))[1:])))
    assert len(feb) == 1 + 2 and feb[1][2].startswith("还款")
    with pytest.raises(ValueError):
        voucher_csv(dt.date(2026, 2, 1), dt.date(2026, 1, 1))
