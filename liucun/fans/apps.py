from django.apps import AppConfig


class FansConfig(AppConfig):
    name = "liucun.fans"
    label = "fans"
