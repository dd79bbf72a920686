"""Nightly tasks: each is enqueued once a day, after NIGHTLY_HOUR, whatever the number of
schedulers running (a unique row per task and day decides who enqueues it).

Apps register their nightly tasks in NIGHTLY by dotted path.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from lien.core.models import ScheduledRun

logger = logging.getLogger(__name__)

NIGHTLY_HOUR = 3
NIGHTLY: list[str] = [
    "lien.contacts.tasks.purge_trash",
    "lien.payments.tasks.apply_payment_labels",
    "lien.imports.tasks.purge_import_files",
    # After the label rules: segments on labels see tonight's labels.
    "lien.search.tasks.record_segments",
]


def enqueue_due(*, now: dt.datetime | None = None, force: bool = False) -> list[str]:
    """Enqueue the nightly tasks not yet enqueued today; returns their names."""
    local = timezone.localtime(now or timezone.now())
    if local.hour < NIGHTLY_HOUR and not force:
        return []
    enqueued = []
    for name in NIGHTLY:
        try:
            with transaction.atomic():
                ScheduledRun.objects.create(name=name, day=local.date())
                import_string(name).enqueue()
        except IntegrityError:
            continue  # already enqueued today (by us or another scheduler)
        logger.info("nightly task %s enqueued", name)
        enqueued.append(name)
    return enqueued
