from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "refill.subscriptions"
    label = "subscriptions"
