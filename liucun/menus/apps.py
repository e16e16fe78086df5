from django.apps import AppConfig


class MenusConfig(AppConfig):
    name = "liucun.menus"
    label = "menus"
    verbose_name = "Custom menus"
