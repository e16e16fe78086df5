from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "liucun.accounts"
    label = "accounts"
    verbose_name = "Official accounts"
