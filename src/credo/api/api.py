"""The REST API, mounted at /api/v1/.

Every operation requires a bearer token or a browser session unless it says ``auth=None``;
every error has the body ``{"code", "message", "details"}`` (see ``credo.api.errors``).
"""

from __future__ import annotations

import json
from typing import Any, cast

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from ninja import NinjaAPI
from ninja.parser import Parser

from credo.api.auth import default_auth
from credo.api.errors import BodyNotAnObject, install_error_handlers
from credo.api.routers.approvals import router as approvals_router
from credo.api.routers.automations import router as automations_router
from credo.api.routers.collateral import router as collateral_router
from credo.api.routers.collections import router as collections_router
from credo.api.routers.contracts import router as contracts_router
from credo.api.routers.core import router as core_router
from credo.api.routers.customers import router as customers_router
from credo.api.routers.imapps import router as imapps_router
from credo.api.routers.leads import router as leads_router
from credo.api.routers.lending import router as lending_router
from credo.api.routers.monitoring import router as monitoring_router
from credo.api.routers.notify import router as notify_router
from credo.api.routers.ocr import router as ocr_router
from credo.api.routers.origination import router as origination_router
from credo.api.routers.records import router as records_router
from credo.api.routers.reports import router as reports_router
from credo.api.routers.rules import router as rules_router
from credo.api.routers.scorecard import router as scorecard_router
from credo.api.routers.webhooks import router as webhooks_router


class ObjectBodyParser(Parser):
    """Every JSON body of this API is an object; anything else is refused (422, see
    ``credo.api.errors.BodyNotAnObject``) before a schema could read defaults off it."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = json.loads(request.body)
        if not isinstance(data, dict):
            raise BodyNotAnObject(type(data).__name__)
        return cast(dict[str, Any], data)


api = NinjaAPI(
    title="Credo API",
    version="1",
    urls_namespace="api",
    auth=default_auth,
    parser=ObjectBodyParser(),
    docs_url=None,  # ninja's docs page loads from a CDN; ours is self-hosted (apiui:docs)
    description="Credo 信贷客户管理系统开放接口。认证：`Authorization: Bearer credo_<前缀>_<密钥>`。",
)
install_error_handlers(api)
api.add_router("", core_router)
api.add_router("/customers", customers_router)
api.add_router("/lending", lending_router)
api.add_router("/collateral", collateral_router)
api.add_router("/rules", rules_router)
api.add_router("/leads", leads_router)
api.add_router("/approvals", approvals_router)
api.add_router("/origination", origination_router)
api.add_router("/contracts", contracts_router)
api.add_router("/notify", notify_router)
api.add_router("/monitoring", monitoring_router)
api.add_router("/collections", collections_router)
api.add_router("/reports", reports_router)
api.add_router("/scorecard", scorecard_router)
api.add_router("/automations", automations_router)
api.add_router("/webhooks", webhooks_router)
api.add_router("/records", records_router)
api.add_router("/imapps", imapps_router)
api.add_router("/ocr", ocr_router)


@api.get("/docs", auth=None, include_in_schema=False)
def docs_redirect(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(reverse("apiui:docs"))
