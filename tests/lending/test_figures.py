import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from credo.lending import services
from tests.lending.conftest import VALUE_DATE

pytestmark = pytest.mark.django_db


def test_customer_360_lists_loans_for_users_who_may_see_them(
    client, owner, manager_role, make_loan, finance, borrower
):
    manager_role.permissions.add(
        *Permission.objects.filter(content_type__app_label="customers", codename="view_customer")
    )
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    client.force_login(owner)
    url = reverse("customers:detail", args=[borrower.pk])
    assert loan.number not in client.get(url).content.decode()
    manager_role.permissions.add(Permission.objects.get(codename="view_loan"))
    body = client.get(url).content.decode()
    assert loan.number in body and "¥120,000.00" in body  # loan row + key figure
