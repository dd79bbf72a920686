"""Isolation cases of the contact and structure pages (merged by tests/test_isolation.py)."""

from __future__ import annotations

from tests.isolation import Case, Write, pk_of


def contact_data(world) -> dict:
    return {"last_name": "Modifié", "country": "FR", "preferred_language": "fr"}


def structure_data(world) -> dict:
    return {"name": "Structure modifiée", "kind": "autre", "country": "FR"}


def entity_cases(key: str, data_type: str, data, record: str) -> dict[str, Case]:
    record_pk = pk_of(record)
    return {
        f"{key}_list": Case(view_right=("view", data_type)),
        f"{key}_count": Case(view_right=("view", data_type)),
        f"{key}_columns": Case(
            get=False,
            writes=[Write("post", ("view", data_type), lambda w: {"colonnes": ["name"]})],
        ),
        f"{key}_bulk": Case(
            get=False,
            writes=[
                Write(
                    "post",
                    ("change", data_type),
                    lambda w: {
                        "action": "add_label",
                        "label": w.label.pk,
                        "ids": [getattr(w, record).pk],
                    },
                )
            ],
        ),
        f"{key}_create": Case(
            view_right=("add", data_type), writes=[Write("post", ("add", data_type), data)]
        ),
        f"{key}_detail": Case(kwargs=record_pk, view_right=("view", data_type), scoped=True),
        f"{key}_edit": Case(
            kwargs=record_pk,
            view_right=("change", data_type),
            scoped=True,
            writes=[Write("post", ("change", data_type), data)],
        ),
        f"{key}_delete": Case(
            kwargs=record_pk, get=False, scoped=True, writes=[Write("post", ("delete", data_type))]
        ),
        f"{key}_labels": Case(
            kwargs=record_pk,
            get=False,
            scoped=True,
            writes=[Write("post", ("change", data_type), lambda w: {"label": w.label.pk})],
        ),
    }


CASES: dict[str, Case] = {
    **entity_cases("contact", "contacts", contact_data, "contact"),
    **entity_cases("structure", "structures", structure_data, "structure"),
    "contact_link_structure": Case(
        kwargs=pk_of("contact"),
        get=False,
        scoped=True,
        writes=[Write("post", ("change", "contacts"), lambda w: {"structure": w.structure.pk})],
    ),
    "structure_link_edit": Case(
        kwargs=pk_of("link"),
        get=False,
        scoped=True,
        writes=[Write("post", ("change", "contacts"), lambda w: {"role": "Trésorière"})],
    ),
    "structure_link_delete": Case(
        kwargs=pk_of("link"), get=False, scoped=True, writes=[Write("post", ("change", "contacts"))]
    ),
    "structure_search": Case(view_right=("view", "structures")),
}
