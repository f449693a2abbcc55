from django.contrib import admin

from .models import CommissionRate, DrawerClose, Shop, ShopAgent


class ShopAgentInline(admin.TabularInline):
    model = ShopAgent
    raw_id_fields = ["user"]
    extra = 0


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "market", "active"]
    list_filter = ["market", "active"]
    search_fields = ["code", "name"]
    inlines = [ShopAgentInline]


@admin.register(DrawerClose)
class DrawerCloseAdmin(admin.ModelAdmin):
    """Closes are records: read only."""

    list_display = ["shop", "closed_at", "agent", "currency", "expected", "counted", "difference"]
    list_filter = ["shop"]
    readonly_fields = [field.name for field in DrawerClose._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CommissionRate)
class CommissionRateAdmin(admin.ModelAdmin):
    list_display = ["plan", "percent", "amount"]
    list_filter = ["plan__market"]
    raw_id_fields = ["plan"]
