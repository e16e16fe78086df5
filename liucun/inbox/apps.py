from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "liucun.inbox"
    label = "inbox"
    verbose_name = "Customer-service inbox"

    def ready(self) -> None:
        from liucun.fans.privacy_hooks import on_erase, on_export
        from liucun.inbox.privacy import erase_notes, export_notes

        on_erase(erase_notes)
        on_export("inbox_notes", export_notes)
