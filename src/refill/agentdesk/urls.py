from django.urls import path

from . import views

app_name = "agentdesk"

urlpatterns = [
    path("", views.desk, name="desk"),
    path("lines/<int:pk>/cash/", views.cash_topup, name="cash_topup"),
    path("lines/<int:pk>/pin/", views.redeem_pin, name="redeem_pin"),
    path("lines/<int:pk>/auto-renew/", views.auto_renew, name="auto_renew"),
]
