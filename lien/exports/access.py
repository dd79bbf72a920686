"""Access to one export of the history: the author's own, or any for an administrator."""

from __future__ import annotations

from django.http import Http404, HttpRequest

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
