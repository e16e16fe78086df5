from django.apps import AppConfig


class CohortsConfig(AppConfig):
    """How long fans stay: follow periods rolled up by cohort day, channel and stay (retention, survival,
    channel quality)."""

    name = "liucun.cohorts"
    label = "cohorts"
