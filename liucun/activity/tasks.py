"""Background jobs of the activity app."""

from __future__ import annotations

from django_tasks import task


@task()
def sync_measure_channels() -> int:
    """Every account's MeasureChannel rows in step with the fan-activity read model (service_channels):
    returns the rows looked up."""
    from liucun.activity.service_channels import sync_all

    return sum(sync_all().values())
