from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "liucun.console"
    label = "console"
    verbose_name = "Operator console"
