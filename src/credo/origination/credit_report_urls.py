from __future__ import annotations

from django.urls import path

from credo.origination import credit_report_views as views

app_name = "credit_report"
urlpatterns = [
    path("<int:customer_pk>/", views.credit_report_page, name="page"),
    path("<int:customer_pk>/pdf/", views.credit_report_pdf, name="pdf"),
]
