from django.apps import AppConfig


class PromotionsConfig(AppConfig):
    name = "refill.promotions"
    label = "promotions"
