from django.apps import AppConfig


class RunnerConfig(AppConfig):
    """How Liucun's processes start: the web server, the worker and the all-in-one local run."""

    name = "liucun.runner"
    label = "runner"
