"""A fan who unfollows loses every tag, in WeChat and therefore here.

This keeps an invariant the fan list relies on: only following fans carry tags, so a tag's memberships
are exactly its following fans and can be counted without reading the fans table
(liucun/fans/queries.py). The writes that add memberships lock the fans they tag and skip any who
unfollowed meanwhile (liucun/tags/jobs.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from django.db.models import F
from django.db.models.functions import Greatest

from liucun.tags.models import FanTag, Tag


def clear_tags(fan_ids: Sequence[int]) -> None:
    for start in range(0, len(fan_ids), 5000):
        chunk = list(fan_ids[start : start + 5000])
        lost = Counter(FanTag.objects.filter(fan_id__in=chunk).values_list("tag_id", flat=True))
        if not lost:
            continue
        for tag_id, fans in lost.items():
            Tag.objects.filter(pk=tag_id).update(fan_count=Greatest(F("fan_count") - fans, 0))
        FanTag.objects.filter(fan_id__in=chunk).delete()
