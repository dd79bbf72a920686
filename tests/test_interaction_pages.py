"""Interaction pages: recording from the card, in bulk, the sections of the cards and the
group page, the table, edit/delete rules, and the settings of types, categories, labels."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lien.contacts import services as contacts
from lien.contacts.models import Contact
from lien.core.audit import Actor
from lien.core.models import AuditEvent, Membership
from lien.core.services import save_profile
from lien.interactions import services
from lien.interactions.models import (
    Interaction,
    InteractionCategory,
    InteractionLabel,
    InteractionType,
)
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system()
Source = Interaction.Source


def new_contact(org, first: str, last: str) -> Contact:
    return contacts.create_contact(
        organization=org, actor=SYSTEM, data={"first_name": first, "last_name": last}
    )


def record(org, contact, when: str, type_name: str = "Appel téléphonique", **values):
    return services.record_interaction(
        organization=org,
        actor=SYSTEM,
        contact=contact,
        occurred_at=when,
        type=type_name,
        create_missing=True,
        **values,
    )


def type_id(org, name: str) -> int:
    return InteractionType.objects.for_org(org).get(name=name).pk


def rows(response) -> list[str]:
    """Each row as « date · type · contact » (the page's own order)."""
    return [
        f"{timezone.localtime(r.occurred_at):%d/%m %H:%M} · {r.type.name} · {r.contact}"
        for r in response.context["page"].rows
    ]


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# Recording from the contact card ----------------------------------------------------------


def test_recording_from_the_card_creates_names_on_the_fly(org, admin_client, admin_member):
    # Given a contact linked to a structure
    helene = new_contact(org, "Hélène", "Lefèvre")
    mairie = contacts.create_structure(organization=org, actor=SYSTEM, data={"name": "Mairie"})
    contacts.save_structure_link(organization=org, actor=SYSTEM, contact=helene, structure=mairie)

    # When a volunteer records a visit with a new type, category and label
    response = admin_client.post(
        reverse("contact_interaction_create", args=[helene.pk]),
        {
            "new_type": "Visite au local",
            "occurred_at": "2026-05-04T18:30",
            "new_category": "Vie associative",
            "new_label": "Portes ouvertes 2026",
            "structure": mairie.pk,
            "description": "Est venue avec sa fille.",
        },
    )

    # Then it is recorded with every value, and the card lists it
    assert response.status_code == 302
    assert response["Location"] == reverse("contact_detail", args=[helene.pk]) + "#interactions"
    [interaction] = Interaction.objects.for_org(org)
    assert (
        interaction.contact,
        timezone.localtime(interaction.occurred_at).strftime("%d/%m/%Y %H:%M"),
        interaction.type.name,
        interaction.status,
        interaction.category.name,
        interaction.label.name,
        interaction.structure,
        interaction.description,
        interaction.source,
        interaction.recorded_by,
    ) == (
        helene,
        "04/05/2026 18:30",
        "Visite au local",
        "active",
        "Vie associative",
        "Portes ouvertes 2026",
        mairie,
        "Est venue avec sa fille.",
        "manual",
        admin_member.user,
    )
    section = admin_client.get(reverse("contact_interactions", args=[helene.pk]))
    assert rows(section) == ["04/05 18:30 · Visite au local · Hélène Lefèvre"]
    html = section.content.decode()
    assert "Portes ouvertes 2026" in html and "Saisie manuelle" in html
    assert f'<option value="{mairie.pk}">Mairie</option>' in html


def test_the_status_defaults_to_the_types_and_can_be_overridden(org, admin_client):
    camille = new_contact(org, "Camille", "Roux")
    url = reverse("contact_interaction_create", args=[camille.pk])
    courrier = type_id(org, "Courrier")  # passive by default

    admin_client.post(url, {"type": courrier, "occurred_at": "2026-01-10T00:00"})
    admin_client.post(url, {"type": courrier, "occurred_at": "2026-01-11", "status": "active"})

    statuses = list(
        Interaction.objects.for_org(org).order_by("occurred_at").values_list("status", flat=True)
    )
    assert statuses == ["passive", "active"]


def test_bad_input_gives_french_field_messages_and_writes_nothing(org, other_org, admin_client):
    camille = new_contact(org, "Camille", "Roux")
    stranger = new_contact(other_org, "Paul", "Ailleurs")
    categories_before = InteractionCategory.objects.count()

    missing = admin_client.post(reverse("contact_interaction_create", args=[camille.pk]), {})
    impossible = admin_client.post(
        reverse("contact_interaction_create", args=[camille.pk]),
        {
            "type": type_id(org, "Rencontre"),
            "occurred_at": "2026-02-30T10:00",
            "new_category": "Catégorie fantôme",
        },
    )
    foreign = admin_client.post(
        reverse("interaction_create"),
        {
            "contact": stranger.pk,
            "type": type_id(org, "Rencontre"),
            "occurred_at": "2026-02-03T10:00",
        },
    )

    assert missing.status_code == 200
    assert missing.context["form"].errors == {
        "occurred_at": ["La date est obligatoire."],
        "type": ["Le type est obligatoire."],
    }
    assert impossible.context["form"].errors == {
        "occurred_at": [
            "« 2026-02-30T10:00 » n'est pas une date valide (JJ/MM/AAAA ou JJ/MM/AAAA HH:MM)."
        ]
    }
    assert foreign.context["form"].errors == {
        "contact": ["Contact inconnu dans votre association."]
    }
    assert "Contact inconnu dans votre association." in foreign.content.decode()
    assert Interaction.objects.count() == 0
    assert InteractionCategory.objects.count() == categories_before


def test_new_interaction_from_the_table_picks_the_contact_by_quick_search(org, admin_client):
    helene = new_contact(org, "Hélène", "Lefèvre")
    new_contact(org, "Paul", "Martin")

    found = admin_client.get(reverse("interaction_contact_search"), {"q": "lefe"})
    response = admin_client.post(
        reverse("interaction_create"),
        {"contact": helene.pk, "type": type_id(org, "Email"), "occurred_at": "2026-03-01T09:00"},
    )

    assert [str(c) for c in found.context["results"]] == ["Hélène Lefèvre"]
    assert response.status_code == 302
    assert Interaction.objects.get().contact == helene


# The card sections ----------------------------------------------------------------------


def test_timeline_is_newest_first_filtered_and_paginated(org, admin_client):
    camille = new_contact(org, "Camille", "Roux")
    for day in range(1, 13):
        record(org, camille, f"2026-01-{day:02d}T10:00")
    record(org, camille, "2026-02-01", "Courrier", category="Collecte")
    url = reverse("contact_interactions", args=[camille.pk])

    first = admin_client.get(url, headers={"HX-Request": "true"})
    second = admin_client.get(url, {"apres": first.context["page"].next_cursor})
    by_type = admin_client.get(url, {"type": type_id(org, "Courrier")})
    by_category = admin_client.get(
        url, {"categorie": InteractionCategory.objects.for_org(org).get(name="Collecte").pk}
    )
    passive = admin_client.get(url, {"statut": "passive"})

    assert first.templates[0].name == "interactions/partials/_section.html"
    assert rows(first)[:3] == [
        "01/02 00:00 · Courrier · Camille Roux",
        "12/01 10:00 · Appel téléphonique · Camille Roux",
        "11/01 10:00 · Appel téléphonique · Camille Roux",
    ]
    assert len(rows(first)) == 10
    assert rows(second) == [
        f"{d:02d}/01 10:00 · Appel téléphonique · Camille Roux" for d in (3, 2, 1)
    ]
    assert (
        rows(by_type)
        == rows(by_category)
        == rows(passive)
        == ["01/02 00:00 · Courrier · Camille Roux"]
    )
    # Midnight means « no time given »: only the date shows
    assert "01/02/2026</td>" in first.content.decode()


def test_owned_interaction_cannot_be_edited_or_deleted_and_says_why(org, admin_client):
    camille = new_contact(org, "Camille", "Roux")
    paid = record(org, camille, "2026-03-01", "Paiement", source=Source.PAYMENT)

    section = admin_client.get(reverse("contact_interactions", args=[camille.pk])).content.decode()
    edit_page = admin_client.get(reverse("interaction_edit", args=[paid.pk])).content.decode()
    edit = admin_client.post(
        reverse("interaction_edit", args=[paid.pk]),
        {"type": paid.type_id, "occurred_at": "2026-03-02T10:00"},
    )
    delete = admin_client.post(reverse("interaction_delete", args=[paid.pk]))

    assert "Créée par le paiement" in section
    assert reverse("interaction_edit", args=[paid.pk]) not in section
    assert "elle ne peut pas être modifiée ni supprimée à la main" in edit_page
    assert edit.context["form"].non_field_errors() == [
        "Cette interaction a été créée par le paiement : elle ne peut pas être modifiée à la "
        "main. Elle change ou disparaît avec le paiement."
    ]
    assert flashed(delete) == [
        "Cette interaction a été créée par le paiement : elle ne peut pas être supprimée à la "
        "main. Elle change ou disparaît avec le paiement."
    ]
    paid.refresh_from_db()
    assert timezone.localtime(paid.occurred_at).date() == dt.date(2026, 3, 1)


def test_a_manual_interaction_is_edited_and_deleted_with_the_audit_trail(org, admin_client):
    camille = new_contact(org, "Camille", "Roux")
    call = record(org, camille, "2026-03-01T10:00")
    back = reverse("interaction_list")

    edit = admin_client.post(
        reverse("interaction_edit", args=[call.pk]),
        {"type": call.type_id, "occurred_at": "2026-03-01T11:15", "new_label": "Relance",
         "retour": back},
    )  # fmt: skip
    call.refresh_from_db()
    delete = admin_client.post(
        reverse("interaction_delete", args=[call.pk]), {"retour": "https://ailleurs.example/"}
    )

    assert edit["Location"] == back
    assert (timezone.localtime(call.occurred_at).strftime("%H:%M"), call.label.name) == (
        "11:15",
        "Relance",
    )
    assert delete["Location"] == reverse("contact_detail", args=[camille.pk])
    assert not Interaction.objects.filter(pk=call.pk).exists()
    actions = list(
        AuditEvent.objects.filter(target_id=call.pk, target_type__model="interaction")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update", "delete"]


def test_rollup_shows_a_members_interaction_once_even_when_recorded_with_the_structure(
    org, admin_client
):
    # Given a structure, a linked member and an outside contact
    mairie = contacts.create_structure(organization=org, actor=SYSTEM, data={"name": "Mairie"})
    elue = new_contact(org, "Anne", "Élue")
    visiteur = new_contact(org, "Paul", "Visiteur")
    contacts.save_structure_link(organization=org, actor=SYSTEM, contact=elue, structure=mairie)
    record(org, elue, "2026-04-03T10:00", "Rencontre", structure=mairie)  # both at once
    record(org, elue, "2026-04-02T10:00", "Email")  # the member's own
    record(org, visiteur, "2026-04-01T10:00", "Courrier", structure=mairie)  # with the structure
    record(org, visiteur, "2026-03-31T10:00", "Email")  # not the structure's

    response = admin_client.get(reverse("structure_interactions", args=[mairie.pk]))

    assert rows(response) == [
        "03/04 10:00 · Rencontre · Anne Élue",
        "02/04 10:00 · Email · Anne Élue",
        "01/04 10:00 · Courrier · Paul Visiteur",
    ]
    html = response.content.decode()
    assert html.count("<strong>La structure</strong>") == 2


def test_group_page_lists_the_members_interactions(org, admin_client):
    group = contacts.save_group(organization=org, actor=SYSTEM, name="Gala")
    inside, outside = new_contact(org, "Anne", "Dedans"), new_contact(org, "Paul", "Dehors")
    contacts.add_to_group(organization=org, actor=SYSTEM, group=group, contact_ids=[inside.pk])
    record(org, inside, "2026-04-03T10:00", "Email")
    record(org, inside, "2026-04-02T10:00", "Courrier")
    record(org, outside, "2026-04-01T10:00", "Email")

    everything = admin_client.get(reverse("group_interactions", args=[group.pk]))
    passive = admin_client.get(
        reverse("group_interactions", args=[group.pk]), {"statut": "passive"}
    )

    assert rows(everything) == [
        "03/04 10:00 · Email · Anne Dedans",
        "02/04 10:00 · Courrier · Anne Dedans",
    ]
    assert rows(passive) == ["02/04 10:00 · Courrier · Anne Dedans"]


# Recording for many ---------------------------------------------------------------------


def _gala_group(org):
    group = contacts.save_group(organization=org, actor=SYSTEM, name="Gala 2026")
    members = [new_contact(org, "Membre", f"N{i}") for i in range(3)]
    trashed = new_contact(org, "Ancien", "Membre")
    structure = contacts.create_structure(organization=org, actor=SYSTEM, data={"name": "Club"})
    contacts.add_to_group(
        organization=org,
        actor=SYSTEM,
        group=group,
        contact_ids=[m.pk for m in members] + [trashed.pk],
        structure_ids=[structure.pk],
    )
    contacts.trash(organization=org, actor=SYSTEM, model=Contact, ids=[trashed.pk])
    return group, members


GALA = {
    "new_type": "Invitation gala",
    "occurred_at": "2026-06-01T09:00",
    "status": "passive",
    "new_label": "Gala 2026",
}


def test_bulk_on_a_group_records_one_row_per_contact_member(org, admin_client):
    group, members = _gala_group(org)
    url = reverse("group_interaction_create", args=[group.pk])

    page = admin_client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.post(url, GALA)

    assert page.context["count"] == 3
    assert "3 contacts" in page.content.decode()
    assert response["Location"] == reverse("group_detail", args=[group.pk]) + "#interactions"
    recorded = Interaction.objects.for_org(org).select_related("type", "label")
    assert sorted(i.contact_id for i in recorded) == sorted(m.pk for m in members)
    assert {(i.type.name, i.label.name, i.status) for i in recorded} == {
        ("Invitation gala", "Gala 2026", "passive")
    }
    inserts = [
        q for q in captured if q["sql"].startswith('INSERT INTO "interactions_interaction" ')
    ]
    assert len(inserts) == 1  # one statement for the three rows
    assert flashed(response) == ["Interaction enregistrée pour 3 contacts."]


def test_bulk_on_a_group_is_all_or_nothing(org, admin_client, monkeypatch):
    group, _members = _gala_group(org)
    url = reverse("group_interaction_create", args=[group.pk])

    # A bad value: nothing written, not even the new type
    refused = admin_client.post(url, {**GALA, "occurred_at": "demain"})
    assert refused.context["form"].errors == {
        "occurred_at": ["« demain » n'est pas une date valide (JJ/MM/AAAA ou JJ/MM/AAAA HH:MM)."]
    }

    # A failure half-way (the audit rows): the interactions already inserted go too
    def fail(*args, **kwargs):
        raise RuntimeError("disque plein")

    monkeypatch.setattr(AuditEvent.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError):
        admin_client.post(url, GALA)

    assert Interaction.objects.count() == 0
    assert not InteractionType.objects.filter(name="Invitation gala").exists()


def test_bulk_action_of_the_contact_list_hands_the_selection_over(org, admin_client):
    label = contacts.save_label(organization=org, actor=SYSTEM, name="Donateur", color="#123456")
    a, b, c = (new_contact(org, "X", n) for n in ("Alpha", "Bravo", "Charlie"))
    contacts.add_labels(organization=org, actor=SYSTEM, model=Contact, ids=[a.pk, c.pk],
                        labels=[label])  # fmt: skip

    ticked = admin_client.post(
        reverse("contact_bulk"), {"action": "record_interaction", "ids": [a.pk, b.pk]}
    )
    whole = admin_client.post(
        reverse("contact_bulk"),
        {"action": "record_interaction", "tous": "1", "filtres": f"etiquette={label.pk}"},
    )
    ticked_page = admin_client.get(ticked["Location"])
    whole_page = admin_client.get(whole["Location"])
    everyone = {**GALA, "tous": "1", "filtres": f"etiquette={label.pk}"}
    admin_client.post(reverse("interaction_bulk"), everyone)

    assert ticked["Location"] == f"{reverse('interaction_bulk')}?ids={a.pk}&ids={b.pk}"
    assert ticked_page.context["count"] == 2
    assert whole_page.context["count"] == 2
    assert sorted(Interaction.objects.values_list("contact__last_name", flat=True)) == [
        "Alpha",
        "Charlie",
    ]


def test_the_bulk_action_is_offered_on_contacts_only_with_the_right(
    org, admin_client, reader_client
):
    def actions(client, name):
        return [key for key, _label in client.get(reverse(name)).context["bulk_actions"]]

    assert "record_interaction" in actions(admin_client, "contact_list")
    assert "record_interaction" not in actions(admin_client, "structure_list")
    assert "record_interaction" not in actions(reader_client, "contact_list")


# The table ------------------------------------------------------------------------------


def test_table_filters_sort_and_count(org, admin_client):
    label = contacts.save_label(organization=org, actor=SYSTEM, name="Bénévole", color="#123456")
    anne, paul = new_contact(org, "Anne", "A"), new_contact(org, "Paul", "P")
    contacts.add_labels(organization=org, actor=SYSTEM, model=Contact, ids=[anne.pk],
                        labels=[label])  # fmt: skip
    record(org, anne, "2026-01-05T10:00", "Email", label="Newsletter")
    record(org, paul, "2026-02-05T10:00", "Email")
    record(org, paul, "2026-03-05T10:00", "Paiement", source=Source.PAYMENT)
    url = reverse("interaction_list")
    email = type_id(org, "Email")

    def get(**params):
        return rows(admin_client.get(url, params))

    assert get() == [
        "05/03 10:00 · Paiement · Paul P",
        "05/02 10:00 · Email · Paul P",
        "05/01 10:00 · Email · Anne A",
    ]
    assert get(tri="date")[0] == "05/01 10:00 · Email · Anne A"
    assert get(type=email, du="2026-02-01", au="2026-02-28") == ["05/02 10:00 · Email · Paul P"]
    assert get(origine="payment") == ["05/03 10:00 · Paiement · Paul P"]
    assert (
        get(etiquette=label.pk)
        == get(libelle=InteractionLabel.objects.get(name="Newsletter").pk)
        == ["05/01 10:00 · Email · Anne A"]
    )
    count = admin_client.get(reverse("interaction_count"), {"type": email})
    assert count.content.decode().strip() == "2 interactions"


def test_table_query_count_does_not_grow_with_rows(org, admin_client, admin_member):
    actor = Actor.for_user(admin_member.user)

    def fill(count: int) -> None:
        for _ in range(count):
            n = Interaction.objects.count()
            services.record_interaction(
                organization=org, actor=actor, contact=new_contact(org, "N", f"{n}"),
                occurred_at=f"2026-01-{1 + n % 28:02d}T10:00", type="Rencontre",
                category=f"C{n}", label=f"L{n}", description="…",
                structure=contacts.create_structure(
                    organization=org, actor=SYSTEM, data={"name": f"S{n}"}
                ),
                create_missing=True,
            )  # fmt: skip

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(reverse("interaction_list"), {"taille": 50})
        return len(response.context["page"].rows), len(captured)

    fill(5)
    five_rows, five = queries()
    fill(45)
    fifty_rows, fifty = queries()

    assert (five_rows, fifty_rows) == (5, 50)
    assert fifty == five


# Rights -----------------------------------------------------------------------------------


def test_sections_are_hidden_without_the_interactions_right(org, admin_member, admin_client):
    profile = save_profile(
        organization=org,
        actor=Actor.for_user(admin_member.user),
        name="Accueil",
        rights={"contacts": ["view"], "structures": ["view"]},
    )
    member = Membership.objects.create(
        organization=org, user=make_user("accueil@amis-du-parc.fr"), profile=profile
    )
    camille = new_contact(org, "Camille", "Roux")

    card = client_for(member).get(reverse("contact_detail", args=[camille.pk])).content.decode()
    admin_card = admin_client.get(reverse("contact_detail", args=[camille.pk])).content.decode()
    section = client_for(member).get(reverse("contact_interactions", args=[camille.pk]))

    assert reverse("contact_interactions", args=[camille.pk]) not in card
    assert reverse("contact_interactions", args=[camille.pk]) in admin_card
    assert section.status_code == 403


def test_a_reader_sees_the_timeline_without_the_add_form(org, reader_client):
    camille = new_contact(org, "Camille", "Roux")
    record(org, camille, "2026-03-01T10:00")

    section = reader_client.get(reverse("contact_interactions", args=[camille.pk]))

    assert len(section.context["page"].rows) == 1
    assert section.context["add_form"] is None
    assert "Supprimer" not in section.content.decode()


# Settings -------------------------------------------------------------------------------


def test_settings_create_rename_and_delete_with_counts(org, admin_client):
    url = reverse("settings_interactions")
    camille = new_contact(org, "Camille", "Roux")

    # When an administrator creates a category and a passive type
    admin_client.post(
        reverse("settings_interaction_create", args=["categories"]), {"name": "Collecte"}
    )
    admin_client.post(
        reverse("settings_interaction_create", args=["types"]),
        {"name": "Invitation", "default_status": "passive"},
    )
    collecte = InteractionCategory.objects.for_org(org).get(name="Collecte")
    invitation = InteractionType.objects.for_org(org).get(name="Invitation")
    record(org, camille, "2026-01-01", "Invitation", category=collecte.pk)
    record(org, camille, "2026-01-02", "Invitation", category=collecte.pk)

    # Then the page counts their use
    page = admin_client.get(url)
    sections = {s["kind"]: s["rows"] for s in page.context["sections"]}
    assert [(r.name, r.usage) for r in sections["category"]] == [("Collecte", 2)]
    assert (
        invitation.default_status,
        next(r.usage for r in sections["type"] if r.name == "Invitation"),
    ) == ("passive", 2)
    assert next(r for r in sections["type"] if r.name == "Paiement").is_system
    assert "système" in page.content.decode()

    # When it renames the category, then deletes it
    admin_client.post(
        reverse("settings_interaction_edit", args=["categories", collecte.pk]),
        {"name": "Collecte de fonds"},
    )
    confirm = admin_client.get(
        reverse("settings_interaction_delete", args=["categories", collecte.pk])
    )
    deleted = admin_client.post(
        reverse("settings_interaction_delete", args=["categories", collecte.pk])
    )
    type_refused = admin_client.post(
        reverse("settings_interaction_delete", args=["types", invitation.pk])
    )

    assert "2 interactions perdront cette catégorie" in confirm.content.decode()
    assert flashed(deleted)[-1:] == [
        "Catégorie « Collecte de fonds » supprimée : retirée de 2 interaction(s)."
    ]
    assert list(Interaction.objects.values_list("category", flat=True)) == [None, None]
    assert flashed(type_refused)[-1:] == [
        "2 interaction(s) ont ce type : il ne peut pas être supprimé."
    ]
    assert InteractionType.objects.filter(pk=invitation.pk).exists()


def test_settings_refuse_duplicates_and_keep_system_type_names(org, admin_client):
    paiement = InteractionType.objects.for_org(org).get(name="Paiement")

    duplicate = admin_client.post(
        reverse("settings_interaction_create", args=["types"]), {"name": "rencontre"}
    )
    rename_system = admin_client.post(
        reverse("settings_interaction_edit", args=["types", paiement.pk]), {"name": "Don"}
    )
    unknown_kind = admin_client.get(reverse("settings_interaction_create", args=["couleurs"]))

    assert duplicate.context["form"].errors == {"name": ["« rencontre » existe déjà."]}
    assert rename_system.context["form"].errors == {
        "name": ["Ce type est utilisé par Lien lui-même : il garde son nom."]
    }
    assert unknown_kind.status_code == 404


def test_the_whole_list_is_read_as_a_subquery_not_a_list_of_ids(org):
    # « Toute la liste » may hold more contacts than one statement takes parameters
    for name in ("Alpha", "Bravo", "Charlie"):
        new_contact(org, "X", name)
    everyone = Contact.objects.for_org(org).values_list("pk", flat=True)

    with CaptureQueriesContext(connection) as captured:
        created = services.record_interactions(
            organization=org, actor=SYSTEM, contact_ids=everyone, occurred_at="2026-06-01",
            type="Courrier",
        )  # fmt: skip

    assert created == 3
    reads = [q["sql"] for q in captured if q["sql"].startswith('SELECT "contacts_contact"')]
    assert len(reads) == 1 and "IN (SELECT" in reads[0]


def test_a_very_large_bulk_recording_runs_as_a_job(
    org, admin_client, django_capture_on_commit_callbacks, monkeypatch
):
    from lien.contacts import services as contact_services
    from lien.core.audit import Actor
    from lien.core.models import Job
    from lien.interactions import views as interaction_views
    from lien.interactions.models import Interaction

    monkeypatch.setattr(interaction_views, "INLINE_LIMIT", 2)
    group = contact_services.save_group(organization=org, actor=Actor.system(), name="Gala")
    people = [
        contact_services.create_contact(
            organization=org, actor=Actor.system(), data={"last_name": f"Invité {i}"}
        )
        for i in range(3)
    ]
    contact_services.add_to_group(
        organization=org, actor=Actor.system(), group=group, contact_ids=[p.pk for p in people]
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("group_interaction_create", args=[group.pk]),
            {"occurred_at": "2026-06-01T18:00", "new_type": "Invitation gala", "description": ""},
        )

    job = Job.objects.for_org(org).get(kind="bulk_interactions")
    assert response.status_code == 302
    assert response["Location"] == reverse("job_progress", args=[job.pk])
    assert (job.status, job.result["created"]) == ("succeeded", 3)
    assert Interaction.objects.for_org(org).filter(type__name="Invitation gala").count() == 3
    page = admin_client.get(reverse("job_progress", args=[job.pk])).content.decode()
    assert "Interaction enregistrée pour 3 contact(s)." in page
