from django.contrib import admin

from .models import BulkJob, FleetMember, LineGroup


@admin.register(FleetMember)
class FleetMemberAdmin(admin.ModelAdmin):
    list_display = ("user", "role")
    list_filter = ("role",)
    search_fields = ("user__email", "user__customer__display_name")
    raw_id_fields = ("user",)


@admin.register(LineGroup)
class LineGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "customer")
    search_fields = ("name", "customer__display_name")
    raw_id_fields = ("customer",)


@admin.register(BulkJob)
class BulkJobAdmin(admin.ModelAdmin):
    list_display = ("pk", "customer", "action", "status", "total", "currency", "invoice_number", "created_at")
    list_filter = ("action", "status")
    search_fields = ("customer__display_name", "invoice_number")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
