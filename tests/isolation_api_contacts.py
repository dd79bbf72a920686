"""Isolation cases of the contacts app's API (see tests/isolation.py)."""

from __future__ import annotations

from tests.isolation import Case, Write, pk_of

CONTACTS = ("view", "contacts")
SETTINGS = ("view", "settings")
SEGMENTS = ("view", "segments")
STRUCTURES = ("view", "structures")

CASES: dict[str, Case] = {
    "api-contacts-list": Case(
        api=True,
        view_right=CONTACTS,
        writes=[
            Write(
                "post",
                ("add", "contacts"),
                lambda w: {"last_name": "Nouveau", "labels": [w.label.pk]},
            )
        ],
    ),
    "api-contacts-detail": Case(
        api=True,
        kwargs=pk_of("contact"),
        view_right=CONTACTS,
        scoped=True,
        writes=[
            Write("patch", ("change", "contacts"), lambda w: {"city": "Lyon"}),
            Write(
                "put",
                ("change", "contacts"),
                lambda w: {"first_name": "Camille", "last_name": "Martin"},
            ),
            Write("delete", ("delete", "contacts")),
        ],
    ),
    "api-structures-list": Case(
        api=True,
        view_right=STRUCTURES,
        writes=[Write("post", ("add", "structures"), lambda w: {"name": "Fondation"})],
    ),
    "api-structures-detail": Case(
        api=True,
        kwargs=pk_of("structure"),
        view_right=STRUCTURES,
        scoped=True,
        writes=[
            Write("patch", ("change", "structures"), lambda w: {"city": "Lyon"}),
            Write("delete", ("delete", "structures")),
        ],
    ),
    "api-contact-structure-links-list": Case(
        api=True,
        view_right=CONTACTS,
        writes=[
            Write(
                "post",
                ("change", "contacts"),
                lambda w: {"contact": w.contact.pk, "structure": w.structure.pk, "role": "Membre"},
            )
        ],
    ),
    "api-contact-structure-links-detail": Case(
        api=True,
        kwargs=pk_of("link"),
        view_right=CONTACTS,
        scoped=True,
        writes=[
            Write("patch", ("change", "contacts"), lambda w: {"role": "Présidente"}),
            Write("delete", ("change", "contacts")),
        ],
    ),
    "api-labels-list": Case(
        api=True,
        view_right=CONTACTS,
        writes=[Write("post", ("add", "settings"), lambda w: {"name": "Nouvelle"})],
    ),
    "api-labels-detail": Case(
        api=True,
        kwargs=pk_of("label"),
        view_right=CONTACTS,
        scoped=True,
        writes=[
            Write("patch", ("change", "settings"), lambda w: {"color": "#123456"}),
            Write("delete", ("delete", "settings")),
        ],
    ),
    "api-custom-fields-list": Case(
        api=True,
        view_right=SETTINGS,
        writes=[
            Write(
                "post",
                ("add", "settings"),
                lambda w: {"target": "contact", "name": "Taille", "field_type": "integer"},
            )
        ],
    ),
    "api-custom-fields-detail": Case(
        api=True,
        kwargs=pk_of("custom_field"),
        view_right=SETTINGS,
        scoped=True,
        writes=[
            Write("patch", ("change", "settings"), lambda w: {"name": "Régime"}),
            Write("delete", ("delete", "settings")),
        ],
    ),
    "api-custom-fields-rename-choice": Case(
        api=True,
        kwargs=pk_of("custom_field"),
        get=False,
        scoped=True,
        writes=[
            Write(
                "post",
                ("change", "settings"),
                lambda w: {"old": "Végétarien", "new": "Végétarienne"},
            )
        ],
    ),
    "api-groups-list": Case(
        api=True,
        view_right=SEGMENTS,
        writes=[Write("post", ("add", "segments"), lambda w: {"name": "Nouveau groupe"})],
    ),
    "api-groups-detail": Case(
        api=True,
        kwargs=pk_of("group"),
        view_right=SEGMENTS,
        scoped=True,
        writes=[
            Write("patch", ("change", "segments"), lambda w: {"description": "Bureau"}),
            Write("delete", ("delete", "segments")),
        ],
    ),
    "api-groups-members": Case(
        api=True,
        kwargs=pk_of("group"),
        view_right=SEGMENTS,
        scoped=True,
        writes=[
            Write(
                "post",
                ("change", "segments"),
                lambda w: {"contacts": [w.contact.pk], "structures": [w.structure.pk]},
            )
        ],
    ),
    "api-groups-members-remove": Case(
        api=True,
        kwargs=pk_of("group"),
        get=False,
        scoped=True,
        writes=[Write("post", ("change", "segments"), lambda w: {"contacts": [w.contact.pk]})],
    ),
    "api-households-list": Case(
        api=True,
        view_right=CONTACTS,
        writes=[Write("post", ("add", "contacts"), lambda w: {"name": "Foyer Nouveau"})],
    ),
    "api-households-detail": Case(
        api=True,
        kwargs=pk_of("household"),
        view_right=CONTACTS,
        scoped=True,
        writes=[
            Write(
                "patch",
                ("change", "contacts"),
                lambda w: {"city": "Lyon", "members": [w.contact.pk]},
            ),
            Write("delete", ("delete", "contacts")),
        ],
    ),
    "api-households-apply-address": Case(
        api=True,
        kwargs=pk_of("household"),
        get=False,
        scoped=True,
        writes=[Write("post", ("change", "contacts"))],
    ),
}
