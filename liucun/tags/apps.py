from django.apps import AppConfig


class TagsConfig(AppConfig):
    name = "liucun.tags"
    label = "tags"
    verbose_name = "Tags and blacklist"
