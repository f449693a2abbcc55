from django.contrib import admin

from refill.audit.admin import ReadOnlyMixin
from refill.payments.models import Payment

from .models import Order, OrderItem, Receipt


class OrderItemInline(ReadOnlyMixin, admin.TabularInline):
    model = OrderItem
    extra = 0


class PaymentInline(ReadOnlyMixin, admin.TabularInline):
    model = Payment
    extra = 0
    fields = ["status", "amount", "currency", "gateway", "card_brand", "card_last4", "decline_code", "created_at"]


@admin.register(Order)
class OrderAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["pk", "customer", "line", "status", "total", "currency", "created_at", "paid_at"]
    list_filter = ["status", "currency"]
    search_fields = ["line__msisdn", "idempotency_key"]
    inlines = [OrderItemInline, PaymentInline]


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["display_number", "order", "total", "currency", "issued_at"]
    list_filter = ["series"]
