"""Access to one export of the history (the author's own, or any for an administrator)
and to its file."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest

from lien.exports import records
from lien.exports.models import ExportRecord


def get_export(request: HttpRequest, pk: int) -> ExportRecord:
    """The export, or 404 (another organisation's, or someone else's for a member who
    sees only their own: « not yours » and « does not exist » answer the same)."""
    found = (
        records.visible_exports(organization=request.organization, membership=request.membership)
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("Cet export n'existe pas.")
    return found


def file_response(membership, record: ExportRecord) -> FileResponse:
    """The kept file of an export, for a member who may download it (PermissionDenied
    otherwise; Http404 if the storage lost it)."""
    if not records.may_download(membership, record):
        raise PermissionDenied("Ce fichier contient ce que le profil de son auteur permet de voir.")
    if not default_storage.exists(record.file_name):
        raise Http404("Le fichier de cet export est introuvable.")
    return FileResponse(
        default_storage.open(record.file_name, "rb"),
        as_attachment=True,
        filename=record.file_name.rsplit("/", 1)[-1],
    )
