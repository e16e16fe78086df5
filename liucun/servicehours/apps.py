from django.apps import AppConfig


class ServiceHoursConfig(AppConfig):
    name = "liucun.servicehours"
    label = "servicehours"
    verbose_name = "Service hours"
