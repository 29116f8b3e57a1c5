from django.urls import path

from credo.fieldwork import views

app_name = "fieldwork"

urlpatterns = [
    path("inspections/", views.inspection_list, name="inspection_list"),
    path("inspections/<int:pk>/", views.inspection_detail, name="inspection_detail"),
    path("inspections/<int:pk>/form/", views.inspection_form, name="inspection_form"),
    path("visits/", views.visit_list, name="visit_list"),
    path("visits/new/", views.visit_form, name="visit_form"),
    path("visits/<int:pk>/", views.visit_detail, name="visit_detail"),
    path("photos/<int:pk>/", views.photo, name="photo"),
    path("sites/", views.site_set, name="site_set"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="sw"),
    path("offline/", views.offline, name="offline"),
    path("icons/<int:size>.png", views.icon, name="icon"),
]
