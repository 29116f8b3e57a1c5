from django.urls import path

from credo.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.CredoLoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("2fa/verify/", views.otp_verify, name="otp_verify"),
    path("2fa/setup/", views.otp_setup, name="otp_setup"),
    path("2fa/disable/", views.otp_disable, name="otp_disable"),
    path("profile/", views.profile, name="profile"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_edit, name="user_edit"),
    path("roles/", views.role_list, name="role_list"),
    path("roles/new/", views.role_create, name="role_create"),
    path("roles/<int:pk>/", views.role_edit, name="role_edit"),
    path("field-permissions/", views.field_permissions, name="field_permissions"),
    path("org-units/", views.orgunit_list, name="orgunit_list"),
    path("org-units/new/", views.orgunit_create, name="orgunit_create"),
    path("org-units/<int:pk>/", views.orgunit_edit, name="orgunit_edit"),
]
