from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class AnalyticsConfig(AppConfig):
    name = "liucun.analytics"
    label = "analytics"

    def ready(self) -> None:
        # Every app's reports.py registers its reports (analytics.report.register): the console page,
        # the CSV and the API operation of a report all come from that one registration.
        autodiscover_modules("reports")
