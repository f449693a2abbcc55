from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from refill.api.v1 import api as api_v1
from refill.customers.views import app_signup_closed
from refill.esim.views import handle_download_progress_info
from refill.ops import views as ops_views
from refill.payments.sandbox_views import sandbox_confirm
from refill.payments.webhook_views import provider_webhook
from refill.payments.wellknown_views import apple_pay_domain_association

urlpatterns = [
    path("healthz", ops_views.healthz, name="healthz"),
    path("readyz", ops_views.readyz, name="readyz"),
    path("api/v1/", api_v1.urls),
    path("sandbox/confirm/<str:reference>/", sandbox_confirm, name="sandbox_confirm"),
    path("webhooks/payments/<str:gateway_name>/", provider_webhook, name="provider_webhook"),
    path(
        ".well-known/apple-developer-merchantid-domain-association",
        apple_pay_domain_association,
        name="apple_pay_domain_association",
    ),
    path(
        "gsma/rsp2/es2plus/handleDownloadProgressInfo",
        handle_download_progress_info,
        name="esim_download_progress",
    ),
    path("accounts/", include("allauth.urls")),
    # Before allauth's own: registration is on the web only (refill.customers.views).
    path("_allauth/<str:client>/v1/auth/signup", app_signup_closed, name="app_signup_closed"),
    path("_allauth/", include("allauth.headless.urls")),
    # Staff log in on Refill's own page, where allauth asks for their second factor in the same
    # flow; the admin's password-only form would leave them to enter the code on a page of its own.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="account_login", query_string=True),
        name="admin_login_to_refill",
    ),
    path("admin/", admin.site.urls),
    path("backoffice/help/", include("refill.help.backoffice_urls")),
    path("backoffice/support/", include("refill.support.backoffice_urls")),
    path("backoffice/", include("refill.backoffice.urls")),
    path("agent/", include("refill.agentdesk.urls")),
    path("fleet/", include("refill.fleets.urls")),
    path("help/", include("refill.help.urls")),
    path("support/", include("refill.support.urls")),
    path("", include("refill.portal.urls")),
]
