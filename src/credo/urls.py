from __future__ import annotations

from django.urls import include, path

from credo.api.api import api

urlpatterns = [
    path("", include("credo.core.urls")),
    path("accounts/", include("credo.accounts.urls")),
    path("audit/", include("credo.core.audit.urls")),
    path("system/tasks/", include("credo.core.scheduling.urls")),
    path("system/api/", include("credo.api.urls")),
    path("todo/", include("credo.core.todo.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
]

handler403 = "credo.core.views.error_403"
handler404 = "credo.core.views.error_404"
handler500 = "credo.core.views.error_500"
