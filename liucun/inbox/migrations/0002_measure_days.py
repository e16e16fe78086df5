import django.db.models.deletion
from django.db import migrations, models

# The measures written before the digest are filled in by 0003, which makes every day again with the
# conversation of each value (this migration's own fill imported code whose rows have changed since).


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
    ]
