from zoneinfo import ZoneInfo

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from liucun.inbox.measure_days import digests


def _fill(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # The service report reads the digest from now on: the measures written before it must be in it.
    alias = schema_editor.connection.alias
    measure = apps.get_model("inbox", "Measure")
    measure_day = apps.get_model("inbox", "MeasureDay")
    zone = settings.TIME_ZONE
    accounts = measure.objects.using(alias).values_list("account_id", flat=True).distinct()
    for account_id in list(accounts):
        rows = (
            measure.objects.using(alias)
            .filter(account_id=account_id)
            .values_list("kind", "started_at", "ended_at", "service_seconds", "wall_seconds")
        )
        measure_day.objects.using(alias).bulk_create(
            [
                measure_day(
                    account_id=account_id, kind=kind, day=day, zone=zone, count=n, service=service, wall=wall
                )
                for kind, day, n, service, wall in digests(rows.iterator(chunk_size=20_000), ZoneInfo(zone))
            ],
            batch_size=500,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_alter_officialaccount_account_type_and_more"),
        ("inbox", "0001_conversations"),
    ]

    operations = [
        migrations.CreateModel(
            name="MeasureDay",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "kind",
                    models.CharField(
                        choices=[("first_response", "First Response"), ("resolution", "Resolution")],
                        max_length=16,
                    ),
                ),
                ("day", models.DateField()),
                ("zone", models.CharField(max_length=64)),
                ("count", models.PositiveIntegerField(default=0)),
                ("service", models.BinaryField(default=b"")),
                ("wall", models.BinaryField(default=b"")),
                (
                    "account",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.officialaccount",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("account", "kind", "day"), name="measureday_unique")
                ],
            },
        ),
        migrations.RunPython(_fill, migrations.RunPython.noop, elidable=True),
    ]
