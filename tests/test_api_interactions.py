"""The interactions API: interactions (one or a batch), types, categories and labels."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lien.contacts import services as contacts
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
from tests.conftest import api_client_for, make_user

pytestmark = pytest.mark.django_db

ACTOR = Actor.system()
PARIS = ZoneInfo("Europe/Paris")


def post(client, name, data, **kwargs):
    return client.post(reverse(name, **kwargs), data=data, content_type="application/json")


def patch(client, name, data, **kwargs):
    return client.patch(reverse(name, **kwargs), data=data, content_type="application/json")


def put(client, name, data, **kwargs):
    return client.put(reverse(name, **kwargs), data=data, content_type="application/json")


@pytest.fixture
def api(admin_member):
    return api_client_for(admin_member)


def person(org, last_name="Martin", first_name="Hélène"):
    return contacts.create_contact(
        organization=org, actor=ACTOR, data={"first_name": first_name, "last_name": last_name}
    )


def kind(org, name):
    return InteractionType.objects.for_org(org).get(name=name)


def record(org, contact, when, type_name="Appel téléphonique", **kwargs):
    return services.record_interaction(
        organization=org,
        actor=ACTOR,
        contact=contact,
        occurred_at=when,
        type=type_name,
        create_missing=True,
        **kwargs,
    )


def audit(org):
    return AuditEvent.objects.for_org(org).filter(
        target_type=ContentType.objects.get_for_model(Interaction)
    )


def paris(*args):
    return dt.datetime(*args, tzinfo=PARIS)


# Create ---------------------------------------------------------------------------------


def test_create_an_interaction_by_names_with_structure_and_read_it_back(org, api, admin_member):
    helene = person(org)
    town = contacts.create_structure(organization=org, actor=ACTOR, data={"name": "Mairie"})
    gala = services.save_setting(organization=org, actor=ACTOR, kind="label", name="Gala 2026")

    response = post(
        api,
        "api-interactions-list",
        {
            "contact": helene.pk,
            "occurred_at": "2026-03-14T18:30:00+01:00",
            "type": "APPEL téléphonique",  # SQLite folds ASCII case only
            "label": gala.pk,
            "description": "Invitée au gala",
            "structure": town.pk,
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    appel = kind(org, "Appel téléphonique")
    assert body == {
        "id": body["id"],
        "contact": helene.pk,
        "occurred_at": "2026-03-14T18:30:00+01:00",
        "type": {"id": appel.pk, "name": "Appel téléphonique"},
        "category": None,
        "label": {"id": gala.pk, "name": "Gala 2026"},
        "status": "active",
        "description": "Invitée au gala",
        "structure": town.pk,
        "source": "manual",
        "recorded_by": admin_member.user_id,
        "created_at": body["created_at"],
    }
    assert api.get(reverse("api-interactions-detail", args=[body["id"]])).json() == body
    event = audit(org).get(target_id=body["id"], action="create")
    assert event.actor_kind == "api"


def test_a_bare_date_is_midnight_in_paris_and_status_defaults_to_the_types(org, api):
    helene = person(org)

    response = post(
        api,
        "api-interactions-list",
        {"contact": helene.pk, "occurred_at": "2026-01-05", "type": "Courrier"},
    )

    assert response.status_code == 201, response.json()
    assert response.json()["occurred_at"] == "2026-01-05T00:00:00+01:00"
    assert response.json()["status"] == "passive"
    assert Interaction.objects.get().occurred_at == paris(2026, 1, 5)


def test_unknown_names_are_refused_unless_create_missing(org, api):
    helene = person(org)
    body = {
        "contact": helene.pk,
        "occurred_at": "2026-02-01",
        "type": "Porte-à-porte",
        "category": "Collecte",
        "label": "Quartier Nord",
    }

    refused = post(api, "api-interactions-list", body)
    nothing = (
        Interaction.objects.count(),
        InteractionCategory.objects.count(),
        InteractionLabel.objects.count(),
    )
    created = post(api, "api-interactions-list", {**body, "create_missing": True})

    assert refused.status_code == 400
    assert refused.json() == {
        "type": ["« Porte-à-porte » : type d'interaction inconnu(e) dans votre association."],
        "category": ["« Collecte » : catégorie d'interaction inconnu(e) dans votre association."],
        "label": ["« Quartier Nord » : libellé d'interaction inconnu(e) dans votre association."],
    }
    assert nothing == (0, 0, 0)
    assert created.status_code == 201, created.json()
    assert created.json()["type"]["name"] == "Porte-à-porte"
    assert created.json()["category"]["name"] == "Collecte"
    assert created.json()["label"]["name"] == "Quartier Nord"
    assert created.json()["status"] == "active"


def test_missing_contact_date_and_type_are_named_in_french_and_nothing_is_written(org, api):
    response = post(api, "api-interactions-list", {"description": "Sans rien"})

    assert response.status_code == 400
    assert response.json() == {
        "contact": ["Le contact est obligatoire."],
        "occurred_at": ["La date est obligatoire."],
        "type": ["Le type est obligatoire."],
    }
    assert Interaction.objects.count() == 0


def test_impossible_dates_wrong_types_and_bad_status_are_400(org, api):
    helene = person(org)
    base = {"contact": helene.pk, "type": "Rencontre"}

    def refused(**changes):
        response = post(api, "api-interactions-list", {**base, **changes})
        assert response.status_code == 400, response.json()
        return response.json()

    assert refused(occurred_at="2026-02-30") == {
        "occurred_at": [
            "« 2026-02-30 » n'est pas une date valide (AAAA-MM-JJ ou AAAA-MM-JJTHH:MM:SS)."
        ]
    }
    assert refused(occurred_at="0001-01-01T00:00:00+05:00") == {
        "occurred_at": ["La date doit être entre 1900 et 2200."]
    }
    assert refused(occurred_at=20260101) == {
        "occurred_at": [
            "« 20260101 » n'est pas une date valide (AAAA-MM-JJ ou AAAA-MM-JJTHH:MM:SS)."
        ]
    }
    assert refused(occurred_at="2026-01-01", contact="12") == {
        "contact": ["Nombre entier attendu."]
    }
    assert refused(occurred_at="2026-01-01", status="busy") == {
        "status": ["Statut inconnu : « active » ou « passive »."]
    }
    assert refused(occurred_at="2026-01-01", type=True) == {
        "type": ["Se désigne par son id (nombre) ou son nom (texte)."]
    }
    assert refused(occurred_at="2026-01-01", type="x" * 101) == {
        "type": ["Se désigne par son id (nombre) ou son nom (texte)."]
    }
    assert Interaction.objects.count() == 0


def test_ids_of_another_organisation_are_refused_before_any_write(org, other_org, api):
    helene = person(org)
    foreign_contact = person(other_org, last_name="Voisin")
    foreign_structure = contacts.create_structure(
        organization=other_org, actor=ACTOR, data={"name": "Club voisin"}
    )
    foreign_type = kind(other_org, "Rencontre")
    foreign_interaction = record(other_org, foreign_contact, paris(2026, 1, 1))

    response = post(
        api,
        "api-interactions-list",
        {
            "contact": foreign_contact.pk,
            "occurred_at": "2026-01-01",
            "type": foreign_type.pk,
            "structure": foreign_structure.pk,
            "label": "Nouveau libellé",
            "create_missing": True,
        },
    )
    own_contact_foreign_type = post(
        api,
        "api-interactions-list",
        {"contact": helene.pk, "occurred_at": "2026-01-01", "type": foreign_type.pk},
    )
    read_foreign = api.get(reverse("api-interactions-detail", args=[foreign_interaction.pk]))

    assert response.status_code == 400
    assert response.json() == {
        "contact": ["Contact inconnu dans votre association."],
        "type": [f"« {foreign_type.pk} » : type d'interaction inconnu(e) dans votre association."],
        "structure": ["Structure inconnue dans votre association."],
    }
    assert own_contact_foreign_type.status_code == 400
    assert list(own_contact_foreign_type.json()) == ["type"]
    assert read_foreign.status_code == 404
    assert Interaction.objects.for_org(org).count() == 0
    # The label asked to be created went back with the rest of the request.
    assert InteractionLabel.objects.for_org(org).count() == 0


def test_a_trashed_contact_is_unknown(org, api):
    gone = person(org, last_name="Parti")
    contacts.trash(organization=org, actor=ACTOR, model=type(gone), ids=[gone.pk])

    response = post(
        api,
        "api-interactions-list",
        {"contact": gone.pk, "occurred_at": "2026-01-01", "type": "Rencontre"},
    )

    assert response.status_code == 400
    assert response.json() == {"contact": ["Contact inconnu dans votre association."]}


# Update and delete ----------------------------------------------------------------------


def test_patch_and_put_change_fields_with_an_audit_row(org, api):
    helene = person(org)
    paul = person(org, last_name="Durand", first_name="Paul")
    call = record(org, helene, paris(2026, 1, 10, 9, 0), category="Collecte")

    patched = patch(
        api,
        "api-interactions-detail",
        {"description": "Rappeler en mars", "category": None, "status": "passive"},
        args=[call.pk],
    )
    put_ = put(
        api,
        "api-interactions-detail",
        {"contact": paul.pk, "occurred_at": "2026-01-11T10:00:00", "type": "Rencontre"},
        args=[call.pk],
    )

    assert patched.status_code == 200, patched.json()
    assert patched.json()["description"] == "Rappeler en mars"
    assert patched.json()["category"] is None
    assert patched.json()["status"] == "passive"
    assert put_.status_code == 200, put_.json()
    assert put_.json()["contact"] == paul.pk
    assert put_.json()["occurred_at"] == "2026-01-11T10:00:00+01:00"
    assert put_.json()["type"]["name"] == "Rencontre"
    assert put_.json()["description"] == "Rappeler en mars"  # PUT leaves absent fields alone
    changes = [
        event.changes
        for event in audit(org).filter(target_id=call.pk, action="update").order_by("pk")
    ]
    assert changes[0] == {
        "category": ["Collecte", None],
        "description": ["", "Rappeler en mars"],
        "status": ["active", "passive"],
    }
    assert changes[1]["type"] == ["Appel téléphonique", "Rencontre"]
    assert changes[1]["contact"] == ["Hélène Martin", "Paul Durand"]


def test_a_status_set_to_null_goes_back_to_the_types_default(org, api):
    letter = record(org, person(org), paris(2026, 1, 1), type_name="Courrier", status="active")

    response = patch(api, "api-interactions-detail", {"status": None}, args=[letter.pk])

    assert response.json()["status"] == "passive"


def test_update_with_a_foreign_contact_is_refused_and_nothing_changes(org, other_org, api):
    call = record(org, person(org), paris(2026, 1, 1))
    foreign = person(other_org, last_name="Voisin")

    response = patch(api, "api-interactions-detail", {"contact": foreign.pk}, args=[call.pk])

    assert response.status_code == 400
    assert response.json() == {"contact": ["Contact inconnu dans votre association."]}
    call.refresh_from_db()
    assert call.contact.last_name == "Martin"


def test_delete_is_204_with_an_audit_row(org, api):
    call = record(org, person(org), paris(2026, 1, 1))

    response = api.delete(reverse("api-interactions-detail", args=[call.pk]))

    assert response.status_code == 204
    assert not Interaction.objects.filter(pk=call.pk).exists()
    assert audit(org).filter(target_id=call.pk, action="delete").count() == 1


@pytest.mark.parametrize(
    ("source", "owner"),
    [
        ("payment", "le paiement"),
        ("emailing", "l'emailing"),
        ("form", "le formulaire"),
        ("connector", "l'application connectée"),
    ],
)
def test_an_interaction_owned_by_its_source_is_neither_changed_nor_deleted(org, api, source, owner):
    owned = services.record_interaction(
        organization=org,
        actor=ACTOR,
        contact=person(org),
        occurred_at=paris(2026, 1, 1),
        type="Paiement",
        source=source,
    )

    patched = patch(api, "api-interactions-detail", {"description": "x"}, args=[owned.pk])
    deleted = api.delete(reverse("api-interactions-detail", args=[owned.pk]))

    assert patched.status_code == 409
    assert patched.json() == {
        "detail": f"Cette interaction a été créée par {owner} : elle ne peut pas être modifiée "
        f"à la main. Elle change ou disparaît avec {owner}."
    }
    assert deleted.status_code == 409
    assert deleted.json() == {
        "detail": f"Cette interaction a été créée par {owner} : elle ne peut pas être supprimée "
        f"à la main. Elle change ou disparaît avec {owner}."
    }
    owned.refresh_from_db()
    assert owned.description == ""


# List and filters -----------------------------------------------------------------------


def test_list_is_newest_first_and_filters_narrow(org, api):
    helene, paul = person(org), person(org, last_name="Durand", first_name="Paul")
    old = record(org, helene, paris(2025, 12, 31, 23, 30), label="Gala", category="Collecte")
    new_year = record(org, helene, paris(2026, 1, 1, 0, 0), type_name="Courrier")
    same_time = record(org, paul, paris(2026, 1, 1, 0, 0), label="Gala")
    latest = record(org, paul, paris(2026, 2, 1, 12, 0), type_name="Rencontre")
    owned = services.record_interaction(
        organization=org,
        actor=ACTOR,
        contact=paul,
        occurred_at=paris(2026, 1, 15),
        type="Paiement",
        source="payment",
    )
    url = reverse("api-interactions-list")

    def ids(**params):
        response = api.get(url, params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [latest.pk, owned.pk, same_time.pk, new_year.pk, old.pk]
    assert ids(contact=helene.pk) == [new_year.pk, old.pk]
    assert ids(type="courrier") == [new_year.pk]
    assert ids(type=[kind(org, "Rencontre").pk, "Courrier"]) == [latest.pk, new_year.pk]
    assert ids(label="gala") == [same_time.pk, old.pk]
    assert ids(category="Collecte") == [old.pk]
    assert ids(status="passive") == [new_year.pk]
    assert ids(source="payment") == [owned.pk]
    # Days are Paris days: 31 December at 23:30 is not 1 January.
    assert ids(**{"from": "2026-01-01", "to": "2026-01-15"}) == [
        owned.pk,
        same_time.pk,
        new_year.pk,
    ]
    assert ids(to="2025-12-31") == [old.pk]
    assert ids(label="Gala", contact=paul.pk) == [same_time.pk]


def test_bad_list_parameters_are_a_400_in_french(org, other_org, api):
    url = reverse("api-interactions-list")
    foreign_label = services.save_setting(
        organization=other_org, actor=ACTOR, kind="label", name="Voisin"
    )

    assert api.get(url, {"type": "Inconnu"}).json() == {
        "type": ["« Inconnu » : type d'interaction inconnu(e) dans votre association."]
    }
    assert api.get(url, {"label": foreign_label.pk}).status_code == 400
    assert api.get(url, {"status": "busy"}).json() == {
        "status": ["« busy » : valeur inconnue (active, passive)."]
    }
    assert api.get(url, {"from": "2026-13-01"}).json() == {
        "from": ["« 2026-13-01 » n'est pas une date (AAAA-MM-JJ)."]
    }
    assert api.get(url, {"contact": "²"}).json() == {"contact": ["« ² » n'est pas un identifiant."]}
    assert api.get(url, {"type": "²"}).status_code == 400
    assert api.get(url, {"limit": "0"}).status_code == 400


def test_list_query_count_does_not_grow_with_page_size(org, api):
    town = contacts.create_structure(organization=org, actor=ACTOR, data={"name": "Mairie"})
    people = [person(org, last_name=f"Nom {i}") for i in range(6)]
    for i in range(60):
        record(
            org,
            people[i % 6],
            paris(2026, 1, 1) + dt.timedelta(hours=i),
            type_name=["Rencontre", "Courrier"][i % 2],
            category=f"Catégorie {i % 3}",
            label=f"Libellé {i % 7}",
            structure=town if i % 2 else None,
        )
    url = reverse("api-interactions-list")

    def count(limit):
        with CaptureQueriesContext(connection) as queries:
            response = api.get(url, {"limit": limit, "type": ["Rencontre", "Courrier"]})
        assert len(response.json()["results"]) == limit
        assert response.json()["results"][0]["label"] is not None
        return len(queries)

    api.get(url)  # the token's « last used » is written on the first call only
    assert count(5) == count(50) == 6


# Bulk -----------------------------------------------------------------------------------


def test_bulk_creates_every_item_with_one_audit_row_each(org, api, admin_member):
    helene, paul = person(org), person(org, last_name="Durand", first_name="Paul")

    response = post(
        api,
        "api-interactions-bulk",
        {
            "items": [
                {"contact": helene.pk, "occurred_at": "2026-03-01", "type": "Emailing reçu"},
                {
                    "contact": paul.pk,
                    "occurred_at": "2026-03-02T10:00:00+01:00",
                    "type": "Invitation gala",
                    "label": "Gala 2026",
                    "status": "passive",
                },
                {"contact": paul.pk, "occurred_at": "2026-03-03", "type": "invitation GALA"},
            ],
            "create_missing": True,
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["created"] == 3
    rows = list(Interaction.objects.for_org(org).filter(pk__in=body["ids"]).order_by("pk"))
    assert [row.pk for row in rows] == body["ids"]
    assert [(row.contact_id, row.type.name, row.status, row.source) for row in rows] == [
        (helene.pk, "Emailing reçu", "passive", "manual"),
        (paul.pk, "Invitation gala", "passive", "manual"),
        (paul.pk, "Invitation gala", "active", "manual"),
    ]
    assert rows[1].label.name == "Gala 2026"
    assert {row.recorded_by_id for row in rows} == {admin_member.user_id}
    assert InteractionType.objects.for_org(org).filter(name__iexact="invitation gala").count() == 1
    events = audit(org).filter(target_id__in=body["ids"], action="create")
    assert sorted(e.target_repr for e in events) == [
        "Emailing reçu — Hélène Martin",
        "Invitation gala — Paul Durand",
        "Invitation gala — Paul Durand",
    ]


def test_bulk_is_all_or_nothing_with_errors_by_item_index(org, other_org, api):
    helene = person(org)
    foreign = person(other_org, last_name="Voisin")
    good = {"contact": helene.pk, "occurred_at": "2026-03-01", "type": "Rencontre"}

    response = post(
        api,
        "api-interactions-bulk",
        {
            "items": [
                good,
                {**good, "contact": foreign.pk},
                good,
                {**good, "occurred_at": "2026-02-30", "type": "Nouveau type"},
                {**good, "label": "Nouveau libellé"},
            ],
            "create_missing": True,
        },
    )
    shapes = post(
        api,
        "api-interactions-bulk",
        {"items": [good, {"occurred_at": "hier", "type": 3.5}, good]},
    )

    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"index": 1, "errors": {"contact": ["Contact inconnu dans votre association."]}},
            {
                "index": 3,
                "errors": {
                    "occurred_at": [
                        "« 2026-02-30 » n'est pas une date valide "
                        "(AAAA-MM-JJ ou AAAA-MM-JJTHH:MM:SS)."
                    ]
                },
            },
        ]
    }
    assert shapes.status_code == 400
    assert shapes.json() == {
        "errors": [
            {
                "index": 1,
                "errors": {
                    "contact": ["Le contact est obligatoire."],
                    "occurred_at": [
                        "« hier » n'est pas une date valide (AAAA-MM-JJ ou AAAA-MM-JJTHH:MM:SS)."
                    ],
                    "type": ["Se désigne par son id (nombre) ou son nom (texte)."],
                },
            }
        ]
    }
    assert Interaction.objects.count() == 0
    # Names asked to be created went back with the batch.
    assert not InteractionType.objects.filter(name="Nouveau type").exists()
    assert not InteractionLabel.objects.exists()


def test_bulk_refuses_unknown_names_without_create_missing(org, api):
    helene = person(org)

    response = post(
        api,
        "api-interactions-bulk",
        {"items": [{"contact": helene.pk, "occurred_at": "2026-03-01", "type": "Inconnu"}]},
    )

    assert response.json() == {
        "errors": [
            {
                "index": 0,
                "errors": {
                    "type": ["« Inconnu » : type d'interaction inconnu(e) dans votre association."]
                },
            }
        ]
    }


def test_bulk_is_limited_to_a_thousand_items_and_needs_at_least_one(org, api):
    helene = person(org)
    item = {"contact": helene.pk, "occurred_at": "2026-03-01", "type": "Rencontre"}

    too_many = post(api, "api-interactions-bulk", {"items": [item] * 1001})
    empty = post(api, "api-interactions-bulk", {"items": []})
    not_a_list = post(api, "api-interactions-bulk", {"items": item})
    most = post(api, "api-interactions-bulk", {"items": [item] * 1000})

    assert too_many.status_code == 400
    assert too_many.json() == {
        "items": ["1000 interactions au plus par envoi (1001 reçues) : découpez la liste."]
    }
    assert empty.status_code == 400
    assert list(empty.json()) == ["items"]
    assert not_a_list.status_code == 400
    assert list(not_a_list.json()) == ["items"]
    assert most.status_code == 201
    assert most.json()["created"] == 1000
    assert Interaction.objects.count() == 1000


def test_bulk_query_count_does_not_grow_with_items(org, api):
    people = [person(org, last_name=f"Nom {i}") for i in range(40)]
    town = contacts.create_structure(organization=org, actor=ACTOR, data={"name": "Mairie"})
    services.save_setting(organization=org, actor=ACTOR, kind="label", name="Gala")
    api.get(reverse("api-interactions-list"))

    def count(n):
        items = [
            {
                "contact": people[i].pk,
                "occurred_at": "2026-03-01",
                "type": "Rencontre",
                "label": "Gala",
                "structure": town.pk,
            }
            for i in range(n)
        ]
        with CaptureQueriesContext(connection) as queries:
            response = post(api, "api-interactions-bulk", {"items": items, "create_missing": True})
        assert response.status_code == 201, response.json()
        return len(queries)

    assert count(4) == count(40)


# Types, categories, labels -------------------------------------------------------------


def test_types_crud_system_types_keep_their_name_and_stay(org, api):
    listed = api.get(reverse("api-interaction-types-list"), {"limit": 3}).json()
    created = post(
        api, "api-interaction-types-list", {"name": "Porte-à-porte", "default_status": "passive"}
    )
    payment = kind(org, "Paiement")
    rename_system = patch(api, "api-interaction-types-detail", {"name": "Don"}, args=[payment.pk])
    status_of_system = patch(
        api, "api-interaction-types-detail", {"default_status": "passive"}, args=[payment.pk]
    )
    delete_system = api.delete(reverse("api-interaction-types-detail", args=[payment.pk]))
    duplicate = post(api, "api-interaction-types-list", {"name": "porte-à-porte"})
    no_system_flag = patch(
        api,
        "api-interaction-types-detail",
        {"is_system": True, "name": "Porte à porte"},
        args=[created.json()["id"]],
    )

    assert listed["count"] == 18
    assert [row["name"] for row in listed["results"]] == [
        "Appel téléphonique",
        "Rencontre",
        "Email",
    ]
    assert listed["results"][0]["is_system"] is False
    assert created.status_code == 201, created.json()
    assert created.json() == {
        "id": created.json()["id"],
        "name": "Porte-à-porte",
        "default_status": "passive",
        "is_system": False,
        "position": 19,
    }
    assert rename_system.status_code == 400
    assert rename_system.json() == {
        "name": ["Ce type est utilisé par Lien lui-même : il garde son nom."]
    }
    assert status_of_system.status_code == 200
    assert status_of_system.json()["default_status"] == "passive"
    assert delete_system.status_code == 409
    assert delete_system.json() == {
        "detail": "Ce type est utilisé par Lien lui-même : il ne peut pas être supprimé."
    }
    assert duplicate.json() == {"name": ["« porte-à-porte » existe déjà."]}
    assert no_system_flag.json()["is_system"] is False
    assert no_system_flag.json()["name"] == "Porte à porte"


def test_a_type_in_use_cannot_be_deleted_an_unused_one_can(org, api):
    record(org, person(org), paris(2026, 1, 1), type_name="Rencontre")
    meeting, letter = kind(org, "Rencontre"), kind(org, "Courrier")

    in_use = api.delete(reverse("api-interaction-types-detail", args=[meeting.pk]))
    unused = api.delete(reverse("api-interaction-types-detail", args=[letter.pk]))

    assert in_use.status_code == 409
    assert in_use.json() == {
        "detail": "1 interaction(s) ont ce type : il ne peut pas être supprimé."
    }
    assert unused.status_code == 204
    assert not InteractionType.objects.filter(pk=letter.pk).exists()


def test_categories_and_labels_crud_and_delete_says_how_many_interactions_lost_it(org, api):
    helene = person(org)
    record(org, helene, paris(2026, 1, 1), category="Collecte", label="Gala")
    record(org, helene, paris(2026, 1, 2), category="Collecte", label="Gala")
    record(org, helene, paris(2026, 1, 3), label="Forum")

    created = post(api, "api-interaction-categories-list", {"name": "  Vie   associative "})
    renamed = patch(
        api,
        "api-interaction-labels-detail",
        {"name": "Gala 2026"},
        args=[InteractionLabel.objects.get(name="Gala").pk],
    )
    labels = api.get(reverse("api-interaction-labels-list")).json()
    collecte = InteractionCategory.objects.get(name="Collecte")
    lost_category = api.delete(reverse("api-interaction-categories-detail", args=[collecte.pk]))
    gala = InteractionLabel.objects.get(name="Gala 2026")
    lost_label = api.delete(reverse("api-interaction-labels-detail", args=[gala.pk]))

    assert created.status_code == 201
    assert created.json()["name"] == "Vie associative"
    assert renamed.json() == {"id": gala.pk, "name": "Gala 2026"}
    assert [row["name"] for row in labels["results"]] == ["Forum", "Gala 2026"]
    assert lost_category.status_code == 200
    assert lost_category.json() == {"interactions": 2}
    assert lost_label.json() == {"interactions": 2}
    assert Interaction.objects.for_org(org).filter(label__isnull=True).count() == 2
    assert Interaction.objects.for_org(org).count() == 3


# Rights ---------------------------------------------------------------------------------


@pytest.fixture
def settings_keeper(org) -> Membership:
    """May manage the settings but sees no interactions."""
    profile = save_profile(
        organization=org, actor=ACTOR, name="Paramétrage", rights={"settings": ["view", "add"]}
    )
    return Membership.objects.create(
        organization=org, user=make_user("parametres@amis-du-parc.fr"), profile=profile
    )


def test_a_reader_reads_but_does_not_write(org, reader_member):
    call = record(org, person(org), paris(2026, 1, 1))
    reader = api_client_for(reader_member)

    assert reader.get(reverse("api-interactions-list")).json()["count"] == 1
    assert reader.get(reverse("api-interaction-types-list")).status_code == 200
    assert (
        patch(reader, "api-interactions-detail", {"description": "x"}, args=[call.pk]).status_code
        == 403
    )
    assert reader.delete(reverse("api-interactions-detail", args=[call.pk])).status_code == 403
    assert post(reader, "api-interactions-bulk", {"items": []}).status_code == 403
    assert post(reader, "api-interaction-labels-list", {"name": "X"}).status_code == 403


def test_settings_writes_need_the_settings_right_and_reads_the_interactions_one(
    org, editor_member, settings_keeper
):
    editor = api_client_for(editor_member)
    keeper = api_client_for(settings_keeper)

    assert post(editor, "api-interaction-categories-list", {"name": "X"}).status_code == 403
    assert keeper.get(reverse("api-interaction-categories-list")).status_code == 403
    assert keeper.get(reverse("api-interactions-list")).status_code == 403
    assert post(keeper, "api-interaction-categories-list", {"name": "Y"}).status_code == 201


def test_payment_interactions_hide_their_amount_from_members_without_the_payment_right(
    org, editor_member
):
    from lien.contacts import services as contacts
    from lien.payments import services as payments

    alice = contacts.create_contact(organization=org, actor=Actor.system(), data={"last_name": "A"})
    payments.create_payment(
        organization=org, actor=Actor.system(), kind="don", amount="75", paid_on="2026-03-01",
        payer_contact=alice,
    )  # fmt: skip
    api = api_client_for(editor_member)
    assert "75,00" in api.get("/api/v1/interactions/").json()["results"][0]["description"]

    editor_member.profile.hide_payment_data = True
    editor_member.profile.save()

    (row,) = api.get("/api/v1/interactions/").json()["results"]
    assert row["description"] == "Paiement (détails masqués)"
