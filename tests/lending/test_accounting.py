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
    assert len(body) == 3  # disbursement: principal, cash, fee income
    by_code = {r[3]: r for r in body}
    assert by_code["1303"][5] == "120000.00" and by_code["1303"][6] == ""
    assert by_code["100201"][6] == "118800.00"
    assert by_code["6021"][6] == "1200.00"
    assert {r[0] for r in body} == {"2026-01-15"} and {r[7] for r in body} == {loan.number}
    debit = sum(Money(r[5]).fen for r in body if r[5])
    credit = sum(Money(r[6]).fen for r in body if r[6])
    assert debit == credit
    feb = list(csv.reader(io.StringIO(voucher_csv(dt.date(2026, 2, 1), dt.date(2026, 2, 28))[1:])))
    assert len(feb) == 1 + 2 and feb[1][2].startswith("还款")
    with pytest.raises(ValueError):
        voucher_csv(dt.date(2026, 2, 1), dt.date(2026, 1, 1))
