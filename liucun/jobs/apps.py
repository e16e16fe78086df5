from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "liucun.jobs"
    label = "jobs"
    verbose_name = "Long jobs"
