from django.apps import AppConfig


class AutoreplyConfig(AppConfig):
    name = "liucun.autoreply"
    label = "autoreply"
    verbose_name = "Reply rules"
