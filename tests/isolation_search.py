"""Isolation cases of the advanced search, the segment pages and the contact card section."""

from __future__ import annotations

import json

from tests.isolation import Case, World, Write, pk_of

SEGMENTS = ("view", "segments")


def _tree(w: World) -> str:
    return json.dumps(
        {"group": "all", "children": [{"field": "labels", "op": "any", "value": [w.label.pk]}]}
    )


def _builder_post(w: World) -> dict:
    return {"table": "contacts", "arbre": _tree(w), "action": "add:"}


CASES: dict[str, Case] = {
    "search_builder": Case(
        view_right=("view", "contacts"),
        writes=[Write("post", ("view", "contacts"), _builder_post)],
    ),
    "search_count": Case(
        view_right=("view", "contacts"),
        writes=[Write("post", ("view", "contacts"), _builder_post)],
    ),
    "search_bulk_interaction": Case(
        view_right=("add", "interactions"),
        writes=[
            Write(
                "post",
                ("add", "interactions"),
                lambda w: {
                    "arbre": _tree(w),
                    "type": w.interaction.type_id,
                    "occurred_at": "2026-04-02T09:15",
                },
            )
        ],
    ),
    "segment_list": Case(view_right=SEGMENTS),
    "segment_detail": Case(kwargs=pk_of("segment"), view_right=SEGMENTS, scoped=True),
    "segment_count": Case(kwargs=pk_of("segment"), view_right=SEGMENTS, scoped=True),
    "segment_edit": Case(
        kwargs=pk_of("segment"),
        view_right=("change", "segments"),
        scoped=True,
        writes=[
            Write(
                "post",
                ("change", "segments"),
                lambda w: {"arbre": _tree(w), "action": "save", "nom": "Bénévoles actifs"},
            )
        ],
    ),
    "segment_delete": Case(
        kwargs=pk_of("segment"),
        view_right=("delete", "segments"),
        scoped=True,
        writes=[Write("post", ("delete", "segments"))],
    ),
    "segment_why": Case(
        kwargs=lambda w: {"pk": w.segment.pk, "contact_pk": w.contact.pk},
        view_right=SEGMENTS,
        scoped=True,
    ),
    "contact_segments": Case(kwargs=pk_of("contact"), view_right=SEGMENTS, scoped=True),
}
