from django.urls import path

from credo.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.CredoLoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("2fa/verify/", views.otp_verify, name="otp_verify"),
    path("2fa/setup/", views.otp_setup, name="otp_setup"),
]
