from django.apps import AppConfig


class ActivityConfig(AppConfig):
    name = "liucun.activity"
    label = "activity"
    verbose_name = "Fan activity"
