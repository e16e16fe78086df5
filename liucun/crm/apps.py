from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "liucun.crm"
    label = "crm"
    verbose_name = "CRM data from company systems"

    def ready(self) -> None:
        from liucun.crm import privacy

        privacy.connect()
