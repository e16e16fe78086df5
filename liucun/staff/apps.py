from django.apps import AppConfig


class StaffConfig(AppConfig):
    """Who may do what on which official account, and the audit log of every write."""

    name = "liucun.staff"
    label = "staff"
