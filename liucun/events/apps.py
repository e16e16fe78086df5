from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "liucun.events"
    label = "events"
