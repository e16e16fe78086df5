from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "liucun.channels"
    label = "channels"
    verbose_name = "Channels and QR codes"
