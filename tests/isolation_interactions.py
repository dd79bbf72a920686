"""Isolation cases of the interaction pages, the card sections and the interaction settings."""

from __future__ import annotations

from tests.isolation import Case, World, Write, pk_of


def _record(w: World) -> dict:
    return {
        "type": w.interaction.type_id,
        "occurred_at": "2026-04-02T09:15",
        "description": "Relance adhésion",
    }


def _setting(kind: str, attr: str):
    return lambda w: {"kind": kind, "pk": getattr(w.interaction, attr)}


CASES: dict[str, Case] = {
    "interaction_list": Case(view_right=("view", "interactions")),
    "interaction_count": Case(view_right=("view", "interactions")),
    "interaction_create": Case(
        view_right=("add", "interactions"),
        writes=[
            Write(
                "post", ("add", "interactions"), lambda w: {**_record(w), "contact": w.contact.pk}
            )
        ],
    ),
    "interaction_contact_search": Case(view_right=("view", "contacts")),
    # Without a selection the page sends back to the contact list.
    "interaction_bulk": Case(
        view_right=("add", "interactions"),
        writes=[
            Write("post", ("add", "interactions"), lambda w: {**_record(w), "ids": w.contact.pk})
        ],
    ),
    "interaction_edit": Case(
        kwargs=pk_of("interaction"),
        view_right=("change", "interactions"),
        scoped=True,
        writes=[Write("post", ("change", "interactions"), _record)],
    ),
    "interaction_delete": Case(
        kwargs=pk_of("interaction"),
        get=False,
        scoped=True,
        writes=[Write("post", ("delete", "interactions"))],
    ),
    "contact_interactions": Case(
        kwargs=pk_of("contact"), view_right=("view", "interactions"), scoped=True
    ),
    "contact_interaction_create": Case(
        kwargs=pk_of("contact"),
        view_right=("add", "interactions"),
        scoped=True,
        writes=[Write("post", ("add", "interactions"), _record)],
    ),
    "structure_interactions": Case(
        kwargs=pk_of("structure"), view_right=("view", "interactions"), scoped=True
    ),
    "group_interactions": Case(
        kwargs=pk_of("group"), view_right=("view", "interactions"), scoped=True
    ),
    "group_interaction_create": Case(
        kwargs=pk_of("group"),
        view_right=("add", "interactions"),
        scoped=True,
        writes=[Write("post", ("add", "interactions"), _record)],
    ),
    # Types, categories and labels are settings.
    "settings_interactions": Case(view_right=("view", "settings")),
    "settings_interaction_create": Case(
        kwargs=lambda w: {"kind": "categories"},
        view_right=("add", "settings"),
        writes=[Write("post", ("add", "settings"), lambda w: {"name": "Collecte"})],
    ),
    "settings_interaction_edit": Case(
        kwargs=_setting("types", "type_id"),
        view_right=("change", "settings"),
        scoped=True,
        writes=[
            Write(
                "post",
                ("change", "settings"),
                lambda w: {"name": "Appel", "default_status": "passive"},
            )
        ],
    ),
    "settings_interaction_delete": Case(
        kwargs=_setting("libelles", "label_id"),
        view_right=("delete", "settings"),
        scoped=True,
        writes=[Write("post", ("delete", "settings"))],
    ),
}
