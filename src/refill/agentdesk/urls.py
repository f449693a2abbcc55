from django.urls import path

from . import sale_views, views

app_name = "agentdesk"

urlpatterns = [
    path("", views.desk, name="desk"),
    path("done/", views.finish, name="finish"),
    path("lines/<int:pk>/verify/pin/", views.verify_pin, name="verify_pin"),
    path("lines/<int:pk>/verify/send-code/", views.send_code, name="send_code"),
    path("lines/<int:pk>/verify/code/", views.verify_code, name="verify_code"),
    path("lines/<int:pk>/renew/", sale_views.renew, name="renew"),
    path("lines/<int:pk>/renew/price/", sale_views.renew_quote, name="renew_quote"),
    path("lines/<int:pk>/addon/", sale_views.sell_addon, name="addon"),
    path("lines/<int:pk>/addon/price/", sale_views.addon_price, name="addon_price"),
    path("lines/<int:pk>/cash/", views.cash_topup, name="cash_topup"),
    path("lines/<int:pk>/pin/", views.redeem_pin, name="redeem_pin"),
    path("lines/<int:pk>/auto-renew/", views.auto_renew, name="auto_renew"),
    path("orders/<int:pk>/receipt/", views.receipt, name="receipt"),
    path("orders/<int:pk>/receipt/a4/", views.receipt, {"layout": "a4"}, name="receipt_a4"),
    path("orders/<int:pk>/receipt.pdf", views.receipt_pdf, name="receipt_pdf"),
    path("drawer/", views.drawer, name="drawer"),
    path("drawer/closes/", views.drawer_closes, name="drawer_closes"),
    path("drawer/closes/<int:pk>/", views.drawer_close_detail, name="drawer_close_detail"),
    path("commission/", views.commission, name="commission"),
]
