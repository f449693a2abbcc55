"""Public API v1 (docs/api.md): one NinjaAPI, mounting the router of each app that owns a resource.
Errors are RFC 9457 problem details with a stable ``code`` and a ``detail`` translated by
Accept-Language (refill.api.errors).

To add an endpoint, open the owning app's ``api.py`` (``refill/<app>/api.py``); a new app's router
is mounted below. What routers share lives beside this module: callers and scopes (``auth``),
the objects a caller reaches (``owned``), pagination, idempotency keys, declines, schemas, types."""

from __future__ import annotations

from ninja.openapi.docs import Swagger

from refill.catalog.api import router as catalog_router
from refill.esim.api import router as esim_router
from refill.lines.api import router as lines_router
from refill.orders.api import router as orders_router
from refill.payments.api import router as payments_router
from refill.renewals.api import router as renewals_router
from refill.subscriptions.api import router as subscriptions_router
from refill.vouchers.api import router as vouchers_router

from .auth import CUSTOMERS
from .errors import exception_handlers_add
from .openapi import RefillAPI
from .problems import RefusingParser

api = RefillAPI(
    parser=RefusingParser(),
    title="Refill API",
    version="1",
    urls_namespace="api-v1",
    auth=CUSTOMERS,
    docs_url="/docs",
    # Swagger UI from ninja's own static files ("ninja" in INSTALLED_APPS), not a CDN: Refill's
    # CSP allows only 'self', and the docs are read offline too. No validator.swagger.io badge.
    docs=Swagger(settings={"validatorUrl": None}),
    openapi_url="/openapi.json",
)
exception_handlers_add(api)

# Each router holds its full paths (a line's eSIM, usage and auto-renew live under /lines/ in the
# apps that own them). The order is the OpenAPI document's, and Swagger UI's.
for router in (
    vouchers_router,
    payments_router,
    orders_router,
    renewals_router,
    catalog_router,
    lines_router,
    esim_router,
    subscriptions_router,
):
    api.add_router("", router)
