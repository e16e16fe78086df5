from django.apps import AppConfig


class ReadModelsConfig(AppConfig):
    """Read models kept off the event store by named consumers with a watermark (ADR 15)."""

    name = "liucun.readmodels"
    label = "readmodels"
