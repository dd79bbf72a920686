"""Isolation cases of the export pages (issue 7): every export needs `view` on its data
and `add` on exports; a segment or a group of another organisation is a 404."""

from __future__ import annotations

from tests.isolation import Case, Write, pk_of

FORM = {"exporter": "1", "fmt": "csv", "flavour": "fr", "columns": ["id", "last_name"]}
PAYMENT_FORM = {**FORM, "columns": ["id", "amount"]}
STRUCTURE_FORM = {**FORM, "columns": ["id", "name"]}
INTERACTION_FORM = {**FORM, "columns": ["id", "type"]}


def _export(data: dict, **kwargs) -> Case:
    """GET shows the form, POST downloads the file: both need the export right."""
    return Case(
        view_right=("add", "exports"),
        writes=[Write("post", ("add", "exports"), lambda w: data)],
        **kwargs,
    )


CASES: dict[str, Case] = {
    "export_contacts": _export(FORM),
    "export_structures": _export(STRUCTURE_FORM),
    "export_interactions": _export(INTERACTION_FORM),
    "export_payments": _export(PAYMENT_FORM, kwargs=lambda w: {"kind": "don"}),
    "export_search": _export(FORM),
    "export_segment": _export(FORM, kwargs=pk_of("segment"), scoped=True),
    "export_group": _export(FORM, kwargs=pk_of("group"), scoped=True),
    "export_all": Case(view_right=("view", "settings"), writes=[Write("post", ("add", "exports"))]),
}
