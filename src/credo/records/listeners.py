"""What custom records contribute to other apps' hooks: the loan page panel (the customer 360
and application pages include ``{% records_panel %}`` from ``records_panels``)."""

from credo.lending.panels import register_loan_panel
from credo.records.panels import loan_panel

register_loan_panel("records", loan_panel)
