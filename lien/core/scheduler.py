"""Nightly tasks: each is enqueued once a day, after NIGHTLY_HOUR, whatever the number of
schedulers running (a unique row per task and day decides who enqueues it).

Apps register their nightly tasks in NIGHTLY by dotted path, and tasks that run every N
minutes in PERIODIC with the setting that holds N (0 switches the task off).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
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
    "lien.exports.tasks.purge_export_files",
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


PERIODIC: list[tuple[str, str]] = [
    ("lien.connectors.helloasso.tasks.sync_all_helloasso", "HELLOASSO_SYNC_MINUTES"),
]


def enqueue_periodic(*, now: dt.datetime | None = None) -> list[str]:
    """Enqueue the periodic tasks whose slot of N minutes has not been enqueued yet."""
    local = timezone.localtime(now or timezone.now())
    enqueued = []
    for name, setting in PERIODIC:
        minutes = int(getattr(settings, setting, 0) or 0)
        if minutes <= 0:
            continue
        slot = (local.hour * 60 + local.minute) // minutes
        try:
            with transaction.atomic():
                ScheduledRun.objects.create(name=f"{name}#{slot}", day=local.date())
                import_string(name).enqueue()
        except IntegrityError:
            continue  # this slot is already enqueued (by us or another scheduler)
        logger.info("periodic task %s enqueued (slot %s)", name, slot)
        enqueued.append(name)
    return enqueued
