from django.apps import AppConfig


class InboundConfig(AppConfig):
    name = "liucun.inbound"
    label = "inbound"
