from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Customer, User


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["pk", "display_name", "kind", "segments", "preferred_language", "time_zone", "created_at"]
    search_fields = ["display_name", "users__email", "users__phone"]
    exclude = ["shop_pin_hash"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["pk"]
    list_display = ["pk", "email", "phone", "role", "customer", "is_staff", "is_active"]
    list_filter = ["role", "is_staff", "is_active"]
    search_fields = ["email", "phone"]
    raw_id_fields = ["customer"]
    fieldsets = [
        (None, {"fields": ["email", "phone", "phone_verified", "password"]}),
        ("Account", {"fields": ["role", "customer", "is_active", "is_staff", "is_superuser", "groups"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "phone", "role", "password1", "password2"]})]
