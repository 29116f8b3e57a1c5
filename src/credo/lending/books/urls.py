"""URLs of the books (namespace ``lending:books``)."""

from django.urls import path

from credo.lending.books import views

app_name = "books"
urlpatterns = [
    path("periods/", views.period_list, name="periods"),
    path("periods/<str:month>/close/", views.period_close, name="period_close"),
    path("periods/<str:month>/reopen/", views.period_reopen_request, name="period_reopen_request"),
    path(
        "periods/<str:month>/reopen/approve/",
        views.period_reopen_approve,
        name="period_reopen_approve",
    ),
    path(
        "periods/<str:month>/reopen/reject/",
        views.period_reopen_reject,
        name="period_reopen_reject",
    ),
    path("trial-balance/", views.trial_balance, name="trial_balance"),
    path("ledger/<slug:code>/", views.general_ledger, name="general_ledger"),
    path("vouchers/", views.voucher_export, name="vouchers"),
    path("vouchers/mapping/", views.voucher_mapping, name="voucher_mapping"),
]
