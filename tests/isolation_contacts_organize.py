"""Isolation cases of the organising pages: labels, custom fields, groups, households, trash."""

from __future__ import annotations

from tests.isolation import Case, Write, pk_of

CASES: dict[str, Case] = {
    # Labels: anyone who sees contacts sees them; writing them is a setting.
    "label_list": Case(view_right=("view", "contacts")),
    "label_create": Case(
        view_right=("add", "settings"),
        writes=[
            Write("post", ("add", "settings"), lambda w: {"name": "Donateur", "color": "#2563eb"})
        ],
    ),
    "label_edit": Case(
        kwargs=pk_of("label"),
        view_right=("change", "settings"),
        scoped=True,
        writes=[
            Write(
                "post",
                ("change", "settings"),
                lambda w: {"name": "Bénévole actif", "color": "#16a34a"},
            )
        ],
    ),
    "label_delete": Case(
        kwargs=pk_of("label"),
        get=False,
        scoped=True,
        writes=[Write("post", ("delete", "settings"))],
    ),
    # Custom fields
    "custom_field_list": Case(view_right=("view", "settings")),
    "custom_field_create": Case(
        view_right=("add", "settings"),
        writes=[
            Write(
                "post",
                ("add", "settings"),
                lambda w: {"target": "contact", "name": "Profession", "field_type": "text"},
            )
        ],
    ),
    "custom_field_edit": Case(
        kwargs=pk_of("custom_field"),
        view_right=("change", "settings"),
        scoped=True,
        writes=[
            Write(
                "post",
                ("change", "settings"),
                lambda w: {"name": "Régime", "choices": "Végétarien\nSans gluten", "position": 1},
            )
        ],
    ),
    "custom_field_rename_choice": Case(
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
    "custom_field_delete": Case(
        kwargs=pk_of("custom_field"),
        view_right=("delete", "settings"),
        scoped=True,
        writes=[Write("post", ("delete", "settings"))],
    ),
    # Groups (data type « segments »)
    "group_list": Case(view_right=("view", "segments")),
    "group_create": Case(
        view_right=("add", "segments"),
        writes=[Write("post", ("add", "segments"), lambda w: {"name": "Sortie au musée"})],
    ),
    "group_detail": Case(
        kwargs=pk_of("group"),
        view_right=("view", "segments"),
        scoped=True,
        writes=[Write("post", ("change", "segments"), lambda w: {"name": "Bureau"})],
    ),
    "group_member_search": Case(
        kwargs=pk_of("group"), view_right=("view", "segments"), scoped=True
    ),
    "group_add_members": Case(
        kwargs=pk_of("group"),
        get=False,
        scoped=True,
        writes=[
            Write(
                "post",
                ("change", "segments"),
                lambda w: {"contacts": [w.contact.pk], "structures": [w.structure.pk]},
            )
        ],
    ),
    "group_remove_members": Case(
        kwargs=pk_of("group"),
        get=False,
        scoped=True,
        writes=[Write("post", ("change", "segments"), lambda w: {"contacts": [w.contact.pk]})],
    ),
    "group_delete": Case(
        kwargs=pk_of("group"),
        get=False,
        scoped=True,
        writes=[Write("post", ("delete", "segments"))],
    ),
    # Households (data type « contacts »)
    "household_detail": Case(
        kwargs=pk_of("household"),
        view_right=("view", "contacts"),
        scoped=True,
        writes=[
            Write(
                "post", ("change", "contacts"), lambda w: {"name": "Foyer Dupont", "country": "FR"}
            )
        ],
    ),
    "household_create": Case(
        view_right=("add", "contacts"),
        writes=[
            Write("post", ("add", "contacts"), lambda w: {"name": "Foyer Martin", "country": "FR"})
        ],
    ),
    "household_choose": Case(
        kwargs=lambda w: {"contact": w.contact.pk}, view_right=("change", "contacts"), scoped=True
    ),
    "household_member_search": Case(
        kwargs=pk_of("household"), view_right=("change", "contacts"), scoped=True
    ),
    "household_add_member": Case(
        kwargs=pk_of("household"),
        get=False,
        scoped=True,
        writes=[Write("post", ("change", "contacts"), lambda w: {"contact": w.contact.pk})],
    ),
    "household_remove_member": Case(
        kwargs=pk_of("household"),
        get=False,
        scoped=True,
        writes=[Write("post", ("change", "contacts"), lambda w: {"contact": w.contact.pk})],
    ),
    "household_apply_address": Case(
        kwargs=pk_of("household"),
        get=False,
        scoped=True,
        writes=[Write("post", ("change", "contacts"))],
    ),
    "household_delete": Case(
        kwargs=pk_of("household"),
        get=False,
        scoped=True,
        writes=[Write("post", ("delete", "contacts"))],
    ),
    # Trash
    "trash": Case(view_right=("view", "contacts")),
    "trash_restore": Case(
        get=False,
        writes=[
            Write(
                "post",
                ("change", "contacts"),
                lambda w: {"model": "contact", "ids": [w.trashed_contact.pk]},
            )
        ],
    ),
}
