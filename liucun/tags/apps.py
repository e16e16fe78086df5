from django.apps import AppConfig


class TagsConfig(AppConfig):
    name = "liucun.tags"
    label = "tags"
    verbose_name = "Tags and blacklist"

    def ready(self) -> None:
        from liucun.fans.unfollow_hooks import on_unfollow
        from liucun.tags.unfollow import clear_tags

        on_unfollow(clear_tags)
