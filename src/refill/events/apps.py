from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "refill.events"
    label = "events"
