from django.contrib import admin

from .models import Market, Plan, PlanPrice


@admin.register(Market)
class MarketAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "currency", "time_zone", "tax_rate", "tax_inclusive", "grace_days"]


class PlanPriceInline(admin.TabularInline):
    model = PlanPrice
    extra = 0

    def get_readonly_fields(self, request, obj=None):
        # Versions are added, not edited: a sold price must stay what it was.
        return ["version", "currency", "amount", "valid_from"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "market", "kind", "validity_kind", "validity_count", "is_active"]
    list_filter = ["market", "kind", "is_active"]
    search_fields = ["code", "name_en", "name_zh_hans"]
    inlines = [PlanPriceInline]


@admin.register(PlanPrice)
class PlanPriceAdmin(admin.ModelAdmin):
    list_display = ["plan", "version", "currency", "amount", "valid_from", "valid_until"]
    list_filter = ["currency"]

    def get_readonly_fields(self, request, obj=None):
        return ["plan", "version", "currency", "amount"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False
