from django.urls import path

from credo.core.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.audit_log, name="log"),
    path("entry/<int:pk>/", views.audit_detail, name="detail"),
    # the chain position of a sealed row (links written before rows were sealed later)
    path("<int:seq>/", views.audit_detail_by_seq, name="detail_seq"),
]
