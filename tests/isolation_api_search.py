"""Isolation cases of the search and segments API (see tests/isolation.py)."""

from __future__ import annotations

from tests.isolation import Case, Write, pk_of

CONTACTS = ("view", "contacts")
SEGMENTS = ("view", "segments")


def has_label(w) -> dict:
    return {"group": "all", "children": [{"field": "labels", "op": "any", "value": [w.label.pk]}]}


def search(right: tuple[str, str], tree=lambda w: {"group": "all", "children": []}) -> Case:
    """A search is a POST that only reads: it needs the right to view its table."""
    return Case(api=True, get=False, writes=[Write("post", right, lambda w: {"tree": tree(w)})])


CASES: dict[str, Case] = {
    "api-contacts-search": search(CONTACTS, has_label),
    "api-structures-search": search(("view", "structures")),
    "api-interactions-search": search(("view", "interactions")),
    "api-payments-search": search(
        ("view", "payments"),
        lambda w: {"field": "campaign", "op": "in", "value": [w.campaign.pk]},
    ),
    "api-search-criteria": Case(api=True, view_right=CONTACTS),
    "api-segments-list": Case(
        api=True,
        view_right=SEGMENTS,
        writes=[
            Write(
                "post",
                ("add", "segments"),
                lambda w: {"name": "Nouveau segment", "tree": has_label(w)},
            )
        ],
    ),
    "api-segments-detail": Case(
        api=True,
        kwargs=pk_of("segment"),
        view_right=SEGMENTS,
        scoped=True,
        writes=[
            Write("patch", ("change", "segments"), lambda w: {"description": "Relance"}),
            Write(
                "put",
                ("change", "segments"),
                lambda w: {"name": "Bénévoles", "tree": has_label(w)},
            ),
            Write("delete", ("delete", "segments")),
        ],
    ),
    "api-segments-contacts": Case(
        api=True, kwargs=pk_of("segment"), view_right=SEGMENTS, scoped=True
    ),
    "api-segments-count": Case(api=True, kwargs=pk_of("segment"), view_right=SEGMENTS, scoped=True),
    "api-segments-history": Case(
        api=True, kwargs=pk_of("segment"), view_right=SEGMENTS, scoped=True
    ),
}
