"""Pages that organise the community: labels, custom fields, groups, households, trash."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lien.contacts import services
from lien.contacts.models import (
    Contact,
    ContactLabel,
    CustomField,
    Group,
    GroupMembership,
    Household,
    Label,
    LabelOrigin,
    Structure,
)
from lien.core.audit import Actor

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system()


def contact(org, first: str, last: str, **data) -> Contact:
    return services.create_contact(
        organization=org,
        actor=SYSTEM,
        data={"first_name": first, "last_name": last, **data},
        allow_duplicate_email=True,
    )


def structure(org, name: str) -> Structure:
    return services.create_structure(organization=org, actor=SYSTEM, data={"name": name})


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# Labels ---------------------------------------------------------------------------------


def test_label_list_counts_contacts_and_structures_without_the_trash(org, admin_client):
    # Given a label on two contacts (one twice: manual and automatic), a structure,
    # and a contact in the trash
    label = services.save_label(organization=org, actor=SYSTEM, name="Bénévole", color="#16a34a")
    alice, bruno, gone = (
        contact(org, "Alice", "Martin"),
        contact(org, "Bruno", "Petit"),
        contact(org, "Chloé", "Roux"),
    )
    services.add_labels(
        organization=org,
        actor=SYSTEM,
        model=Contact,
        ids=[alice.pk, bruno.pk, gone.pk],
        labels=[label],
    )
    services.add_labels(
        organization=org,
        actor=SYSTEM,
        model=Contact,
        ids=[alice.pk],
        labels=[label],
        origin=LabelOrigin.AUTOMATIC,
    )
    mairie = structure(org, "Mairie de Lyon")
    services.add_labels(
        organization=org, actor=SYSTEM, model=Structure, ids=[mairie.pk], labels=[label]
    )
    services.trash(organization=org, actor=SYSTEM, model=Contact, ids=[gone.pk])

    # When the settings page is shown
    response = admin_client.get(reverse("label_list"))

    # Then each label says how many records carry it, and the delete confirmation too
    assert response.status_code == 200
    [row] = response.context["labels"]
    assert (row.name, row.contact_count, row.structure_count) == ("Bénévole", 2, 1)
    page = response.content.decode()
    assert "Peu d'étiquettes, pour de grandes catégories (Bénévole, Donateur, Partenaire…)" in page
    assert "Elle sera retirée de 2 contacts et 1 structure." in page
    assert 'style="--label: #16a34a"' in page


def test_label_list_runs_the_same_queries_for_3_or_30_labels(org, admin_client):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(reverse("label_list")).status_code == 200
        return len(captured)

    for i in range(3):
        services.save_label(organization=org, actor=SYSTEM, name=f"É{i}", color="#000000")
    few = queries()
    for i in range(3, 30):
        services.save_label(organization=org, actor=SYSTEM, name=f"É{i}", color="#000000")

    assert queries() == few


def test_create_edit_and_delete_a_label(org, admin_client):
    # Create
    response = admin_client.post(
        reverse("label_create"), {"name": "  Donateur ", "color": "#2563eb"}, follow=True
    )
    label = Label.objects.for_org(org).get()
    assert (label.name, label.color) == ("Donateur", "#2563eb")
    assert messages_of(response) == ["Étiquette « Donateur » enregistrée."]

    # A second one with the same name is refused on the name field
    response = admin_client.post(reverse("label_create"), {"name": "donateur", "color": "#000000"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"name": ["L'étiquette « donateur » existe déjà."]}

    # Edit
    response = admin_client.post(
        reverse("label_edit", args=[label.pk]),
        {"name": "Donateur", "color": "#ff0000"},
        follow=True,
    )
    assert messages_of(response) == ["Étiquette « Donateur » enregistrée."]
    label.refresh_from_db()
    assert label.color == "#ff0000"

    # Delete: detached everywhere, the message says from how many records
    alice = contact(org, "Alice", "Martin")
    services.add_labels(
        organization=org, actor=SYSTEM, model=Contact, ids=[alice.pk], labels=[label]
    )
    response = admin_client.post(reverse("label_delete", args=[label.pk]), follow=True)
    assert messages_of(response) == [
        "Étiquette « Donateur » supprimée : retirée de 1 contact(s) et 0 structure(s)."
    ]
    assert not Label.objects.for_org(org).exists()
    assert not ContactLabel.objects.for_org(org).exists()


def test_a_reader_sees_labels_without_any_write_link(org, reader_client):
    label = services.save_label(organization=org, actor=SYSTEM, name="Presse", color="#64748b")

    page = reader_client.get(reverse("label_list")).content.decode()

    assert "Presse" in page
    assert reverse("label_edit", args=[label.pk]) not in page
    assert reverse("label_create") not in page
    assert (
        reader_client.post(reverse("label_create"), {"name": "X", "color": "#000000"}).status_code
        == 403
    )


# Custom fields --------------------------------------------------------------------------


def _transport_field(org, target="contact") -> CustomField:
    return services.save_custom_field(
        organization=org,
        actor=SYSTEM,
        target=target,
        name="Moyen de transport",
        field_type="choice",
        choices=["Bus", "Voiture", "À pied"],
    )


def test_create_a_custom_field_with_choices_one_per_line(org, admin_client):
    response = admin_client.post(
        reverse("custom_field_create") + "?cible=group",
        {
            "target": "group",
            "name": "Moyen de transport",
            "field_type": "choice",
            "choices": "Bus\r\nVoiture\r\n\r\nbus\r\nÀ pied",
            "required": "on",
            "help_text": "Pour la sortie",
            "position": "2",
        },
        follow=True,
    )

    field = CustomField.objects.for_org(org).get()
    assert (field.target, field.key, field.field_type) == ("group", "moyen_de_transport", "choice")
    assert field.choices == ["Bus", "Voiture", "À pied"]
    assert (field.required, field.sensitive, field.position) == (True, False, 2)
    assert messages_of(response) == ["Champ « Moyen de transport » créé."]
    page = admin_client.get(reverse("custom_field_list")).content.decode()
    assert "Moyen de transport" in page and "Liste déroulante" in page


def test_custom_field_create_preselects_the_target_and_errors_land_on_their_field(
    org, admin_client
):
    form = admin_client.get(reverse("custom_field_create") + "?cible=structure").context["form"]
    assert form["target"].value() == "structure"

    response = admin_client.post(
        reverse("custom_field_create"),
        {
            "target": "contact",
            "name": "Compétences",
            "field_type": "multiple_choice",
            "choices": "",
        },
    )
    assert response.context["form"].errors == {"choices": ["Indiquez au moins un choix possible."]}


def test_the_type_of_a_field_does_not_change_and_a_used_choice_cannot_be_dropped(org, admin_client):
    field = _transport_field(org)
    contact(org, "Alice", "Martin")
    services.update_contact(
        organization=org,
        actor=SYSTEM,
        contact=Contact.objects.for_org(org).get(),
        data={},
        custom={field.key: "Bus"},
    )

    response = admin_client.post(
        reverse("custom_field_edit", args=[field.pk]),
        {"name": "Transport", "field_type": "text", "choices": "Voiture\nÀ pied", "position": "0"},
    )

    assert response.context["form"].errors == {
        "choices": [
            "Des fiches utilisent encore « Bus » : renommez ce choix plutôt que de le retirer."
        ]
    }
    field.refresh_from_db()
    assert (field.name, field.field_type) == ("Moyen de transport", "choice")


def test_renaming_a_choice_carries_the_values_along(org, admin_client):
    # Given three contacts on the bus and one by car
    field = _transport_field(org)
    for first, value in [
        ("Alice", "Bus"),
        ("Bruno", "Bus"),
        ("Chloé", "Bus"),
        ("David", "Voiture"),
    ]:
        services.create_contact(
            organization=org, actor=SYSTEM, data={"first_name": first}, custom={field.key: value}
        )

    # When « Bus » is renamed
    response = admin_client.post(
        reverse("custom_field_rename_choice", args=[field.pk]),
        {"old": "Bus", "new": "Autocar"},
        follow=True,
    )

    # Then every value follows and the page says how many records changed
    assert messages_of(response) == [
        "Choix « Bus » renommé en « Autocar » : 3 fiche(s) mise(s) à jour."
    ]
    values = sorted(c.custom[field.key] for c in Contact.objects.for_org(org))
    assert values == ["Autocar", "Autocar", "Autocar", "Voiture"]
    field.refresh_from_db()
    assert field.choices == ["Autocar", "Voiture", "À pied"]

    # And renaming onto an existing choice is refused on the « new » field
    response = admin_client.post(
        reverse("custom_field_rename_choice", args=[field.pk]), {"old": "Autocar", "new": "voiture"}
    )
    assert response.context["rename_form"].errors == {"new": ["Le choix « voiture » existe déjà."]}


def test_deleting_a_field_first_says_how_many_values_go(org, admin_client):
    field = _transport_field(org)
    for first in ["Alice", "Bruno"]:
        services.create_contact(
            organization=org, actor=SYSTEM, data={"first_name": first}, custom={field.key: "Bus"}
        )
    contact(org, "Chloé", "Roux")

    confirmation = admin_client.get(reverse("custom_field_delete", args=[field.pk]))

    assert confirmation.context["count"] == 2
    assert "2 valeurs seront supprimées." in confirmation.content.decode()
    assert CustomField.objects.for_org(org).exists()

    response = admin_client.post(reverse("custom_field_delete", args=[field.pk]), follow=True)

    assert messages_of(response) == [
        "Champ « Moyen de transport » supprimé, avec 2 valeur(s) enregistrée(s)."
    ]
    assert not CustomField.objects.for_org(org).exists()
    assert [c.custom for c in Contact.objects.for_org(org)] == [{}, {}, {}]


# Groups ---------------------------------------------------------------------------------


def test_create_a_group_with_its_own_field_values(org, admin_client):
    field = _transport_field(org, target="group")
    services.save_custom_field(
        organization=org, actor=SYSTEM, target="group", name="Envoi invitation", field_type="date"
    )

    # A wrong value is refused on its field, nothing is saved
    response = admin_client.post(
        reverse("group_create"),
        {
            "name": "Sortie au musée",
            "custom__moyen_de_transport": "Bus",
            "custom__envoi_invitation": "31/02/2019",
        },
    )
    assert response.context["form"].errors == {
        "custom__envoi_invitation": [
            "« Envoi invitation » : « 31/02/2019 » n'est pas une date valide (JJ/MM/AAAA)."
        ]
    }
    assert not Group.objects.for_org(org).exists()

    response = admin_client.post(
        reverse("group_create"),
        {
            "name": "Sortie au musée",
            "description": "Octobre",
            "custom__moyen_de_transport": "Bus",
            "custom__envoi_invitation": "2019-07-17",
        },
    )

    group = Group.objects.for_org(org).get()
    assert response["Location"] == reverse("group_detail", args=[group.pk])
    assert group.custom == {field.key: "Bus", "envoi_invitation": "2019-07-17"}
    page = admin_client.get(reverse("group_detail", args=[group.pk]))
    assert [(v.field.name, v.display) for v in page.context["values"]] == [
        ("Moyen de transport", "Bus"),
        ("Envoi invitation", "17/07/2019"),
    ]


def test_edit_a_group_on_its_page(org, admin_client, reader_client):
    _transport_field(org, target="group")
    group = services.save_group(organization=org, actor=SYSTEM, name="Chorale")

    admin_client.post(
        reverse("group_detail", args=[group.pk]),
        {
            "name": "Chorale du quartier",
            "description": "Le jeudi",
            "custom__moyen_de_transport": "À pied",
        },
    )

    group.refresh_from_db()
    assert (group.name, group.description, group.custom) == (
        "Chorale du quartier",
        "Le jeudi",
        {"moyen_de_transport": "À pied"},
    )
    reader_page = reader_client.get(reverse("group_detail", args=[group.pk])).content.decode()
    assert "<dt>Moyen de transport</dt><dd>À pied</dd>" in reader_page
    assert reverse("group_remove_members", args=[group.pk]) not in reader_page


def test_list_groups_with_their_member_count(org, admin_client):
    ca = services.save_group(organization=org, actor=SYSTEM, name="Conseil")
    services.save_group(organization=org, actor=SYSTEM, name="Atelier vélo")
    people = [contact(org, f"P{i}", "Durand") for i in range(3)]
    services.add_to_group(
        organization=org,
        actor=SYSTEM,
        group=ca,
        contact_ids=[p.pk for p in people],
        structure_ids=[structure(org, "Mairie").pk],
    )
    services.trash(organization=org, actor=SYSTEM, model=Contact, ids=[people[0].pk])

    response = admin_client.get(reverse("group_list"))

    assert [(g.name, g.member_count) for g in response.context["page"]] == [
        ("Atelier vélo", 0),
        ("Conseil", 3),
    ]


def test_add_members_by_search_and_remove_them_with_checkboxes(org, admin_client):
    group = services.save_group(organization=org, actor=SYSTEM, name="Bureau")
    eloise = contact(org, "Éloïse", "Lefèvre", email="eloise@example.org")
    contact(org, "Marc", "Durand")
    mairie = structure(org, "Mairie de Lyon")

    # The quick search ignores accents and case
    results = admin_client.get(reverse("group_member_search", args=[group.pk]), {"q": "eloise LEF"})
    assert [c.pk for c in results.context["contacts"]] == [eloise.pk]
    assert "Ajouter" in results.content.decode()

    response = admin_client.post(
        reverse("group_add_members", args=[group.pk]),
        {"contacts": [eloise.pk], "structures": [mairie.pk]},
        follow=True,
    )
    assert messages_of(response) == ["2 membre(s) ajouté(s) au groupe."]
    # Newest first: the structure was added after the contact
    assert [str(m.contact or m.structure) for m in response.context["members"].rows] == [
        "Mairie de Lyon",
        "Éloïse Lefèvre",
    ]

    # Already a member: the search says so instead of offering « Ajouter »
    results = admin_client.get(reverse("group_member_search", args=[group.pk]), {"q": "mairie"})
    assert [s.in_group for s in results.context["structures"]] == [True]
    assert "Déjà dans le groupe" in results.content.decode()

    response = admin_client.post(
        reverse("group_remove_members", args=[group.pk]),
        {"contacts": [eloise.pk], "structures": [mairie.pk]},
        follow=True,
    )
    assert messages_of(response) == ["2 membre(s) retiré(s) du groupe."]
    assert not GroupMembership.objects.for_org(org).exists()
    assert Contact.objects.for_org(org).count() == 2


def test_group_members_are_paginated_by_keyset(org, admin_client):
    group = services.save_group(organization=org, actor=SYSTEM, name="Grand groupe")
    people = Contact.objects.bulk_create(
        [Contact(organization=org, first_name=f"P{i:02d}", last_name="Durand") for i in range(60)]
    )
    start = timezone.now() - dt.timedelta(days=1)
    GroupMembership.objects.bulk_create(
        [
            GroupMembership(
                organization=org, group=group, contact=p, added_at=start + dt.timedelta(minutes=i)
            )
            for i, p in enumerate(people)
        ]
    )

    first = admin_client.get(reverse("group_detail", args=[group.pk]))
    rows = first.context["members"].rows
    assert [m.contact.first_name for m in rows[:2]] == ["P59", "P58"]
    assert len(rows) == 50

    cursor = first.context["members"].next_cursor
    second = admin_client.get(reverse("group_detail", args=[group.pk]), {"apres": cursor})
    assert [m.contact.first_name for m in second.context["members"].rows] == [
        f"P{i:02d}" for i in range(9, -1, -1)
    ]
    assert second.context["members"].next_cursor == ""


def _group_with(org, count: int) -> Group:
    group = services.save_group(organization=org, actor=SYSTEM, name=f"Groupe de {count}")
    people = Contact.objects.bulk_create(
        [Contact(organization=org, first_name=f"P{i}", last_name=f"G{count}") for i in range(count)]
    )
    places = Structure.objects.bulk_create(
        [Structure(organization=org, name=f"S{i} G{count}") for i in range(count // 5)]
    )
    services.add_to_group(
        organization=org,
        actor=SYSTEM,
        group=group,
        contact_ids=[p.pk for p in people],
        structure_ids=[s.pk for s in places],
    )
    return group


def test_group_page_queries_do_not_grow_with_its_members(
    org, admin_client, django_assert_max_num_queries
):
    _transport_field(org, target="group")
    small, large = _group_with(org, 5), _group_with(org, 50)
    with CaptureQueriesContext(connection) as captured:
        assert admin_client.get(reverse("group_detail", args=[small.pk])).status_code == 200
    five = len(captured)

    with django_assert_max_num_queries(five):
        response = admin_client.get(reverse("group_detail", args=[large.pk]))

    assert len(response.context["members"].rows) == 50


def test_delete_a_group_keeps_its_members(org, admin_client):
    group = _group_with(org, 5)

    response = admin_client.post(reverse("group_delete", args=[group.pk]), follow=True)

    assert messages_of(response) == [
        "Groupe « Groupe de 5 » supprimé ; ses 6 membre(s) restent dans le CRM."
    ]
    assert not Group.objects.for_org(org).exists()
    assert Contact.objects.for_org(org).count() == 5


# Households -----------------------------------------------------------------------------

ADDRESS = {"street": "12 rue des Lilas", "postal_code": "69003", "city": "Lyon", "country": "FR"}


def test_create_a_household_from_a_contact_takes_their_address(org, admin_client):
    alice = contact(org, "Alice", "Martin", **ADDRESS)

    form = admin_client.get(reverse("household_create"), {"contact": alice.pk}).context["form"]
    assert {k: form.initial[k] for k in ["name", "street", "postal_code", "city"]} == {
        "name": "Foyer Martin",
        "street": "12 rue des Lilas",
        "postal_code": "69003",
        "city": "Lyon",
    }

    response = admin_client.post(
        reverse("household_create") + f"?contact={alice.pk}",
        {"name": "Foyer Martin", **ADDRESS},
    )

    household = Household.objects.for_org(org).get()
    assert response["Location"] == reverse("household_detail", args=[household.pk])
    assert (household.street, household.city) == ("12 rue des Lilas", "Lyon")
    alice.refresh_from_db()
    assert alice.household_id == household.pk


def test_household_name_is_required_on_its_field(org, admin_client):
    response = admin_client.post(reverse("household_create"), {"name": "   ", "country": "FR"})

    assert response.context["form"].errors == {"name": ["Ce champ est obligatoire."]}
    assert not Household.objects.for_org(org).exists()


def test_apply_the_household_address_to_every_member(org, admin_client):
    household = services.save_household(
        organization=org, actor=SYSTEM, name="Foyer Martin", address=ADDRESS
    )
    alice = contact(org, "Alice", "Martin", city="Paris")
    bruno = contact(org, "Bruno", "Martin")
    services.set_household(
        organization=org, actor=SYSTEM, contacts=[alice, bruno], household=household
    )

    page = admin_client.get(reverse("household_detail", args=[household.pk])).content.decode()
    assert "2 membres ont une autre adresse que celle du foyer." in page
    assert reverse("contact_detail", args=[alice.pk]) in page

    response = admin_client.post(
        reverse("household_apply_address", args=[household.pk]), follow=True
    )

    assert messages_of(response) == ["Adresse du foyer appliquée à 2 contact(s)."]
    assert response.context["different_address"] == 0
    assert sorted(Contact.objects.for_org(org).values_list("street", "city")) == [
        ("12 rue des Lilas", "Lyon"),
        ("12 rue des Lilas", "Lyon"),
    ]


def test_add_and_remove_a_household_member(org, admin_client):
    household = services.save_household(organization=org, actor=SYSTEM, name="Foyer Roux")
    chloe = contact(org, "Chloé", "Roux")

    found = admin_client.get(reverse("household_choose", args=[chloe.pk]), {"q": "roux"})
    assert [h.name for h in found.context["households"]] == ["Foyer Roux"]
    results = admin_client.get(
        reverse("household_member_search", args=[household.pk]), {"q": "chloe"}
    )
    assert [c.pk for c in results.context["contacts"]] == [chloe.pk]

    response = admin_client.post(
        reverse("household_add_member", args=[household.pk]), {"contact": chloe.pk}, follow=True
    )
    assert messages_of(response) == ["Chloé Roux fait maintenant partie du foyer « Foyer Roux »."]
    assert [m.pk for m in response.context["members"]] == [chloe.pk]

    response = admin_client.post(
        reverse("household_remove_member", args=[household.pk]), {"contact": chloe.pk}, follow=True
    )
    assert messages_of(response) == ["Chloé Roux ne fait plus partie du foyer."]
    chloe.refresh_from_db()
    assert chloe.household_id is None


def test_delete_a_household_keeps_its_members(org, admin_client):
    household = services.save_household(organization=org, actor=SYSTEM, name="Foyer Roux")
    chloe = contact(org, "Chloé", "Roux")
    services.set_household(organization=org, actor=SYSTEM, contacts=[chloe], household=household)

    response = admin_client.post(reverse("household_delete", args=[household.pk]))

    assert response["Location"] == reverse("contact_detail", args=[chloe.pk])

    assert not Household.objects.for_org(org).exists()
    chloe.refresh_from_db()
    assert (chloe.is_deleted, chloe.household_id) == (False, None)


# Trash ----------------------------------------------------------------------------------


def test_trash_lists_deleted_records_with_their_purge_date_and_restores_many(org, admin_client):
    alice, bruno, chloe = (contact(org, n, "Martin") for n in ["Alice", "Bruno", "Chloé"])
    services.trash(
        organization=org, actor=SYSTEM, model=Contact, ids=[alice.pk, bruno.pk, chloe.pk]
    )
    Contact.objects.filter(pk=alice.pk).update(
        deleted_at=dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
    )
    structure_gone = structure(org, "Ancienne mairie")
    services.trash(organization=org, actor=SYSTEM, model=Structure, ids=[structure_gone.pk])

    response = admin_client.get(reverse("trash"))

    rows = response.context["page"].rows
    assert [r.first_name for r in rows][-1] == "Alice"
    assert rows[-1].purge_on.date() == dt.date(2026, 3, 31)
    assert response.context["tabs"] == [
        ("contacts", "Contacts", 3),
        ("structures", "Structures", 1),
    ]
    assert "31/03/2026" in response.content.decode()

    response = admin_client.post(
        reverse("trash_restore"), {"model": "contact", "ids": [alice.pk, chloe.pk]}, follow=True
    )

    assert messages_of(response) == ["2 fiche(s) restaurée(s)."]
    assert sorted(
        Contact.objects.for_org(org).not_deleted().values_list("first_name", flat=True)
    ) == [
        "Alice",
        "Chloé",
    ]
    structures = admin_client.get(reverse("trash"), {"quoi": "structures"})
    assert [s.name for s in structures.context["page"].rows] == ["Ancienne mairie"]


def test_a_reader_sees_the_trash_but_cannot_restore(org, reader_client):
    alice = contact(org, "Alice", "Martin")
    services.trash(organization=org, actor=SYSTEM, model=Contact, ids=[alice.pk])

    response = reader_client.get(reverse("trash"))

    assert [r.pk for r in response.context["page"].rows] == [alice.pk]
    assert response.context["can_restore"] is False
    assert 'name="ids"' not in response.content.decode()
    assert (
        reader_client.post(
            reverse("trash_restore"), {"model": "contact", "ids": [alice.pk]}
        ).status_code
        == 403
    )
