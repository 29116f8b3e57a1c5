"""What lending shows on the customer 360 page: key figures and the customer's loans."""

from credo.customers.selectors import register_business_provider, register_figure_provider
from credo.lending.figures import customer_figures, customer_loans

register_figure_provider(customer_figures)
register_business_provider(customer_loans)
