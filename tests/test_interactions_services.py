"""Interaction services and selectors: recording, ownership, roll-ups, bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone

from lien.contacts import services as contacts
from lien.core.audit import Actor
from lien.core.models import AuditEvent
from lien.interactions import selectors, services
from lien.interactions.models import Interaction, InteractionLabel, InteractionType

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system()


def person(org, name: str):
    return contacts.create_contact(organization=org, actor=SYSTEM, data={"last_name": name})


def query(**params) -> selectors.InteractionQuery:
    data = QueryDict(mutable=True)
    for key, value in params.items():
        data.setlist(key, value if isinstance(value, list) else [value])
    return selectors.InteractionQuery.from_params(data)


def test_a_new_organisation_has_the_french_default_types(org):
    names = list(InteractionType.objects.for_org(org).values_list("name", flat=True))

    assert len(names) == 18
    assert names[:5] == ["Appel téléphonique", "Rencontre", "Email", "Courrier", "Paiement"]


def test_record_takes_the_type_default_status_and_creates_names_on_the_fly(org):
    alice = person(org, "Alice")

    mailing = services.record_interaction(
        organization=org, actor=SYSTEM, contact=alice, occurred_at="03/11/2021",
        type="Courrier", label="Invitation gala 2026", create_missing=True,
    )  # fmt: skip
    call = services.record_interaction(
        organization=org, actor=SYSTEM, contact=alice.pk, occurred_at="2021-11-04 14:30",
        type="Appel téléphonique", status="passive",
    )  # fmt: skip

    assert mailing.status == "passive"
    assert mailing.label.name == "Invitation gala 2026"
    assert timezone.localtime(mailing.occurred_at).date() == dt.date(2021, 11, 3)
    assert call.status == "passive"
    assert timezone.localtime(call.occurred_at).strftime("%H:%M") == "14:30"
    assert AuditEvent.objects.for_org(org).filter(target_id=mailing.pk, action="create").exists()


def test_bad_input_names_every_field_and_writes_nothing(org, other_org):
    stranger = person(other_org, "Ailleurs")

    with pytest.raises(ValidationError) as error:
        services.record_interaction(
            organization=org, actor=SYSTEM, contact=stranger.pk, occurred_at="31/02/2024",
            type="Inconnu",
        )  # fmt: skip

    assert error.value.message_dict == {
        "contact": ["Contact inconnu dans votre association."],
        "occurred_at": [
            "« 31/02/2024 » n'est pas une date valide (JJ/MM/AAAA ou JJ/MM/AAAA HH:MM)."
        ],
        "type": ["« Inconnu » : type d'interaction inconnu(e) dans votre association."],
    }
    with pytest.raises(ValidationError) as missing:
        services.record_interaction(
            organization=org, actor=SYSTEM, contact=None, occurred_at="", type=None
        )
    assert missing.value.message_dict == {
        "contact": ["Le contact est obligatoire."],
        "occurred_at": ["La date est obligatoire."],
        "type": ["Le type est obligatoire."],
    }
    assert Interaction.objects.count() == 0
    assert InteractionType.objects.for_org(org).filter(name="Inconnu").count() == 0


def test_bulk_recording_is_one_statement_per_thousand_and_all_or_nothing(org):
    people = [person(org, f"P{i}") for i in range(5)]

    count = services.record_interactions(
        organization=org, actor=SYSTEM, contact_ids=[p.pk for p in people],
        occurred_at=dt.date(2026, 6, 1), type="Courrier", label="Invitation gala",
        create_missing=True,
    )  # fmt: skip

    assert count == 5
    assert Interaction.objects.for_org(org).filter(label__name="Invitation gala").count() == 5
    assert AuditEvent.objects.for_org(org).filter(target_type__model="interaction").count() == 5
    with pytest.raises(ValidationError):
        services.record_interactions(
            organization=org, actor=SYSTEM, contact_ids=[p.pk for p in people],
            occurred_at="pas une date", type="Courrier", label="Relance", create_missing=True,
        )  # fmt: skip
    assert Interaction.objects.for_org(org).count() == 5
    assert not InteractionLabel.objects.for_org(org).filter(name="Relance").exists()


def test_an_interaction_owned_by_a_payment_cannot_be_edited_or_deleted_by_hand(org):
    alice = person(org, "Alice")
    owned = services.record_interaction(
        organization=org, actor=SYSTEM, contact=alice, occurred_at=dt.date(2026, 1, 5),
        type="Paiement", source=Interaction.Source.PAYMENT, source_object=alice,
    )  # fmt: skip

    with pytest.raises(ValidationError) as error:
        services.delete_interaction(organization=org, actor=SYSTEM, interaction=owned)
    with pytest.raises(ValidationError):
        services.update_interaction(
            organization=org, actor=SYSTEM, interaction=owned, description="x"
        )

    assert "créée par le paiement" in error.value.messages[0]
    assert Interaction.objects.filter(pk=owned.pk).exists()
    assert services.remove_for_source(organization=org, source_object=alice) == 1


def test_update_records_what_changed(org):
    alice = person(org, "Alice")
    interaction = services.record_interaction(
        organization=org, actor=SYSTEM, contact=alice, occurred_at=dt.date(2026, 1, 5),
        type="Rencontre",
    )  # fmt: skip

    services.update_interaction(
        organization=org, actor=SYSTEM, interaction=interaction, description="Au forum",
        status="passive",
    )  # fmt: skip

    event = AuditEvent.objects.for_org(org).get(target_id=interaction.pk, action="update")
    assert event.changes == {"description": ["", "Au forum"], "status": ["active", "passive"]}


def test_structure_rollup_counts_each_interaction_once(org):
    mairie = contacts.create_structure(organization=org, actor=SYSTEM, data={"name": "Mairie"})
    elue, other = person(org, "Élue"), person(org, "Autre")
    contacts.save_structure_link(organization=org, actor=SYSTEM, contact=elue, structure=mairie)
    day = dt.date(2026, 3, 1)
    both = services.record_interaction(
        organization=org, actor=SYSTEM, contact=elue, occurred_at=day, type="Rencontre",
        structure=mairie,
    )  # fmt: skip
    member_only = services.record_interaction(
        organization=org, actor=SYSTEM, contact=elue, occurred_at=day, type="Appel téléphonique"
    )
    structure_only = services.record_interaction(
        organization=org, actor=SYSTEM, contact=other, occurred_at=day, type="Courrier",
        structure=mairie,
    )  # fmt: skip
    services.record_interaction(
        organization=org, actor=SYSTEM, contact=other, occurred_at=day, type="Email"
    )

    page = selectors.structure_rollup(organization=org, structure=mairie, query=query())

    assert sorted(i.pk for i in page.rows) == sorted([both.pk, member_only.pk, structure_only.pk])


def test_group_and_table_filters(org):
    group = contacts.save_group(organization=org, actor=SYSTEM, name="Gala")
    alice, bob = person(org, "Alice"), person(org, "Bob")
    contacts.add_to_group(organization=org, actor=SYSTEM, group=group, contact_ids=[alice.pk])
    for contact, kind, day in [
        (alice, "Courrier", dt.date(2026, 1, 10)),
        (alice, "Rencontre", dt.date(2026, 2, 10)),
        (bob, "Courrier", dt.date(2026, 3, 10)),
    ]:
        services.record_interaction(
            organization=org, actor=SYSTEM, contact=contact, occurred_at=day, type=kind
        )
    courrier = InteractionType.objects.for_org(org).get(name="Courrier")

    in_group = selectors.group_interactions(organization=org, group=group, query=query())
    letters = selectors.table(
        organization=org, query=query(type=str(courrier.pk), du="2026-02-01", au="2026-12-31")
    )
    oldest_first = selectors.table(organization=org, query=query(tri="date"))

    assert [i.contact.last_name for i in in_group.rows] == ["Alice", "Alice"]
    assert [(i.contact.last_name, i.type.name) for i in letters.rows] == [("Bob", "Courrier")]
    assert [timezone.localtime(i.occurred_at).month for i in oldest_first.rows] == [1, 2, 3]


def test_timeline_pages_newest_first(org):
    alice = person(org, "Alice")
    for day in range(1, 31):
        services.record_interaction(
            organization=org, actor=SYSTEM, contact=alice, occurred_at=dt.date(2026, 1, day),
            type="Email",
        )  # fmt: skip

    first = selectors.timeline(organization=org, contact=alice, query=query())
    second = selectors.timeline(
        organization=org, contact=alice, query=query(apres=first.next_cursor)
    )

    assert [timezone.localtime(i.occurred_at).day for i in first.rows] == list(range(30, 5, -1))
    assert [timezone.localtime(i.occurred_at).day for i in second.rows] == [5, 4, 3, 2, 1]
    assert second.next_cursor == ""


def test_settings_type_in_use_or_system_cannot_be_deleted(org):
    alice = person(org, "Alice")
    atelier = services.save_setting(
        organization=org, actor=SYSTEM, kind="type", name="Atelier cuisine",
        default_status="active",
    )  # fmt: skip
    services.record_interaction(
        organization=org, actor=SYSTEM, contact=alice, occurred_at=dt.date(2026, 1, 1),
        type=atelier,
    )  # fmt: skip
    paiement = InteractionType.objects.for_org(org).get(name="Paiement")

    with pytest.raises(ValidationError) as in_use:
        services.delete_setting(organization=org, actor=SYSTEM, instance=atelier)
    with pytest.raises(ValidationError) as system:
        services.delete_setting(organization=org, actor=SYSTEM, instance=paiement)

    assert in_use.value.messages == ["1 interaction(s) ont ce type : il ne peut pas être supprimé."]
    assert "utilisé par Lien lui-même" in system.value.messages[0]
