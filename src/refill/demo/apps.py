from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data and its commands (``demo_seed``, ``demo_totp``). It has no tables: it loads
    every other app's rows through their services, so it sits above them all."""

    name = "refill.demo"
    label = "demo"
