"""What contracts contributes to other apps' hooks: the value-date floor of a loan (a loan
originated from a contract's subject may not be value-dated before the contract was signed)."""

from credo.contracts.selectors import loan_value_date_floors
from credo.lending.selectors import register_value_date_floor

register_value_date_floor(loan_value_date_floors)
