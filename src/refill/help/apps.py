from django.apps import AppConfig


class HelpConfig(AppConfig):
    name = "refill.help"
    label = "help"
