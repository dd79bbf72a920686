"""Background exports: thin tasks that load the member, call a service and store the file.

The member's rights are read again when the job runs: a right lost since the click is
lost for the export too. Files go to the default storage under exports/<organisation>/,
and the export's row in the history (`record_id`) gets its row count and file.
"""

from __future__ import annotations

import tempfile

from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.text import slugify
from django_tasks import task

from lien.core.jobs import run_job
from lien.core.models import Job, Membership
from lien.exports import archive, services, sources
from lien.exports.models import ExportRecord
from lien.exports.tables import chosen_columns


def _author(job: Job) -> Membership:
    membership = (
        Membership.objects.filter(
            organization_id=job.organization_id, user_id=job.created_by_id, is_active=True
        )
        .select_related("profile", "user")
        .first()
    )
    if membership is None:
        raise PermissionError("l'auteur de l'export n'a plus accès à l'organisation.")
    return membership


def _rows_message(count: int) -> str:
    plural = "s" if count > 1 else ""
    return f"{count:,} ligne{plural} exportée{plural}.".replace(",", "\u202f")


def file_name(title: str, extension: str) -> str:
    return f"{slugify(title)[:60] or 'export'}-{timezone.localdate():%Y-%m-%d}.{extension}"


def _store(job: Job, out, title: str, extension: str, rows: int, record_id: int | None) -> str:
    """The made file into the storage; the history row knows its rows and file."""
    size = out.seek(0, 2)
    out.seek(0)
    name = default_storage.save(
        f"exports/{job.organization_id}/{file_name(title, extension)}", File(out)
    )
    if record_id is not None:
        ExportRecord.objects.for_org(job.organization_id).filter(pk=record_id).update(
            rows=rows, file_name=name, file_size=size, finished_at=timezone.now()
        )
    return name


def write_table_export(
    job: Job,
    progress,
    *,
    source: dict,
    columns: list[str],
    options: dict,
    record_id: int | None = None,
):
    membership = _author(job)
    organization = job.organization
    selected = sources.selection(source, organization=organization, membership=membership)
    chosen = chosen_columns(
        selected.table, columns, organization=organization, membership=membership
    )
    file_options = services.FileOptions.of(options)
    total = selected.queryset.count()
    progress.update(0, total, "Export en cours…")
    with tempfile.TemporaryFile() as out:
        count = services.write_export(
            out,
            organization=organization,
            queryset=selected.queryset,
            columns=chosen,
            options=file_options,
            sheet=selected.table.title,
            progress=lambda done: progress.update(done, max(total, done)),
        )
        name = _store(job, out, selected.title, file_options.extension, count, record_id)
    return {"file": name, "rows": count, "message": _rows_message(count)}


@task()
def export_table(
    *, job_id: int, source: dict, columns: list[str], options: dict, record_id: int | None = None
) -> dict:
    return run_job(
        job_id,
        lambda job, progress: write_table_export(
            job, progress, source=source, columns=columns, options=options, record_id=record_id
        ),
    )


def write_full_export(job: Job, progress, *, record_id: int | None = None) -> dict:
    membership = _author(job)
    organization = job.organization
    with tempfile.TemporaryFile() as out:
        counts = archive.write_archive(
            out,
            organization=organization,
            membership=membership,
            progress=lambda done, total, message: progress.update(done, total, message),
        )
        rows = sum(counts.values())
        name = _store(job, out, f"donnees-{organization.slug}", "zip", rows, record_id)
    return {
        "file": name,
        "rows": rows,
        "files": counts,
        "message": f"{len(counts)} fichiers, {rows:,} lignes au total.".replace(",", "\u202f"),
    }


@task()
def export_everything(*, job_id: int, record_id: int | None = None) -> dict:
    return run_job(
        job_id, lambda job, progress: write_full_export(job, progress, record_id=record_id)
    )


@task()
def purge_export_files() -> dict:
    """Nightly: export files past the retention period are deleted; the history keeps
    their rows (« fichier supprimé »)."""
    from lien.exports import records  # records queues the tasks of this module

    return {"purged": records.purge_old_files()}
