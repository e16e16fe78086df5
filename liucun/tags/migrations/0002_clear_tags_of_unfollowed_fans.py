from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def _clear(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # WeChat drops a fan's tags on unfollow; Liucun now does too (liucun/tags/unfollow.py), and the fan
    # list counts a tag's fans from its memberships alone, so memberships kept from before must go.
    fan_tag = apps.get_model("tags", "FanTag")
    fan_tag.objects.using(schema_editor.connection.alias).filter(fan__is_following=False).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tags", "0001_initial"),
        ("fans", "0005_fan_following_ids"),
    ]

    operations = [migrations.RunPython(_clear, migrations.RunPython.noop, elidable=True)]
