from django.apps import AppConfig


class VouchersConfig(AppConfig):
    name = "refill.vouchers"
    label = "vouchers"
