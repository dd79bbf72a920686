"""Background work of payments: the nightly label rules and the accounting export."""

from __future__ import annotations

import datetime as dt

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django_tasks import task

from lien.core.jobs import run_job
from lien.core.models import Job
from lien.payments import accounting
from lien.payments.labels import apply_all_label_rules


@task()
def apply_payment_labels() -> dict:
    """Nightly: memberships that ended yesterday lose « Adhérent(e) », and so on."""
    results = apply_all_label_rules()
    return {str(pk): counts for pk, counts in results.items()}


def write_accounting_export(job: Job, progress, *, start: str, end: str, fmt: str) -> dict:
    organization = job.organization
    start_day, end_day = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    total = accounting.paid_payments(organization, start_day, end_day).count()
    progress.update(0, total, "Préparation des écritures…")
    content, summary = accounting.write_export(
        organization, start=start_day, end=end_day, fmt=fmt,
        progress=lambda done: progress.update(done, total),
    )  # fmt: skip
    name = default_storage.save(
        f"exports/{organization.pk}/{job.pk}-"
        + accounting.file_name(organization, end=end_day, fmt=fmt),
        ContentFile(content),
    )
    return {"file": name, **summary}


@task()
def accounting_export(*, job_id: int, start: str, end: str, fmt: str) -> dict:
    return run_job(
        job_id, lambda job, progress: write_accounting_export(
            job, progress, start=start, end=end, fmt=fmt
        ),
    )  # fmt: skip
