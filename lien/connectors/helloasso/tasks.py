"""Background work of the HelloAsso connector: thin, it calls the services."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django_tasks import task

from lien.core.models import Organization

logger = logging.getLogger(__name__)


class SyncFailed(Exception):
    """The run ended « échec »: the job shows its French message."""


@task()
def sync_helloasso(*, job_id: int, trigger: str = "manuel") -> dict:
    """« Synchroniser maintenant »: one run, recorded on the job and in the sync log."""
    from lien.connectors.helloasso.services import run_sync
    from lien.connectors.models import HelloAssoSyncRun
    from lien.core.jobs import run_job

    def work(job, progress) -> dict:
        progress.update(0, None, "Synchronisation avec HelloAsso…")
        run = run_sync(organization=job.organization, trigger=trigger, progress=progress.update)
        if run.status != HelloAssoSyncRun.Status.SUCCEEDED:
            raise SyncFailed(run.message)
        return {"run": run.pk, "message": run.message}

    return run_job(job_id, work)


@task()
def sync_helloasso_organization(*, organization_id: int) -> str:
    """The periodic sync of one organisation (a run already going on is left alone)."""
    from lien.connectors.helloasso.services import run_sync

    organization = Organization.objects.get(pk=organization_id)
    try:
        run = run_sync(organization=organization, trigger="planifié")
    except ValidationError as error:  # set-up changed since, or a run is going on
        return " ".join(error.messages)
    return run.message


@task()
def sync_all_helloasso() -> list[int]:
    """Every HELLOASSO_SYNC_MINUTES (lien.core.scheduler): one task per ready connector."""
    from lien.connectors.helloasso.services import sync_due_connections

    ids = sync_due_connections()
    for organization_id in ids:
        sync_helloasso_organization.enqueue(organization_id=organization_id)
    return ids
