from __future__ import annotations

from django.urls import include, path, re_path

from credo.api.api import api
from credo.api.views import api_not_found

urlpatterns = [
    path("", include("credo.core.urls")),
    path("accounts/", include("credo.accounts.urls")),
    path("audit/", include("credo.core.audit.urls")),
    path("system/tasks/", include("credo.core.scheduling.urls")),
    path("system/api/", include("credo.api.urls")),
    path("todo/", include("credo.core.todo.urls")),
    path("customers/", include("credo.customers.urls")),
    path("lending/statements/", include("credo.lending.statements.urls")),
    path("lending/eod/", include("credo.lending.eod.urls")),
    path("lending/", include("credo.lending.urls")),
    path("collateral/", include("credo.collateral.urls")),
    path("rules/", include("credo.rules.urls")),
    path("leads/", include("credo.leads.urls")),
    path("approvals/", include("credo.approvals.urls")),
    path("origination/credit-report/", include("credo.origination.credit_report_urls")),
    path("origination/", include("credo.origination.urls")),
    path("portal/", include("credo.origination.portal_urls")),
    path("b/", include("credo.borrower.urls")),  # 借款人自助服务 (H5), own session
    path("borrower-requests/", include("credo.borrower.staff_urls")),
    path("forms/", include("credo.leads.public_urls")),
    path("contracts/", include("credo.contracts.urls")),
    path("notify/", include("credo.notify.urls")),
    path("monitoring/", include("credo.monitoring.urls")),
    path("collections/", include("credo.collections.urls")),
    path("reports/", include("credo.reports.urls")),
    path("scorecard/", include("credo.scorecard.urls")),
    path("privacy/", include("credo.privacy.urls")),
    path("creditreport/", include("credo.creditreport.urls")),
    path("fieldwork/", include("credo.fieldwork.urls")),
    path("system/fields/", include("credo.core.customfields.urls")),
    path("automations/", include("credo.automations.urls")),
    path("system/webhooks/", include("credo.webhooks.urls")),
    path("records/", include("credo.records.urls")),
    path("imapps/", include("credo.imapps.urls")),
    path("ocr/", include("credo.ocr.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    re_path(r"^api/", api_not_found),
]

handler403 = "credo.core.views.error_403"
handler404 = "credo.core.views.error_404"
handler500 = "credo.core.views.error_500"
