from __future__ import annotations

from django.urls import path

from credo.contracts import views

app_name = "contracts"
urlpatterns = [
    path("<int:pk>/", views.contract_detail, name="detail"),
    path("<int:pk>/pdf/", views.contract_pdf, name="pdf"),
    path("<int:pk>/send/", views.contract_send, name="send"),
    path("<int:pk>/signed-pdf/", views.contract_signed_pdf, name="signed_pdf"),
    path("<int:pk>/signer-url/", views.contract_signer_url, name="signer_url"),
    path("<int:pk>/simulate/", views.contract_simulate, name="simulate"),
    path("<int:pk>/cancel/", views.contract_cancel, name="cancel"),
    path("templates/", views.template_list, name="template_list"),
    path("templates/<slug:code>/", views.template_edit, name="template_edit"),
]
