from django.apps import AppConfig


class ReconcileConfig(AppConfig):
    name = "liucun.reconcile"
    label = "reconcile"
    verbose_name = "Reconciliation with WeChat's statistics"
