"""Contact and structure pages: lists, search, pagination, bulk actions, cards, forms."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lien.contacts import services
from lien.contacts.models import Contact, ContactLabel, CustomField, Structure
from lien.core.audit import Actor
from lien.core.models import Job, Membership
from lien.core.scheduler import enqueue_due
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system()


def new_contact(org, **data) -> Contact:
    return services.create_contact(organization=org, actor=SYSTEM, data=data)


def names(response) -> list[str]:
    return [str(row) for row in response.context["page"].rows]


def test_quick_search_ignores_accents_and_case_and_finds_phones_and_emails(org, admin_client):
    new_contact(org, first_name="Hélène", last_name="Durand", email="h.durand@example.org",
                mobile="06 12 34 56 78")  # fmt: skip
    new_contact(org, first_name="Paul", last_name="Martin", email="paul@example.org")

    def search(q):
        return names(admin_client.get(reverse("contact_list"), {"q": q}))

    assert search("helene") == ["Hélène Durand"]
    assert search("DUR hél") == ["Hélène Durand"]
    assert search("+33612345678") == ["Hélène Durand"]
    assert search("06.12.34.56.78") == ["Hélène Durand"]
    assert search("paul@ex") == ["Paul Martin"]
    assert search("zorro") == []


def test_keyset_pages_go_forward_and_back(org, admin_client):
    for i in range(30):
        new_contact(org, first_name="Alex", last_name=f"Nom{i:02d}")

    first = admin_client.get(reverse("contact_list"), {"taille": 25})
    page = first.context["page"]
    assert len(page.rows) == 25
    assert page.previous_cursor == ""
    second = admin_client.get(reverse("contact_list"), {"taille": 25, "apres": page.next_cursor})
    assert names(second) == [f"Alex Nom{i:02d}" for i in range(25, 30)]
    assert second.context["page"].next_cursor == ""
    back = admin_client.get(
        reverse("contact_list"), {"taille": 25, "avant": second.context["page"].previous_cursor}
    )
    assert names(back) == names(first)


def test_sorting_descending_by_creation(org, admin_client):
    for i in range(3):
        contact = new_contact(org, last_name=f"C{i}")
        Contact.objects.filter(pk=contact.pk).update(
            created_at=timezone.now() - dt.timedelta(days=10 - i)
        )

    response = admin_client.get(reverse("contact_list"), {"tri": "-created_at"})

    assert names(response) == ["C2", "C1", "C0"]


def test_a_forged_cursor_is_ignored(org, admin_client):
    new_contact(org, last_name="Seul")

    response = admin_client.get(reverse("contact_list"), {"apres": "pas-un-curseur!!"})

    assert response.status_code == 200
    assert names(response) == ["Seul"]


def test_list_query_count_does_not_grow_with_page_size(org, admin_client):
    label = services.save_label(organization=org, actor=SYSTEM, name="Bénévole", color="#123456")
    ids = [new_contact(org, last_name=f"N{i:03d}").pk for i in range(100)]
    services.add_labels(organization=org, actor=SYSTEM, model=Contact, ids=ids, labels=[label])

    def queries(size: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(reverse("contact_list"), {"taille": size})
        assert len(response.context["page"].rows) == size
        return len(captured)

    assert queries(25) == queries(100)


def test_label_and_group_filters_narrow_the_list(org, admin_client):
    label = services.save_label(organization=org, actor=SYSTEM, name="Donateur", color="#123456")
    group = services.save_group(organization=org, actor=SYSTEM, name="Gala")
    alice, bob, _carla = (new_contact(org, last_name=n) for n in ("Alice", "Bob", "Carla"))
    services.add_labels(
        organization=org, actor=SYSTEM, model=Contact, ids=[alice.pk, bob.pk], labels=[label]
    )
    services.add_to_group(organization=org, actor=SYSTEM, group=group, contact_ids=[bob.pk])

    by_label = admin_client.get(reverse("contact_list"), {"etiquette": label.pk})
    by_both = admin_client.get(reverse("contact_list"), {"etiquette": label.pk, "groupe": group.pk})
    count = admin_client.get(reverse("contact_count"), {"etiquette": label.pk})

    assert names(by_label) == ["Alice", "Bob"]
    assert names(by_both) == ["Bob"]
    assert count.content.decode().strip() == "2 contacts"


def test_the_column_choice_is_remembered_per_member(org, admin_client, admin_member):
    admin_client.post(reverse("contact_columns"), {"colonnes": ["name", "city", "nope"]})

    admin_member.refresh_from_db()
    assert admin_member.preferences["contact.columns"] == ["name", "city"]
    page = admin_client.get(reverse("contact_list")).context["page"]
    assert [c.key for c in page.columns] == ["name", "city"]


def test_bulk_add_label_on_ticked_rows(org, admin_client):
    label = services.save_label(organization=org, actor=SYSTEM, name="Presse", color="#123456")
    a, b, c = (new_contact(org, last_name=n) for n in ("A", "B", "C"))

    response = admin_client.post(
        reverse("contact_bulk"), {"action": "add_label", "label": label.pk, "ids": [a.pk, c.pk]}
    )

    assert response.status_code == 302
    tagged = set(ContactLabel.objects.filter(label=label).values_list("contact_id", flat=True))
    assert tagged == {a.pk, c.pk}


def test_bulk_action_on_the_whole_filtered_list_runs_as_a_job(
    org, admin_client, django_capture_on_commit_callbacks
):
    label = services.save_label(organization=org, actor=SYSTEM, name="Ami", color="#123456")
    for i in range(12):
        new_contact(org, first_name="Jeanne", last_name=f"Dupont{i}")
    new_contact(org, first_name="Autre", last_name="Personne")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("contact_bulk"),
            {"action": "add_label", "label": label.pk, "tous": "1", "filtres": "q=jeanne"},
        )

    job = Job.objects.for_org(org).get(kind="bulk_action")
    assert response.status_code == 302
    assert f"tache={job.pk}" in response["Location"]
    assert (job.status, job.progress_done, job.progress_total) == ("succeeded", 12, 12)
    assert job.message == "Étiquette ajoutée à 12 fiche(s)."
    assert ContactLabel.objects.filter(label=label).count() == 12


def test_bulk_trash_needs_the_delete_right(org, editor_member, reader_member):
    contact = new_contact(org, last_name="Gardé")

    response = client_for(reader_member).post(
        reverse("contact_bulk"), {"action": "trash", "ids": [contact.pk]}
    )

    assert response.status_code == 403
    assert Contact.objects.get(pk=contact.pk).is_deleted is False


def test_creating_a_twin_by_email_warns_and_links_to_the_existing_contact(org, admin_client):
    existing = new_contact(org, first_name="Léa", last_name="Petit", email="lea@example.org")
    data = {"first_name": "Léa", "last_name": "P.", "email": "LEA@example.org ", "country": "FR",
            "preferred_language": "fr"}  # fmt: skip

    warned = admin_client.post(reverse("contact_create"), data)
    forced = admin_client.post(reverse("contact_create"), {**data, "allow_duplicate": "on"})

    assert warned.status_code == 200
    assert warned.context["duplicate"] == existing
    assert reverse("contact_detail", args=[existing.pk]) in warned.content.decode()
    assert forced.status_code == 302
    assert Contact.objects.filter(email_normalized="lea@example.org").count() == 2


def test_bad_input_gets_field_messages_in_french_and_nothing_is_saved(org, admin_client):
    field = services.save_custom_field(
        organization=org, actor=SYSTEM, target="contact", name="Nombre d'enfants",
        field_type="integer",
    )  # fmt: skip

    response = admin_client.post(
        reverse("contact_create"),
        {
            "last_name": "Erreur",
            "email": "pas-un-email",
            "mobile": "12",
            "birth_date": "2023-02-30",
            "country": "FR",
            "preferred_language": "fr",
            f"custom__{field.key}": "deux",
        },
    )

    errors = response.context["form"].errors
    assert response.status_code == 200
    assert errors["email"] == ["Saisissez une adresse e-mail valide."]
    assert errors["birth_date"] == ["Saisissez une date valide."]
    assert Contact.objects.for_org(org).count() == 0
    # With the form-level errors fixed, the service's own checks speak.
    response = admin_client.post(
        reverse("contact_create"),
        {"last_name": "Erreur", "mobile": "12", "country": "FR", "preferred_language": "fr",
         f"custom__{field.key}": "deux"},
    )  # fmt: skip
    errors = response.context["form"].errors
    assert errors["mobile"] == ["« 12 » n'est pas un numéro de téléphone reconnu."]
    assert errors[f"custom__{field.key}"] == [
        "« Nombre d'enfants » : « deux » n'est pas un nombre entier."
    ]
    assert Contact.objects.for_org(org).count() == 0


def test_a_siret_with_a_bad_checksum_is_refused(org, admin_client):
    response = admin_client.post(
        reverse("structure_create"),
        {"name": "Boulangerie", "kind": "entreprise", "siret": "73282932000075", "country": "FR"},
    )

    assert response.context["form"].errors["siret"] == [
        "« 73282932000075 » n'est pas un numéro SIRET valide (vérifiez les chiffres)."
    ]
    assert Structure.objects.for_org(org).count() == 0


def test_contact_card_shows_labels_custom_values_links_and_history(org, admin_client):
    field = services.save_custom_field(
        organization=org, actor=SYSTEM, target="contact", name="Arrivée", field_type="date"
    )
    label = services.save_label(organization=org, actor=SYSTEM, name="Bénévole", color="#123456")
    contact = services.create_contact(
        organization=org, actor=SYSTEM, data={"first_name": "Nina", "last_name": "Roux"},
        custom={field.key: "03/11/2021"}, labels=[label],
    )  # fmt: skip
    structure = services.create_structure(organization=org, actor=SYSTEM, data={"name": "Mairie"})
    services.save_structure_link(
        organization=org, actor=SYSTEM, contact=contact, structure=structure, role="Élue",
        is_main=True,
    )  # fmt: skip

    html = admin_client.get(reverse("contact_detail", args=[contact.pk])).content.decode()

    assert "Bénévole" in html
    assert "03/11/2021" in html
    assert "Mairie" in html and "Élue" in html
    assert "Création par" in html
    structure_html = admin_client.get(reverse("structure_detail", args=[structure.pk]))
    assert "Nina Roux" in structure_html.content.decode()


def test_sensitive_values_are_hidden_from_profiles_that_hide_them(org, admin_member):
    field = services.save_custom_field(
        organization=org, actor=SYSTEM, target="contact", name="Santé", field_type="text",
        sensitive=True,
    )  # fmt: skip
    contact = services.create_contact(
        organization=org, actor=SYSTEM, data={"last_name": "Roux"}, custom={field.key: "Asthme"}
    )
    from lien.core.services import save_profile

    profile = save_profile(
        organization=org, actor=SYSTEM, name="Accueil", rights={"contacts": ["view", "change"]},
        hide_sensitive_fields=True,
    )  # fmt: skip
    member = Membership.objects.create(
        organization=org, user=make_user("accueil@example.org"), profile=profile
    )
    client = client_for(member)

    card = client.get(reverse("contact_detail", args=[contact.pk])).content.decode()
    client.post(
        reverse("contact_edit", args=[contact.pk]),
        {"last_name": "Roux-Martin", "country": "FR", "preferred_language": "fr"},
    )

    assert "Asthme" not in card and "Santé" not in card
    contact.refresh_from_db()
    assert contact.last_name == "Roux-Martin"
    assert contact.custom == {field.key: "Asthme"}  # kept, though the member cannot see it


def test_trash_from_the_card_then_restore_and_nightly_purge(org, admin_client):
    kept = new_contact(org, last_name="Gardé")
    gone = new_contact(org, last_name="Parti")

    admin_client.post(reverse("contact_delete", args=[gone.pk]))

    assert names(admin_client.get(reverse("contact_list"))) == ["Gardé"]
    assert admin_client.get(reverse("contact_detail", args=[gone.pk])).status_code == 404
    services.restore(organization=org, actor=SYSTEM, model=Contact, ids=[gone.pk])
    assert names(admin_client.get(reverse("contact_list"))) == ["Gardé", "Parti"]
    services.trash(organization=org, actor=SYSTEM, model=Contact, ids=[gone.pk, kept.pk])
    Contact.objects.filter(pk=gone.pk).update(deleted_at=timezone.now() - dt.timedelta(days=31))
    Contact.objects.filter(pk=kept.pk).update(deleted_at=timezone.now() - dt.timedelta(days=29))

    assert services.purge_trash() == {"contact": 1, "structure": 0}
    assert list(Contact.objects.for_org(org).values_list("last_name", flat=True)) == ["Gardé"]


def test_nightly_tasks_are_enqueued_once_a_day():
    night = timezone.make_aware(dt.datetime(2026, 11, 23, 3, 5))
    evening = timezone.make_aware(dt.datetime(2026, 11, 23, 1, 0))

    assert enqueue_due(now=evening) == []
    assert enqueue_due(now=night) == [
        "lien.contacts.tasks.purge_trash",
        "lien.payments.tasks.apply_payment_labels",
        "lien.imports.tasks.purge_import_files",
        "lien.exports.tasks.purge_export_files",
        "lien.search.tasks.record_segments",
    ]
    assert enqueue_due(now=night + dt.timedelta(hours=2)) == []


def test_custom_field_values_of_every_type_round_trip(org):
    kinds = {
        "texte": ("text", [], " Bonjour ", "Bonjour"),
        "entier": ("integer", [], "1 234", 1234),
        "decimal": ("decimal", [], "12,5", 12.5),
        "date": ("date", [], "31/12/2024", "2024-12-31"),
        "bool": ("boolean", [], "oui", True),
        "choix": ("choice", ["Bus", "Train"], "bus", "Bus"),
        "multi": ("multiple_choice", ["A", "B", "C"], "c; a", ["C", "A"]),
        "mail": ("email", [], "x@example.org", "x@example.org"),
        "tel": ("phone", [], "06 12 34 56 78", "+33612345678"),
        "web": ("url", [], "example.org", "https://example.org"),
    }
    keys = {}
    for name, (kind, choices, _raw, _stored) in kinds.items():
        keys[name] = services.save_custom_field(
            organization=org, actor=SYSTEM, target="contact", name=name, field_type=kind,
            choices=choices,
        ).key  # fmt: skip

    contact = services.create_contact(
        organization=org, actor=SYSTEM, data={"last_name": "Types"},
        custom={keys[name]: raw for name, (_k, _c, raw, _s) in kinds.items()},
    )  # fmt: skip

    assert contact.custom == {keys[name]: stored for name, (_k, _c, _r, stored) in kinds.items()}
    assert CustomField.objects.for_org(org).count() == 10


def test_a_structure_link_is_edited_from_the_card_and_only_one_is_main(org, admin_client):
    contact = new_contact(org, last_name="Roux")
    first, second = (
        services.create_structure(organization=org, actor=SYSTEM, data={"name": n})
        for n in ("Mairie", "Club")
    )
    link_a = services.save_structure_link(
        organization=org, actor=SYSTEM, contact=contact, structure=first, is_main=True
    )
    link_b = services.save_structure_link(
        organization=org, actor=SYSTEM, contact=contact, structure=second
    )

    response = admin_client.post(
        reverse("structure_link_edit", args=[link_b.pk]),
        {
            "role": "Trésorière",
            "start_date": "2024-09-01",
            "end_date": "2024-01-01",
            "is_main": "on",
        },
    )
    admin_client.post(
        reverse("structure_link_edit", args=[link_b.pk]),
        {"role": "Trésorière", "start_date": "2024-09-01", "is_main": "on"},
    )

    assert response.status_code == 302
    link_a.refresh_from_db()
    link_b.refresh_from_db()
    assert (link_b.role, link_b.start_date, link_b.is_main) == (
        "Trésorière", dt.date(2024, 9, 1), True,
    )  # fmt: skip
    assert link_a.is_main is False
