from django.urls import path

from . import (
    audit_views,
    catalog_pay_views,
    catalog_views,
    customer_views,
    dashboard_views,
    esim_views,
    report_views,
    views,
    webhook_views,
)

app_name = "backoffice"

urlpatterns = [
    path("audit/", audit_views.audit_view, name="audit"),
    path("audit/<int:pk>/", audit_views.audit_detail_view, name="audit_detail"),
    path("", dashboard_views.index, name="index"),
    path("auto-renew/attention/", dashboard_views.autorenew_attention_view, name="autorenew_attention"),
    path("ledger/trial-balance/", views.trial_balance_view, name="trial_balance"),
    path("customers/<int:pk>/statement/", views.statement_view, name="statement"),
    path("orders/<int:pk>/refund/", views.refund_view, name="refund"),
    path("vouchers/", views.vouchers_view, name="vouchers"),
    path("esim/inventory/", esim_views.esim_inventory_view, name="esim_inventory"),
    path("api-keys/", views.apikeys_view, name="apikeys"),
    path("webhooks/", webhook_views.webhooks_view, name="webhooks"),
    path("webhooks/<int:pk>/delete/", webhook_views.webhook_delete_view, name="webhook_delete"),
    path("provider-events/", views.provider_events_view, name="provider_events"),
    path("provider-events/<int:pk>/replay/", views.provider_event_replay, name="provider_event_replay"),
    path("vouchers/generate/", views.vouchers_generate, name="vouchers_generate"),
    path("vouchers/import/", views.vouchers_import, name="vouchers_import"),
    path("vouchers/void/", views.vouchers_void, name="vouchers_void"),
    path("entries/<uuid:entry_id>/correct/", views.entry_correct_view, name="entry_correct"),
    path("promotions/", views.promotions_view, name="promotions"),
    path("promotions/new/", views.promotion_create_view, name="promotion_create"),
    path("promotions/<int:pk>/", views.promotion_detail_view, name="promotion_detail"),
    path("promotions/<int:pk>/edit/", views.promotion_edit_view, name="promotion_edit"),
    path("promotions/<int:pk>/pause/", views.promotion_pause, name="promotion_pause"),
    path("promotions/<int:pk>/resume/", views.promotion_resume, name="promotion_resume"),
]

# Reports.
urlpatterns += [
    path("reports/", report_views.reports_view, name="reports"),
    path("reports/<slug:name>.csv", report_views.report_csv, name="report_csv"),
]

# The customer 360.
urlpatterns += [
    path("customers/", customer_views.customers_search, name="customers"),
    path("customers/<int:pk>/", customer_views.customer_view, name="customer"),
    path(
        "customers/<int:pk>/lines/<int:line_pk>/auto-renew/",
        customer_views.customer_autorenew,
        name="customer_autorenew",
    ),
    path("customers/<int:pk>/lines/<int:line_pk>/esim/", customer_views.customer_esim_reissue, name="customer_esim"),
    path(
        "customers/<int:pk>/lines/<int:line_pk>/goodwill/",
        customer_views.customer_goodwill,
        name="customer_goodwill",
    ),
    path("customers/<int:pk>/buckets/<int:bucket_pk>/", customer_views.customer_bucket, name="customer_bucket"),
    path(
        "customers/<int:pk>/orders/<int:order_pk>/resend/",
        customer_views.customer_resend_receipt,
        name="customer_resend",
    ),
]

# Catalog.
urlpatterns += [
    path("catalog/", catalog_views.catalog_view, name="catalog"),
    path("catalog/markets/<int:pk>/", catalog_views.market_settings_view, name="catalog_market"),
    path(
        "catalog/markets/<int:pk>/ways-to-pay/", catalog_pay_views.market_pay_methods_view, name="catalog_pay_methods"
    ),
    path("catalog/plans/<int:pk>/", catalog_views.plan_settings_view, name="catalog_plan"),
    path("catalog/plans/<int:pk>/prices/new/", catalog_views.plan_price_view, name="catalog_price"),
]
