"""Exports as recorded actions: every export, on a page or through the API, leaves a row.

`export_now` writes a small file during the request; `start_export` and `start_archive`
queue a background job whose task stores the file. Each records who exported what
(kind, selection in words and as its source, columns, format), and the row count once
known. Files are deleted after the retention period (`purge_old_files`, nightly); the
row stays, « fichier supprimé ».

Who sees what: a member sees their own exports; a member who may view the settings
(the administrators) sees the whole organisation's. A file is downloaded by its author,
or by such a member whose own profile shows everything the file may hold.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from lien.core.jobs import start_job
from lien.core.models import Job, Membership, Organization
from lien.core.rights import can
from lien.exports import services, tasks
from lien.exports.models import ExportKind, ExportRecord
from lien.exports.sources import Selection
from lien.exports.tables import TABLES, ExportColumn

ARCHIVE_TITLE = "Export de toutes les données"
HIDDEN_DETAILS = "détails masqués"


def retention_days() -> int:
    """Days an export file is kept (LIEN_EXPORT_RETENTION_DAYS, 7 by default)."""
    value = getattr(settings, "LIEN_EXPORT_RETENTION_DAYS", None)
    return int(value if value is not None else os.environ.get("LIEN_EXPORT_RETENTION_DAYS", 7))


def may_export_all(membership: Membership | None) -> bool:
    """« Exporter toutes mes données »: view the settings and make exports."""
    return can(membership, "view", "settings") and can(membership, "add", "exports")


def require_export_all(membership: Membership | None) -> None:
    if not may_export_all(membership):
        raise PermissionDenied("Votre profil ne vous permet pas d'exporter toutes les données.")


def sees_all_exports(membership: Membership | None) -> bool:
    """Administrators (who may view the settings) see every export of the organisation."""
    return can(membership, "view", "settings")


def visible_exports(*, organization: Organization, membership: Membership) -> QuerySet:
    """The history this member sees, newest first (author and job joined)."""
    records = (
        ExportRecord.objects.for_org(organization)
        .select_related("created_by", "job")
        .order_by("-created_at", "-id")
    )
    if not sees_all_exports(membership):
        records = records.filter(created_by_id=membership.user_id)
    return records


def details_hidden(membership: Membership, record: ExportRecord) -> bool:
    """Someone else's export seen by a member whose profile hides payment data or sensitive
    fields: its selection and columns may name them, so only its title is shown."""
    if record.created_by_id == membership.user_id:
        return False
    profile = membership.profile
    return profile.hide_payment_data or profile.hide_sensitive_fields


def may_download(membership: Membership, record: ExportRecord) -> bool:
    """The file exists, the member may export such data now, and it is theirs — or they
    see every export and their profile hides nothing the file may hold."""
    if not record.file_name:
        return False
    if record.kind == ExportKind.ALL:
        allowed = may_export_all(membership)
    else:
        allowed = can(membership, "add", "exports") and can(
            membership, "view", TABLES[record.kind].data_type
        )
    if not allowed:
        return False
    if record.created_by_id == membership.user_id:
        return True
    return sees_all_exports(membership) and not details_hidden(membership, record)


def _record(
    *,
    organization: Organization,
    user,
    kind: str,
    source: dict,
    title: str,
    summary: str,
    columns: list[dict[str, str]],
    options: services.FileOptions,
    via: str,
    rows: int | None = None,
) -> ExportRecord:
    return ExportRecord.objects.create(
        organization=organization,
        created_by=user if getattr(user, "pk", None) else None,
        kind=kind,
        source=source,
        title=title[:200],
        summary=summary[:1000],
        columns=columns,
        fmt=options.fmt,
        delimiter=options.delimiter if options.fmt in ("csv", "zip") else "",
        via=via,
        rows=rows,
        finished_at=timezone.now() if rows is not None else None,
    )


@dataclass(frozen=True)
class TableExport:
    """What a member asks for: the rows (a source and its selection), columns, format."""

    organization: Organization
    user: Any
    source: dict
    selected: Selection
    columns: list[ExportColumn]
    options: services.FileOptions
    via: str = ExportRecord.Via.PAGE

    def record(self, rows: int | None = None) -> ExportRecord:
        return _record(
            organization=self.organization, user=self.user, kind=self.selected.table.key,
            source=self.source, title=self.selected.title, summary=self.selected.summary,
            columns=[{"key": c.key, "label": c.label} for c in self.columns],
            options=self.options, via=self.via, rows=rows,
        )  # fmt: skip


def export_now(out: IO[bytes], export: TableExport) -> ExportRecord:
    """Write a small export into `out` during the request, and record it (no file kept:
    it is downloaded at once)."""
    rows = services.write_export(
        out,
        organization=export.organization,
        queryset=export.selected.queryset,
        columns=export.columns,
        options=export.options,
        sheet=export.selected.table.title,
    )
    return export.record(rows)


@transaction.atomic
def start_export(export: TableExport) -> ExportRecord:
    """Record the export and queue the job that makes its file (after commit)."""
    record = export.record()
    record.job = start_job(
        organization=export.organization,
        kind=f"export_{export.selected.table.key}",
        label=f"Export : {export.selected.title}"[:200],
        task=tasks.export_table,
        created_by=export.user,
        source=export.source,
        columns=[c.key for c in export.columns],
        options=export.options.as_dict(),
        record_id=record.pk,
    )
    record.save(update_fields=["job"])
    return record


@transaction.atomic
def start_archive(
    *, organization: Organization, membership: Membership, via: str = ExportRecord.Via.PAGE
) -> ExportRecord:
    """« Exporter toutes mes données »: record it and queue the job that makes the ZIP."""
    from lien.exports.archive import dumps_for

    require_export_all(membership)
    files = [dump.name for dump in dumps_for(membership)]
    record = _record(
        organization=organization, user=membership.user, kind=ExportKind.ALL, source={},
        title=ARCHIVE_TITLE, summary=f"{len(files)} fichiers CSV : {', '.join(files)}",
        columns=[], options=services.FileOptions(fmt="zip", delimiter=";"), via=via,
    )  # fmt: skip
    record.job = start_job(
        organization=organization,
        kind="export_all",
        label=ARCHIVE_TITLE,
        task=tasks.export_everything,
        created_by=membership.user,
        record_id=record.pk,
    )
    record.save(update_fields=["job"])
    return record


def purge_old_files(*, now=None) -> int:
    """Files made more than the retention period ago are deleted; their rows stay (and the
    job no longer offers the file)."""
    limit = (now or timezone.now()) - timezone.timedelta(days=retention_days())
    old = list(
        ExportRecord.objects.filter(finished_at__lt=limit)
        .exclude(file_name="")
        .values_list("pk", "file_name", "job_id")
    )
    for _pk, name, _job in old:
        with contextlib.suppress(FileNotFoundError):
            default_storage.delete(name)
    ExportRecord.objects.filter(pk__in=[pk for pk, _name, _job in old]).update(
        file_name="", file_deleted_at=timezone.now()
    )
    jobs = list(Job.objects.filter(pk__in=[job for _pk, _name, job in old if job]))
    for job in jobs:
        job.result = {key: value for key, value in job.result.items() if key != "file"}
    Job.objects.bulk_update(jobs, ["result"])
    return len(old)
