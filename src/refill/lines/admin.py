from django.contrib import admin

from .models import Line, LineStatusChange


class LineStatusChangeInline(admin.TabularInline):
    model = LineStatusChange
    extra = 0
    readonly_fields = ["from_status", "to_status", "cause", "reference", "at"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Line)
class LineAdmin(admin.ModelAdmin):
    list_display = ["msisdn", "owner", "market", "plan", "status", "period_end", "sim_type"]
    list_filter = ["status", "market", "sim_type"]
    search_fields = ["msisdn", "iccid", "owner__display_name", "owner__users__email"]
    # Status and validity move only through renewals and the lifecycle services.
    readonly_fields = ["status", "status_changed_at", "period_end", "anchor_day"]
    raw_id_fields = ["owner"]
    inlines = [LineStatusChangeInline]
