from django.urls import path

from . import (
    account_views,
    addon_views,
    esim_views,
    order_views,
    payment_qr,
    refill_views,
    renew_views,
    views,
    wallet,
)

app_name = "portal"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("lines/", views.home, name="home"),
    path("lines/<int:pk>/renew/", renew_views.renew, name="renew"),
    path("lines/<int:pk>/renew/quote/", renew_views.renew_quote, name="renew_quote"),
    path("lines/<int:pk>/addons/", addon_views.addons, name="addons"),
    path("lines/<int:pk>/addons/quote/", addon_views.addon_quote_panel, name="addon_quote"),
    path("lines/<int:pk>/auto-renew/", views.auto_renew, name="auto_renew"),
    path("lines/new/", esim_views.line_new, name="line_new"),
    path("lines/<int:pk>/esim/", esim_views.esim, name="esim"),
    path("lines/<int:pk>/esim/status/", esim_views.esim_status, name="esim_status"),
    path("lines/<int:pk>/esim/qr.png", esim_views.esim_qr, name="esim_qr"),
    path("lines/<int:pk>/esim/reinstall/", esim_views.esim_reinstall, name="esim_reinstall"),
    path("lines/<int:pk>/esim/refund/", esim_views.esim_refund, name="esim_refund"),
    path("orders/", order_views.order_list, name="orders"),
    path("orders/<int:pk>/", order_views.order_detail, name="order_detail"),
    path("orders/<int:pk>/confirmation/", order_views.order_confirmation, name="order_confirmation"),
    path("orders/<int:pk>/receipt.pdf", order_views.order_receipt_pdf, name="order_receipt_pdf"),
    path(
        "orders/<int:pk>/credit-notes/<int:note>.pdf", order_views.order_credit_note_pdf, name="order_credit_note_pdf"
    ),
    path("orders/<int:pk>/payment-return/", order_views.payment_return, name="payment_return"),
    path("orders/<int:pk>/payment-status/", payment_qr.payment_status, name="payment_status"),
    path("orders/<int:pk>/payment-cancel/", payment_qr.payment_cancel, name="payment_cancel"),
    path("refills/<str:token>/", order_views.gift_return, name="gift_return"),
    path("refills/<str:token>/payment-status/", payment_qr.gift_payment_status, name="gift_payment_status"),
    path("refills/<str:token>/payment-cancel/", payment_qr.gift_payment_cancel, name="gift_payment_cancel"),
    path("refill/", refill_views.refill_start, name="refill_start"),
    path("refill/pay/", refill_views.refill_pay, name="refill_pay"),
    path("refill/pay-label/", refill_views.refill_pay_label, name="refill_pay_label"),
    path("refill/again/<str:token>/", refill_views.refill_again, name="refill_again"),
    path("refill/to/<str:number>/", refill_views.refill_to, name="refill_to"),
    path("wallet/", wallet.wallet, name="wallet"),
    path("payment-methods/", account_views.payment_methods, name="payment_methods"),
    path("wallet/redeem/", account_views.redeem, name="redeem"),
    path("preferences/", account_views.preferences, name="preferences"),
    path("language/", account_views.set_language, name="set_language"),
    path("preferences/privacy/", account_views.privacy, name="privacy"),
    path("preferences/privacy/export/", account_views.privacy_export, name="privacy_export"),
    path("preferences/privacy/delete/", account_views.privacy_erase, name="privacy_erase"),
]
