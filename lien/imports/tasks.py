"""Background work of imports: thin, they load ids and call a service."""

from __future__ import annotations

from django_tasks import task

from lien.core.jobs import run_job
from lien.core.models import Job
from lien.imports import services
from lien.imports.models import Import


def _import_of(job: Job, import_id: int) -> Import:
    return (
        Import.objects.for_org(job.organization_id).select_related("organization").get(pk=import_id)
    )


@task()
def check_import_task(*, job_id: int, import_id: int) -> dict:
    """The dry run of an import; running it twice gives the same counts."""
    return run_job(
        job_id,
        lambda job, progress: services.check_import(
            imp=_import_of(job, import_id), progress=progress.update
        ),
    )


@task()
def run_import_task(*, job_id: int, import_id: int) -> dict:
    """The run (or the resume) of an import: it starts after the last committed chunk,
    so running it again after a crash creates nothing twice."""
    return run_job(
        job_id,
        lambda job, progress: services.run_import(
            imp=_import_of(job, import_id), user=job.created_by, progress=progress.update
        ),
    )


@task()
def purge_import_files() -> dict:
    """Nightly: files past the retention period are deleted; stalled imports are marked
    interrupted."""
    return {"purged": services.purge_old_files(), "interrupted": services.mark_stalled()}
