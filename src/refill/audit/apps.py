from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "refill.audit"
    label = "audit"
