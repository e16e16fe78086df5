# The event table's own index on account_id goes: the unique (account_id, dedupe_key) index serves every
# lookup by account. Dropped by name rather than through AlterField, which on SQLite copies the whole table
# (tens of millions of rows on a large account) to drop one index.

import django.db.models.deletion
from django.db import migrations, models

INDEX = "events_event_account_id_d2faae99"


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_alter_officialaccount_account_type_and_more"),
        ("events", "0003_rule_and_handoff"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="event",
                    name="account",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="accounts.officialaccount",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "events_event" ("account_id")',
                ),
            ],
        ),
    ]
