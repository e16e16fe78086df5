from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# PostgreSQL can serve LIKE 'prefix%' from a b-tree only under the C collation or with a pattern operator
# class; SQLite's openid search uses a range on the existing (account, openid) index instead, so this
# index exists on PostgreSQL alone and is not part of the model's state.
_PATTERN_INDEX = "fan_openid_prefix"


def _create_pattern_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {_PATTERN_INDEX} "
            "ON fans_fan (account_id, openid varchar_pattern_ops)"
        )


def _drop_pattern_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {_PATTERN_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_alter_officialaccount_account_type_and_more"),
        ("fans", "0004_fan_list_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="fan",
            index=models.Index(fields=["account", "is_following", "id"], name="fan_following_ids"),
        ),
        migrations.RunPython(_create_pattern_index, _drop_pattern_index, elidable=False),
    ]
