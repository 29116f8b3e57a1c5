"""Borrower self-service (H5) URL space, mounted at /b/ — nothing here is a staff page."""

from __future__ import annotations

from django.urls import path

from credo.borrower import views

app_name = "borrower"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("privacy/", views.privacy, name="privacy"),
    path("privacy/marketing/withdraw/", views.marketing_withdraw, name="marketing_withdraw"),
    path("loans/<int:pk>/", views.loan_detail, name="loan"),
    path("loans/<int:pk>/statement.pdf", views.statement_pdf, name="statement"),
    path("loans/<int:pk>/prepay/", views.prepay, name="prepay"),
    path("repay/", views.repay, name="repay"),
    path("payments/", views.payments, name="payments"),
    path("contracts/", views.contracts, name="contracts"),
    path("contracts/<int:pk>/pdf/", views.contract_pdf, name="contract_pdf"),
    path("applications/<int:pk>/", views.application, name="application"),
    path("renewal/", views.renewal, name="renewal"),
]
