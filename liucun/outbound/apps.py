from django.apps import AppConfig


class OutboundConfig(AppConfig):
    name = "liucun.outbound"
    label = "outbound"
    verbose_name = "Outbound messages"

    def ready(self) -> None:
        from liucun.fans.privacy_hooks import on_erase, on_export
        from liucun.outbound.privacy import erase_outbound_content, export_outbound

        on_erase(erase_outbound_content)
        on_export("outbound_messages", export_outbound)
