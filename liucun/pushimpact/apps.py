from django.apps import AppConfig


class PushImpactConfig(AppConfig):
    name = "liucun.pushimpact"
    label = "pushimpact"
    verbose_name = "Push impact"
