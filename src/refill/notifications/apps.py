from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "refill.notifications"
    label = "notifications"
