"""Background jobs: a Job row records what a task does so pages can show progress.

A task is queued with `start_job()` after the current transaction commits;
inside the task, `run_job()` marks it running, lets the work report progress,
and records the outcome, whatever happens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from lien.core.models import Job, Organization

logger = logging.getLogger(__name__)


def start_job(
    *, organization: Organization, kind: str, label: str, task, created_by=None, **kwargs: Any
) -> Job:
    """Create the Job row and enqueue `task(job_id=…, **kwargs)` once the transaction commits."""
    job = Job.objects.create(
        organization=organization, kind=kind, label=label, created_by=created_by
    )

    def enqueue() -> None:
        result = task.enqueue(job_id=job.pk, **kwargs)
        Job.objects.filter(pk=job.pk).update(task_result_id=str(result.id))

    transaction.on_commit(enqueue)
    return job


class Progress:
    """Handed to the work function: `progress.update(done, total, message)`."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id

    def update(self, done: int, total: int | None = None, message: str | None = None) -> None:
        fields: dict[str, Any] = {"progress_done": done}
        if total is not None:
            fields["progress_total"] = total
        if message is not None:
            fields["message"] = message[:500]
        Job.objects.filter(pk=self.job_id).update(**fields)


def run_job(job_id: int, work: Callable[[Job, Progress], dict | None]) -> dict:
    """Run `work` for a job, recording running → succeeded/failed. Safe to call twice."""
    job = Job.objects.select_related("organization").get(pk=job_id)
    if job.status == Job.Status.SUCCEEDED:
        return job.result
    Job.objects.filter(pk=job_id).update(status=Job.Status.RUNNING, started_at=timezone.now())
    try:
        result = work(job, Progress(job_id)) or {}
    except Exception as error:
        logger.exception("job %s failed", job_id)
        Job.objects.filter(pk=job_id).update(
            status=Job.Status.FAILED,
            finished_at=timezone.now(),
            message=f"Échec : {error}"[:500],
        )
        raise
    # The work may name its outcome (« 2 346 lignes exportées. »); the message
    # shown while running must not survive the end.
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.SUCCEEDED,
        finished_at=timezone.now(),
        result=result,
        message=str(result.get("message") or "Terminé.")[:500],
    )
    return result
