from django.urls import path

from credo.customers import io_views, provider_views, views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("import/", io_views.import_upload, name="import"),
    path("import/preview/", io_views.import_preview, name="import_preview"),
    path("import/confirm/", io_views.import_confirm, name="import_confirm"),
    path("import/template.xlsx", io_views.import_template, name="import_template"),
    path("export.xlsx", io_views.export, name="export"),
    path("providers/", provider_views.provider_list, name="provider_list"),
    path("providers/new/", provider_views.provider_edit, name="provider_create"),
    path("providers/<int:pk>/", provider_views.provider_edit, name="provider_edit"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/timeline/", views.customer_timeline, name="timeline"),
    path("<int:pk>/reveal/<str:field>/", views.customer_reveal, name="reveal"),
    path("<int:pk>/relations/add/", views.relation_add, name="relation_add"),
    path("<int:pk>/relations/<int:rel_pk>/remove/", views.relation_remove, name="relation_remove"),
    path("<int:pk>/contacts/add/", views.contact_add, name="contact_add"),
    path("<int:pk>/authorizations/add/", views.authorization_add, name="authorization_add"),
    path("<int:pk>/pull/<str:kind>/", views.external_pull_view, name="pull"),
    path("<int:pk>/pulls/<int:pull_pk>/", views.pull_detail, name="pull_detail"),
]
