from django.apps import AppConfig


class LinesConfig(AppConfig):
    name = "refill.lines"
    label = "lines"
