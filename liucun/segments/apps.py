from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "liucun.segments"
    label = "segments"
    verbose_name = "Saved fan filters"
