import sys
from array import array
from zoneinfo import ZoneInfo

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def _packed(typecode: str, values: list) -> bytes:
    packed = array(typecode, values)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def _sorted(pairs: list[tuple[float, int]]) -> tuple[bytes, bytes]:
    pairs.sort()
    return _packed("d", [v for v, _ in pairs]), _packed("q", [c for _, c in pairs])


def _store_uncompressed(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # PostgreSQL compresses these (int64 ids, half zero bytes) to ~45 %: every view of one channel then
    # decompresses a year of them (+15 ms) and every reply's measure compresses its day's again (+5 ms;
    # bench/service).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE inbox_measureday ALTER COLUMN service_conversations SET STORAGE EXTERNAL, "
            "ALTER COLUMN wall_conversations SET STORAGE EXTERNAL"
        )


def _fill(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Every day made again from the measures with the conversation of each value, and a MeasureChannel
    row for every conversation with a measure: what inbox.measure_days.rebuild does as of this migration
    (a copy, so that later changes to that module leave this migration as it ran)."""
    alias = schema_editor.connection.alias
    measure = apps.get_model("inbox", "Measure")
    measure_day = apps.get_model("inbox", "MeasureDay")
    measure_channel = apps.get_model("inbox", "MeasureChannel")
    zone = settings.TIME_ZONE
    tz = ZoneInfo(zone)
    accounts = measure.objects.using(alias).values_list("account_id", flat=True).distinct()
    for account_id in list(accounts):
        rows = (
            measure.objects.using(alias)
            .filter(account_id=account_id)
            .values_list(
                "kind", "started_at", "ended_at", "service_seconds", "wall_seconds", "conversation_id"
            )
        )
        days: dict = {}
        conversations = set()
        for kind, started_at, ended_at, service_seconds, wall_seconds, conversation_id in rows.iterator(
            chunk_size=20_000
        ):
            at = started_at if kind == "first_response" else ended_at
            service, wall = days.setdefault((kind, at.astimezone(tz).date()), ([], []))
            service.append((service_seconds, conversation_id or 0))
            wall.append((wall_seconds, conversation_id or 0))
            if conversation_id is not None:
                conversations.add(conversation_id)
        made = []
        for (kind, day), (service, wall) in sorted(days.items()):
            service_values, service_owners = _sorted(service)
            wall_values, wall_owners = _sorted(wall)
            made.append(
                measure_day(
                    account_id=account_id, kind=kind, day=day, zone=zone, count=len(service),
                    service=service_values, wall=wall_values, service_conversations=service_owners,
                    wall_conversations=wall_owners,
                )
            )  # fmt: skip
        measure_day.objects.using(alias).filter(account_id=account_id).delete()
        measure_day.objects.using(alias).bulk_create(made, batch_size=500)
        measure_channel.objects.using(alias).bulk_create(
            [measure_channel(conversation_id=c, account_id=account_id) for c in sorted(conversations)],
            batch_size=1000,
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_alter_officialaccount_account_type_and_more"),
        ("inbox", "0002_measure_days"),
    ]

    operations = [
        migrations.CreateModel(
            name="MeasureChannelSync",
            fields=[
                (
                    "account",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="accounts.officialaccount",
                    ),
                ),
                ("read_model", models.CharField(max_length=255)),
                ("upto", models.BigIntegerField(default=0)),
                ("synced_at", models.DateTimeField()),
            ],
        ),
        migrations.AddField(
            model_name="measureday",
            name="service_conversations",
            field=models.BinaryField(default=b""),
        ),
        migrations.AddField(
            model_name="measureday",
            name="wall_conversations",
            field=models.BinaryField(default=b""),
        ),
        migrations.CreateModel(
            name="MeasureChannel",
            fields=[
                (
                    "conversation",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="inbox.conversation",
                    ),
                ),
                ("channel", models.CharField(blank=True, max_length=128, null=True)),
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
                "indexes": [
                    models.Index(
                        fields=["account", "channel", "conversation"], name="measurechannel_by_channel"
                    )
                ],
            },
        ),
        migrations.RunPython(_store_uncompressed, migrations.RunPython.noop),
        migrations.RunPython(_fill, migrations.RunPython.noop, elidable=True),
    ]
