"""Isolation cases of the export pages (issue 7): every export needs `view` on its data
and `add` on exports; a segment or a group of another organisation is a 404; « Mes
exports » needs `view` on exports, and another organisation's export is a 404."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from lien.exports import records, services, sources
from lien.exports.tables import chosen_columns
from tests.isolation import Case, World, Write, pk_of

FORM = {"exporter": "1", "fmt": "csv", "flavour": "fr", "columns": ["id", "last_name"]}
PAYMENT_FORM = {**FORM, "columns": ["id", "amount"]}
STRUCTURE_FORM = {**FORM, "columns": ["id", "name"]}
INTERACTION_FORM = {**FORM, "columns": ["id", "type"]}
EXPORTS = ("view", "exports")


def _export(data: dict, **kwargs) -> Case:
    """GET shows the form, POST downloads the file: both need the export right."""
    return Case(
        view_right=("add", "exports"),
        writes=[Write("post", ("add", "exports"), lambda w: data)],
        **kwargs,
    )


def finished_export(w: World) -> dict:
    """A background export of the world's administrator, its file kept."""
    source = {"kind": "list", "table": "contacts", "query": ""}
    selected = sources.selection(source, organization=w.organization, membership=w.admin)
    columns = chosen_columns(
        selected.table, ["id", "last_name"], organization=w.organization, membership=w.admin
    )
    export = records.TableExport(
        w.organization, w.admin.user, source, selected, columns, services.FileOptions()
    )
    record = export.record(rows=1)
    record.file_name = default_storage.save(
        f"exports/{w.organization.pk}/isolation.csv", ContentFile(b"N\xc2\xb0 Lien;Nom\n1;X\n")
    )
    record.save(update_fields=["file_name"])
    return {"pk": record.pk}


CASES: dict[str, Case] = {
    "export_contacts": _export(FORM),
    "export_structures": _export(STRUCTURE_FORM),
    "export_interactions": _export(INTERACTION_FORM),
    "export_payments": _export(PAYMENT_FORM, kwargs=lambda w: {"kind": "don"}),
    "export_search": _export(FORM),
    "export_segment": _export(FORM, kwargs=pk_of("segment"), scoped=True),
    "export_group": _export(FORM, kwargs=pk_of("group"), scoped=True),
    "export_all": Case(view_right=("view", "settings"), writes=[Write("post", ("add", "exports"))]),
    "export_list": Case(view_right=EXPORTS),
    "export_file": Case(kwargs=finished_export, view_right=EXPORTS, scoped=True),
}
