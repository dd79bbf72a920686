"""The import engine (lien.imports.services): check, run, policies, targets, safety, undo."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lien.contacts import services as contacts
from lien.contacts.models import (
    Contact,
    ContactLabel,
    CustomField,
    ExternalId,
    GroupMembership,
    Label,
    Structure,
)
from lien.core.audit import Actor
from lien.core.models import AuditEvent, Job
from lien.imports import plans, services
from lien.imports.models import Import, ImportRow, MappingTemplate
from lien.interactions.models import Interaction
from lien.payments.models import MembershipPeriod, Payment

CONTACTS_CSV = (
    "Prénom;Nom;Email;Ville;Étiquettes\n"
    "Jean;Dupont;jean.dupont@example.org;Lyon;Bénévole\n"
    "Ana;Roy;ana@example.org;Paris;\n"
)


@pytest.fixture
def actor(admin_member) -> Actor:
    return Actor.for_user(admin_member.user)


@pytest.fixture(autouse=True)
def _read_beside(settings):
    """Every file of these tests is read by the second process (as big files are): the
    one-process reading has its own test below, which compares the two."""
    settings.LIEN_IMPORT_READ_BESIDE_BYTES = 0


def upload(org, actor, text: str, *, target="contacts", name="fichier.csv", encoding="utf-8"):
    data = text.encode(encoding) if isinstance(text, str) else text
    return services.create_import(
        organization=org, actor=actor, target=target, file=ContentFile(data, name=name)
    )


def checked(org, imp, **config):
    if config:
        services.configure_import(organization=org, imp=imp, **config)
    services.check_import(imp=imp)
    imp.refresh_from_db()
    return imp


def run(org, actor, text, *, target="contacts", name="fichier.csv", **config):
    imp = checked(org, upload(org, actor, text, target=target, name=name), **config)
    services.run_import(imp=imp, user=actor.user)
    imp.refresh_from_db()
    return imp


def people(org):
    return sorted(
        Contact.objects.for_org(org).values_list("first_name", "last_name", "email", "city")
    )


def domain_counts(org) -> dict[str, int]:
    return {
        model.__name__: model.objects.for_org(org).count()
        for model in (Contact, Structure, Interaction, Payment, Label, ContactLabel,
                      GroupMembership, ExternalId, AuditEvent, MembershipPeriod)
    }  # fmt: skip


# Upload and detection ------------------------------------------------------------------


@pytest.mark.django_db
def test_upload_detects_the_file_and_suggests_a_mapping(org, actor):
    imp = upload(org, actor, CONTACTS_CSV, encoding="cp1252")
    assert (imp.file_format, imp.encoding, imp.delimiter) == ("csv", "latin-1", ";")
    assert imp.headers == ["Prénom", "Nom", "Email", "Ville", "Étiquettes"]
    assert imp.mapping == {
        "0": "first_name", "1": "last_name", "2": "email", "3": "city", "4": "labels",
    }  # fmt: skip
    assert imp.status == Import.Status.UPLOADED
    assert imp.source == "import:fichier.csv"
    assert imp.file_name.startswith(f"imports/{org.pk}/")
    assert default_storage.exists(imp.file_name)


@pytest.mark.django_db
def test_a_file_that_is_not_a_table_is_refused_and_not_kept(org, actor):
    with pytest.raises(ValidationError) as error:
        upload(org, actor, b"%PDF-1.4 not a table", name="liste.csv")
    assert "file" in error.value.message_dict
    assert Import.objects.for_org(org).count() == 0


@pytest.mark.django_db
def test_mapping_to_unknown_fields_is_refused(org, actor):
    imp = upload(org, actor, CONTACTS_CSV)
    with pytest.raises(ValidationError) as error:
        services.configure_import(organization=org, imp=imp, mapping={"0": "amount"})
    assert error.value.message_dict["mapping"] == ["Colonne « Prénom » : champ inconnu « amount »."]


# Check ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_check_writes_nothing_and_counts_what_the_run_will_do(org, actor):
    contacts.create_contact(
        organization=org, actor=actor, data={"first_name": "Jean", "last_name": "Dupont",
                                             "email": "jean.dupont@example.org"},
    )  # fmt: skip
    text = CONTACTS_CSV + "Zoé;Bad;zoe@;Nice;\nJean;Dupont;jean.dupont@example.org;;\n"
    imp = upload(org, actor, text)
    before = domain_counts(org)
    summary = services.check_import(imp=imp)
    assert domain_counts(org) == before
    assert summary == {
        "rows": 4, "create": 1, "update": 1, "unchanged": 1, "error": 1,
        "message": "1 à créer, 1 à mettre à jour, 1 inchangé, 1 en erreur",
    }  # fmt: skip
    [error] = services.error_rows(imp)
    assert error.row_number == 4
    assert error.errors == [
        {
            "column": "Email",
            "value": "zoe@",
            "message": "« zoe@ » n'est pas une adresse email valide.",
        }
    ]


@pytest.mark.django_db
def test_error_messages_name_row_column_and_value(org, actor):
    text = (
        "Nom;Email;Naissance;Mobile;Pays\n"
        "Roy;jean.dupont@;31/02/1990;12;Atlantide\n"
        ";;;;\n"
        "Durand;ok@example.org;01/01/2090;;\n"
    )
    imp = upload(org, actor, text)
    services.configure_import(
        organization=org, imp=imp,
        mapping={"0": "last_name", "1": "email", "2": "birth_date", "3": "mobile", "4": "country"},
    )  # fmt: skip
    services.check_import(imp=imp)
    texts = [
        services.error_text(row.row_number, e)
        for row in services.error_rows(imp)
        for e in row.errors
    ]
    assert texts == [
        "ligne 2, colonne « Email » : « jean.dupont@ » n'est pas une adresse email valide.",
        "ligne 2, colonne « Naissance » : « 31/02/1990 » n'est pas une date qui existe.",
        "ligne 2, colonne « Mobile » : « 12 » n'est pas un numéro de téléphone reconnu.",
        "ligne 2, colonne « Pays » : « Atlantide » n'est pas un pays reconnu "
        "(nom ou code ISO : FR).",
        "ligne 4, colonne « Naissance » : La date de naissance est dans le futur.",
    ]


@pytest.mark.django_db
def test_run_refuses_a_file_with_errors_unless_told_to_skip_them(org, actor):
    imp = checked(org, upload(org, actor, CONTACTS_CSV + "Zoé;Bad;zoe@;Nice;\n"))
    with pytest.raises(ValidationError, match="1 ligne en erreur"):
        services.run_import(imp=imp)
    assert Contact.objects.for_org(org).count() == 0
    imp = checked(org, imp, options={"skip_errors": True})
    services.run_import(imp=imp)
    imp.refresh_from_db()
    assert imp.counters == {"created": 2, "updated": 0, "unchanged": 0, "skipped": 0, "errors": 1}
    assert people(org) == [
        ("Ana", "Roy", "ana@example.org", "Paris"),
        ("Jean", "Dupont", "jean.dupont@example.org", "Lyon"),
    ]


@pytest.mark.django_db
def test_run_needs_a_check_first(org, actor):
    imp = upload(org, actor, CONTACTS_CSV)
    with pytest.raises(ValidationError, match="Vérifiez le fichier"):
        services.run_import(imp=imp)


# Update policies -----------------------------------------------------------------------

POLICIES = [
    # policy, expected (city, mobile, notes) of the existing contact after the import
    ("fill", ("Lyon", "+33612345678", "Ancien")),
    ("overwrite", ("Paris", "+33612345678", "Nouveau")),
    ("never", ("Lyon", "", "Ancien")),
]


@pytest.mark.django_db
@pytest.mark.parametrize("policy, expected", POLICIES, ids=[p[0] for p in POLICIES])
def test_update_policies(org, actor, policy, expected):
    existing = contacts.create_contact(
        organization=org, actor=actor,
        data={"first_name": "Jean", "last_name": "Dupont", "email": "jean@example.org",
              "city": "Lyon", "notes": "Ancien"},
    )  # fmt: skip
    text = "Email;Ville;Portable;Notes\njean@example.org;Paris;06 12 34 56 78;Nouveau\n"
    imp = run(org, actor, text, options={"update_policy": policy})
    existing.refresh_from_db()
    assert (existing.city, existing.mobile and existing.phone_e164, existing.notes) == expected
    outcome = ImportRow.objects.get(import_run=imp).outcome
    assert outcome == ("unchanged" if policy == "never" else "updated")


@pytest.mark.django_db
def test_empty_cells_never_erase(org, actor):
    existing = contacts.create_contact(
        organization=org, actor=actor,
        data={"first_name": "Jean", "last_name": "Dupont", "email": "jean@example.org",
              "city": "Lyon"},
    )  # fmt: skip
    run(org, actor, "Email;Ville;Nom\njean@example.org;;\n", options={"update_policy": "overwrite"})
    existing.refresh_from_db()
    assert (existing.city, existing.last_name) == ("Lyon", "Dupont")


@pytest.mark.django_db
def test_labels_and_group_are_added_never_removed(org, actor):
    kept = contacts.save_label(organization=org, actor=actor, name="Historique", color="#123456")
    volunteer = contacts.save_label(organization=org, actor=actor, name="Bénévole", color="#123456")
    group = contacts.save_group(organization=org, actor=actor, name="Gala 2026")
    existing = contacts.create_contact(
        organization=org, actor=actor,
        data={"first_name": "Jean", "last_name": "Dupont", "email": "jean.dupont@example.org"},
        labels=[kept],
    )  # fmt: skip
    imp = run(
        org, actor, CONTACTS_CSV,
        options={"labels": [kept.pk], "group": group.pk, "update_policy": "overwrite"},
    )  # fmt: skip
    names = {
        c.email: sorted(
            ContactLabel.objects.filter(contact=c).values_list("label__name", flat=True)
        )
        for c in Contact.objects.for_org(org)
    }
    assert names == {
        "jean.dupont@example.org": ["Bénévole", "Historique"],
        "ana@example.org": ["Historique"],
    }
    assert GroupMembership.objects.for_org(org).filter(group=group).count() == 2
    row = ImportRow.objects.get(import_run=imp, object_id=existing.pk)
    assert row.added == {"labels": [volunteer.pk], "group": group.pk}
    events = AuditEvent.objects.for_org(org).filter(target_id=existing.pk, actor_kind="import")
    assert [e.changes for e in events] == [
        {"city": ["", "Lyon"], "labels": [None, "+ Bénévole"], "groups": [None, "+ Gala 2026"]}
    ]
    assert events[0].actor_label == f"Import n°{imp.pk}"


@pytest.mark.django_db
def test_missing_labels_of_the_file_are_created(org, actor):
    run(org, actor, CONTACTS_CSV)
    assert list(Label.objects.for_org(org).values_list("name", flat=True)) == ["Bénévole"]


# Custom fields and transforms ----------------------------------------------------------


@pytest.fixture
def diet(org, actor) -> CustomField:
    return contacts.save_custom_field(
        organization=org, actor=actor, target="contact", name="Régime",
        field_type="choice", choices=["Végétarien", "Sans gluten"],
    )  # fmt: skip


@pytest.mark.django_db
def test_choice_value_mapping_and_missing_choices(org, actor, diet):
    text = "Nom;Régime;Cotisé le\nRoy;veggie;03/11/2021\nDurand;Vegan;04/11/2021\n"
    key = f"custom.{diet.key}"
    imp = upload(org, actor, text)
    services.configure_import(organization=org, imp=imp, mapping={"0": "last_name", "1": key})
    assert services.check_import(imp=imp)["error"] == 2
    imp = checked(org, imp, transforms={"choices": {key: {"veggie": "Végétarien"}}})
    assert imp.check_summary["error"] == 1
    imp = checked(
        org, imp,
        transforms={"choices": {key: {"veggie": "Végétarien"}}, "create_missing_choices": True},
    )  # fmt: skip
    assert imp.check_summary["error"] == 0
    services.run_import(imp=imp)
    diet.refresh_from_db()
    assert diet.choices == ["Végétarien", "Sans gluten", "Vegan"]
    assert sorted(Contact.objects.for_org(org).values_list("last_name", "custom")) == [
        ("Durand", {diet.key: "Vegan"}),
        ("Roy", {diet.key: "Végétarien"}),
    ]


@pytest.mark.django_db
def test_date_format_transform(org, actor):
    text = "Nom;Naissance\nRoy;1990-31-12\n"
    imp = upload(org, actor, text)
    services.configure_import(
        organization=org, imp=imp, mapping={"0": "last_name", "1": "birth_date"},
        transforms={"date_format": "%Y-%d-%m"},
    )  # fmt: skip
    assert services.check_import(imp=imp)["error"] == 0
    imp.refresh_from_db()
    services.run_import(imp=imp)
    assert Contact.objects.for_org(org).get().birth_date == dt.date(1990, 12, 31)


@pytest.mark.django_db
def test_required_custom_field_is_needed_to_create_not_to_update(org, actor):
    field = contacts.save_custom_field(
        organization=org, actor=actor, target="contact", name="Matricule", field_type="text",
        required=True,
    )  # fmt: skip
    contacts.create_contact(
        organization=org, actor=actor, data={"email": "jean@example.org"},
        custom={field.key: "M1"},
    )  # fmt: skip
    imp = checked(
        org, upload(org, actor, "Email;Ville\njean@example.org;Lyon\nnew@example.org;Nice\n")
    )
    assert imp.check_summary["update"] == 1
    [row] = services.error_rows(imp)
    assert (row.row_number, row.errors[0]["message"]) == (3, "« Matricule » est obligatoire.")


# Full names and several emails -----------------------------------------------------------


@pytest.mark.django_db
def test_full_name_and_two_emails_in_one_cell(org, actor):
    text = "Nom Prénom;Emails\nDUPONT Jean;jean@example.org; jean.pro@example.org\n"
    text = "Nom Prénom;Emails\nDUPONT Jean;jean@example.org, jean.pro@example.org\n"
    imp = upload(org, actor, text)
    services.configure_import(organization=org, imp=imp, mapping={"0": "full_name", "1": "email"})
    services.check_import(imp=imp)
    imp.refresh_from_db()
    services.run_import(imp=imp)
    contact = Contact.objects.for_org(org).get()
    assert (contact.first_name, contact.last_name, contact.email, contact.email2) == (
        "Jean", "DUPONT", "jean@example.org", "jean.pro@example.org",
    )  # fmt: skip


# Reconciliation in a run -----------------------------------------------------------------


@pytest.mark.django_db
def test_two_rows_of_one_person_make_one_contact(org, actor):
    text = (
        "Prénom;Nom;Email;Ville\n"
        "Jean;Dupont;jean@example.org;\n"
        ";Dupont;JEAN@example.org;Lyon\n"
        "Pierre;Dupont;jean@example.org;Nice\n"
    )
    imp = run(org, actor, text)
    assert people(org) == [
        ("Jean", "Dupont", "jean@example.org", "Lyon"),
        ("Pierre", "Dupont", "jean@example.org", "Nice"),
    ]
    assert imp.counters["created"] == 2
    assert imp.counters["updated"] == 1


@pytest.mark.django_db
def test_an_ambiguous_row_is_reported_not_guessed(org, actor):
    for first in ("Claire", "Paul"):
        contacts.create_contact(
            organization=org, actor=actor,
            data={"first_name": first, "last_name": "Martin", "email": "famille@example.org"},
            allow_duplicate_email=True,
        )  # fmt: skip
    imp = checked(org, upload(org, actor, "Email;Ville\nfamille@example.org;Lyon\n"))
    [row] = services.error_rows(imp)
    assert row.errors[0]["message"].startswith("Plusieurs contacts correspondent (n°")


@pytest.mark.django_db
def test_lien_id_column_updates_that_contact(org, actor):
    existing = contacts.create_contact(organization=org, actor=actor, data={"last_name": "Roy"})
    text = f"Identifiant Lien;Ville\n{existing.pk};Lyon\n999999;Paris\n"
    imp = upload(org, actor, text)
    services.configure_import(organization=org, imp=imp, mapping={"0": "id", "1": "city"},
                              options={"skip_errors": True})  # fmt: skip
    services.check_import(imp=imp)
    imp.refresh_from_db()
    services.run_import(imp=imp)
    existing.refresh_from_db()
    assert existing.city == "Lyon"
    [row] = services.error_rows(imp)
    assert row.errors[0]["message"] == "Aucun contact de votre association n'a cet identifiant."


@pytest.mark.django_db
def test_same_file_twice_creates_nothing_new(org, actor):
    text = "N° adhérent;Prénom;Nom;Ville\nA1;Jean;Dupont;Lyon\nA2;Ana;;Paris\n"
    first = run(org, actor, text, name="adherents.csv")
    assert first.mapping["0"] == "external_id"
    counts = domain_counts(org)
    second = run(org, actor, text, name="adherents.csv")
    assert second.counters == {
        "created": 0,
        "updated": 0,
        "unchanged": 2,
        "skipped": 0,
        "errors": 0,
    }
    assert domain_counts(org) == counts
    assert sorted(ExternalId.objects.for_org(org).values_list("source", "external_id")) == [
        ("import:adherents.csv", "A1"),
        ("import:adherents.csv", "A2"),
    ]


# Other targets ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_structures(org, actor):
    text = "Raison sociale;SIREN;Ville\nMairie de Lyon;;Lyon\nACME;732829320;Paris\nacme;;\n"
    imp = run(org, actor, text, target="structures")
    assert imp.counters["created"] == 2
    assert sorted(Structure.objects.for_org(org).values_list("name", "siren", "city")) == [
        ("ACME", "732829320", "Paris"),
        ("Mairie de Lyon", "", "Lyon"),
    ]
    again = run(org, actor, text, target="structures")
    assert again.counters["created"] == 0


INTERACTIONS_CSV = (
    "Email;Nom;Date;Type;Libellé;Description\n"
    "jean@example.org;Dupont;12/03/2026;Appel téléphonique;Forum;Appel de Jean\n"
    "ana@example.org;Roy;13/03/2026 14:30;Rencontre;;Café\n"
)


@pytest.mark.django_db
def test_interactions_find_or_create_their_contact_and_are_not_imported_twice(org, actor):
    jean = contacts.create_contact(
        organization=org, actor=actor, data={"last_name": "Dupont", "email": "jean@example.org"}
    )
    imp = run(org, actor, INTERACTIONS_CSV, target="interactions", name="echanges.csv")
    assert imp.counters["created"] == 2
    rows = sorted(
        Interaction.objects.for_org(org).values_list(
            "contact__email", "type__name", "label__name", "description", "source"
        )
    )
    assert rows == [
        ("ana@example.org", "Rencontre", None, "Café", "import"),
        ("jean@example.org", "Appel téléphonique", "Forum", "Appel de Jean", "import"),
    ]
    assert Interaction.objects.for_org(org).filter(contact=jean).count() == 1
    assert Contact.objects.for_org(org).count() == 2
    counts = domain_counts(org)
    again = run(org, actor, INTERACTIONS_CSV, target="interactions", name="echanges.csv")
    assert again.counters["unchanged"] == 2
    assert domain_counts(org) == counts


@pytest.mark.django_db
def test_interactions_need_a_known_type_unless_missing_ones_are_created(org, actor):
    text = "Email;Date;Type\njean@example.org;12/03/2026;Visio\n"
    imp = checked(org, upload(org, actor, text, target="interactions"))
    [row] = services.error_rows(imp)
    assert row.errors[0]["message"] == (
        "« Visio » : type d'interaction inconnu(e) dans votre association."
    )
    imp = checked(org, imp, transforms={"create_missing_choices": True})
    assert imp.check_summary["error"] == 0


PAYMENTS_CSV = (
    "Réf;Email;Prénom;Nom;Montant;Date du don;Type;Campagne\n"
    "D1;jean@example.org;Jean;Dupont;1 234,50 €;03/11/2025;don;Appel d'hiver\n"
    "D2;ana@example.org;Ana;Roy;30;05/01/2026;adhésion;\n"
)


@pytest.mark.django_db
def test_payments_with_interactions_membership_and_automatic_labels(org, actor):
    imp = upload(org, actor, PAYMENTS_CSV, target="payments", name="dons.csv")
    assert imp.mapping == {
        "0": "external_id", "1": "contact_email", "2": "contact_first_name",
        "3": "contact_last_name", "4": "amount", "5": "paid_on", "6": "kind", "7": "campaign",
    }  # fmt: skip
    imp = checked(org, imp, transforms={"create_missing_choices": True})
    assert imp.check_summary["create"] == 2
    services.run_import(imp=imp, user=actor.user)
    payments = sorted(
        Payment.objects.for_org(org).values_list(
            "external_id", "kind", "amount_cents", "paid_on", "payer_contact__email",
            "beneficiary__email", "campaign__name", "source",
        )
    )  # fmt: skip
    assert payments == [
        ("D1", "don", 123450, dt.date(2025, 11, 3), "jean@example.org", "jean@example.org",
         "Appel d'hiver", "import:dons.csv"),
        ("D2", "adhesion", 3000, dt.date(2026, 1, 5), "ana@example.org", "ana@example.org",
         None, "import:dons.csv"),
    ]  # fmt: skip
    period = MembershipPeriod.objects.for_org(org).get()
    assert (period.contact.email, period.start_date, period.end_date) == (
        "ana@example.org", dt.date(2026, 1, 5), dt.date(2027, 1, 4),
    )  # fmt: skip
    assert Interaction.objects.for_org(org).filter(source="payment").count() == 2
    labels = {
        c.email: sorted(c.label_links.values_list("label__name", flat=True))
        for c in Contact.objects.for_org(org)
    }
    assert labels == {
        "jean@example.org": ["Donateur / Donatrice"],
        "ana@example.org": ["Adhérent(e)"],
    }
    counts = domain_counts(org)
    again = run(org, actor, PAYMENTS_CSV, target="payments", name="dons.csv",
                transforms={"create_missing_choices": True})  # fmt: skip
    assert again.counters["unchanged"] == 2
    assert domain_counts(org) == counts


@pytest.mark.django_db
def test_payment_rows_check_amounts_and_dates(org, actor):
    text = "Email;Montant;Date;Type\na@example.org;12,345;03/11/2025;don\nb@example.org;0;;don\n"
    imp = checked(org, upload(org, actor, text, target="payments"))
    texts = [
        services.error_text(r.row_number, e) for r in services.error_rows(imp) for e in r.errors
    ]
    assert texts == [
        "ligne 2, colonne « Montant » : « 12,345 » : un montant a au plus 2 décimales "
        "(des centimes).",
        "ligne 3, colonne « Montant » : Un paiement payé a un montant supérieur à zéro.",
        "ligne 3 : La date du paiement est obligatoire.",
    ]


# Undo ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_undo_removes_what_was_created_and_restores_what_was_overwritten(org, actor):
    group = contacts.save_group(organization=org, actor=actor, name="Gala")
    jean = contacts.create_contact(
        organization=org, actor=actor,
        data={"first_name": "Jean", "last_name": "Dupont", "email": "jean.dupont@example.org",
              "city": "Grenoble"},
    )  # fmt: skip
    before = domain_counts(org)
    imp = run(org, actor, CONTACTS_CSV, options={"update_policy": "overwrite", "group": group.pk})
    jean.refresh_from_db()
    assert jean.city == "Lyon"
    result = services.undo_import(organization=org, actor=actor, imp=imp)
    assert result == {"deleted": 1, "restored": 1}
    jean.refresh_from_db()
    assert jean.city == "Grenoble"
    assert people(org) == [("Jean", "Dupont", "jean.dupont@example.org", "Grenoble")]
    assert ContactLabel.objects.for_org(org).count() == 0
    assert GroupMembership.objects.for_org(org).count() == 0
    after = domain_counts(org)
    assert after["AuditEvent"] > before["AuditEvent"]  # the undo is in the history
    assert {k: v for k, v in after.items() if k not in ("AuditEvent", "Label")} == {
        k: v for k, v in before.items() if k not in ("AuditEvent", "Label")
    }
    imp.refresh_from_db()
    assert imp.status == Import.Status.UNDONE
    with pytest.raises(ValidationError):
        services.undo_import(organization=org, actor=actor, imp=imp)


@pytest.mark.django_db
def test_undo_is_refused_when_a_record_changed_since(org, actor):
    imp = run(org, actor, CONTACTS_CSV)
    ana = Contact.objects.for_org(org).get(email="ana@example.org")
    contacts.update_contact(organization=org, actor=actor, contact=ana, data={"city": "Brest"})
    blockers = services.undo_blockers(organization=org, imp=imp)
    assert len(blockers) == 1
    assert blockers[0].startswith(f"Contact « Ana Roy » (n°{ana.pk}) : modification le ")
    with pytest.raises(ValidationError, match="ces fiches ont changé depuis"):
        services.undo_import(organization=org, actor=actor, imp=imp)
    assert Contact.objects.for_org(org).count() == 2


@pytest.mark.django_db
def test_imports_undone_latest_first_leave_the_base_as_it_was(org, actor):
    before = people(org)
    first = run(org, actor, CONTACTS_CSV, options={"update_policy": "overwrite"})
    second = run(org, actor, CONTACTS_CSV.replace("Lyon", "Brest"),
                 options={"update_policy": "overwrite"})  # fmt: skip
    assert services.undo_blockers(organization=org, imp=first)  # the second changed them
    services.undo_import(organization=org, actor=actor, imp=second)
    assert services.undo_blockers(organization=org, imp=first) == []
    services.undo_import(organization=org, actor=actor, imp=first)
    assert people(org) == before


@pytest.mark.django_db
def test_undo_of_payments_removes_periods_interactions_and_labels(org, actor):
    before = domain_counts(org)
    imp = run(org, actor, PAYMENTS_CSV, target="payments",
              transforms={"create_missing_choices": True})  # fmt: skip
    services.undo_import(organization=org, actor=actor, imp=imp)
    after = domain_counts(org)
    for name in ("Contact", "Payment", "Interaction", "MembershipPeriod", "ContactLabel",
                 "ExternalId"):  # fmt: skip
        assert after[name] == before[name], name


@pytest.mark.django_db
def test_undo_is_refused_when_a_created_contact_got_a_payment(org, actor):
    from lien.payments import services as payments

    imp = run(org, actor, CONTACTS_CSV)
    ana = Contact.objects.for_org(org).get(email="ana@example.org")
    payments.create_payment(organization=org, actor=actor, kind="don", amount="10",
                            paid_on="2026-01-01", payer_contact=ana)  # fmt: skip
    blockers = services.undo_blockers(organization=org, imp=imp)
    assert any("a été ajouté depuis au contact" in b for b in blockers)


# Safety: chunks, interruption, resume ----------------------------------------------------


def _numbered(n: int) -> str:
    lines = ["Réf;Prénom;Nom;Email"]
    lines += [f"R{i};P{i};Nom{i};p{i}@example.org" for i in range(1, n + 1)]
    lines.append("R3;P3;Nom3;p3@example.org")  # a repeat, in the last chunk
    return "\n".join(lines) + "\n"


@pytest.mark.django_db
def test_a_killed_run_resumes_from_the_next_chunk_with_nothing_twice(org, actor):
    imp = upload(org, actor, _numbered(10))
    Import.objects.filter(pk=imp.pk).update(chunk_size=3)
    imp.refresh_from_db()
    checked(org, imp)
    with pytest.raises(RuntimeError):
        services.run_import(imp=imp, fail_after_rows=8)  # dies inside chunk 3 (rows 8–10)
    imp.refresh_from_db()
    assert (imp.status, imp.chunks_done, imp.rows_done) == ("interrupted", 2, 6)
    assert Contact.objects.for_org(org).count() == 6  # chunk 3 rolled back entirely
    assert "Import arrêté après 6 lignes" in imp.message
    services.run_import(imp=imp)
    imp.refresh_from_db()
    assert imp.status == Import.Status.DONE
    assert imp.counters == {"created": 10, "updated": 0, "unchanged": 1, "skipped": 0, "errors": 0}
    assert sorted(Contact.objects.for_org(org).values_list("email", flat=True)) == sorted(
        f"p{i}@example.org" for i in range(1, 11)
    )
    assert ImportRow.objects.filter(import_run=imp).count() == 11
    assert ExternalId.objects.for_org(org).count() == 10


@pytest.mark.django_db
def test_an_interrupted_run_can_be_rolled_back(org, actor):
    imp = upload(org, actor, _numbered(10))
    Import.objects.filter(pk=imp.pk).update(chunk_size=3)
    imp.refresh_from_db()
    checked(org, imp)
    with pytest.raises(RuntimeError):
        services.run_import(imp=imp, fail_after_rows=5)
    imp.refresh_from_db()
    services.undo_import(organization=org, actor=actor, imp=imp)
    assert Contact.objects.for_org(org).count() == 0
    assert ExternalId.objects.for_org(org).count() == 0


@pytest.mark.django_db
def test_a_silent_run_is_marked_interrupted(org, actor):
    imp = checked(org, upload(org, actor, CONTACTS_CSV))
    Import.objects.filter(pk=imp.pk).update(
        status="running", heartbeat_at=timezone.now() - dt.timedelta(minutes=16)
    )
    assert services.mark_stalled(organization=org) == 1
    imp.refresh_from_db()
    assert imp.status == Import.Status.INTERRUPTED
    assert "reprenez-le ou annulez-le" in imp.message


@pytest.mark.django_db
def test_a_silent_check_goes_back_to_uploaded_and_a_check_beats(org, actor):
    imp = upload(org, actor, CONTACTS_CSV)
    Import.objects.filter(pk=imp.pk).update(
        status="checking", heartbeat_at=timezone.now() - dt.timedelta(minutes=16)
    )
    assert services.mark_stalled(organization=org) == 0  # no run was interrupted
    imp.refresh_from_db()
    assert imp.status == Import.Status.UPLOADED
    services.check_import(imp=imp)
    imp.refresh_from_db()
    assert timezone.now() - imp.heartbeat_at < dt.timedelta(minutes=1)


@pytest.mark.django_db
def test_check_and_run_as_tasks_record_progress_on_their_job(
    org, actor, django_capture_on_commit_callbacks
):
    imp = upload(org, actor, CONTACTS_CSV)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.start_check(organization=org, actor=actor, imp=imp)
    job.refresh_from_db()
    imp.refresh_from_db()
    assert (job.status, imp.status) == (Job.Status.SUCCEEDED, Import.Status.CHECKED)
    assert job.result["message"] == "2 à créer, 0 à mettre à jour, 0 inchangé, 0 en erreur"
    with django_capture_on_commit_callbacks(execute=True):
        job = services.start_run(organization=org, actor=actor, imp=imp)
    job.refresh_from_db()
    imp.refresh_from_db()
    assert (job.status, job.progress_done, job.progress_total) == (Job.Status.SUCCEEDED, 2, 2)
    assert imp.status == Import.Status.DONE
    assert imp.created_by == actor.user


# Rejected rows -------------------------------------------------------------------------


@pytest.mark.django_db
def test_rejected_rows_file_keeps_the_format_and_reimports_once_corrected(org, actor):
    text = CONTACTS_CSV + "Zoé;Bad;zoe@;Nice;Bénévole\n"
    imp = run(org, actor, text.encode("cp1252"), options={"skip_errors": True})
    rejected = services.rejected_rows_file(imp)
    assert rejected.name == "fichier-rejets.csv"
    decoded = rejected.content.decode("latin-1")
    assert decoded == (
        "Prénom;Nom;Email;Ville;Étiquettes;Erreur\r\n"
        "Zoé;Bad;zoe@;Nice;Bénévole;ligne 4, colonne « Email » : « zoe@ » n'est pas une "
        "adresse email valide.\r\n"
    )
    fixed = decoded.replace("zoe@;", "zoe@example.org;").encode("latin-1")
    again = run(org, actor, fixed, name=rejected.name)
    assert again.source == imp.source == "import:fichier.csv"
    assert again.counters["created"] == 1
    assert Contact.objects.for_org(org).filter(email="zoe@example.org", city="Nice").exists()


@pytest.mark.django_db
def test_rejected_rows_of_a_spreadsheet_are_a_spreadsheet(org, actor):
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer)
    sheet = book.add_worksheet("Adhérents")
    for r, row in enumerate([["Nom", "Email"], ["Roy", "roy@"], ["Durand", "d@example.org"]]):
        sheet.write_row(r, 0, row)
    book.close()
    imp = run(org, actor, buffer.getvalue(), name="adherents.xlsx", options={"skip_errors": True})
    rejected = services.rejected_rows_file(imp)
    assert rejected.name == "adherents-rejets.xlsx"
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_filelike(io.BytesIO(rejected.content)).get_sheet_by_index(0)
    assert rows.to_python()[1][:2] == ["Roy", "roy@"]


# Templates and retention ------------------------------------------------------------------


@pytest.mark.django_db
def test_a_saved_template_is_applied_to_a_file_with_the_same_headers(org, actor):
    imp = upload(org, actor, CONTACTS_CSV)
    template = services.save_template(
        organization=org, actor=actor, name="Adhérents", target="contacts",
        headers=imp.headers, mapping={"0": "first_name", "1": "last_name", "2": "email"},
        options={"update_policy": "overwrite"},
    )  # fmt: skip
    again = upload(org, actor, CONTACTS_CSV.replace("Étiquettes", "ÉTIQUETTES"))
    assert again.template == template
    assert again.mapping == {"0": "first_name", "1": "last_name", "2": "email"}
    assert again.options["update_policy"] == "overwrite"
    assert again.source == "import:Adhérents"
    assert list(services.matching_templates(organization=org, target="contacts",
                                            headers=imp.headers)) == [template]  # fmt: skip
    with pytest.raises(ValidationError):
        services.save_template(organization=org, actor=actor, name="adhérents",
                               target="contacts", headers=[], mapping={})  # fmt: skip
    assert MappingTemplate.objects.for_org(org).count() == 1


@pytest.mark.django_db
def test_files_are_deleted_after_the_retention_period(org, actor, settings):
    settings.LIEN_IMPORT_RETENTION_DAYS = 30
    imp = run(org, actor, CONTACTS_CSV)
    name = imp.file_name
    assert services.purge_old_files(now=timezone.now() + dt.timedelta(days=29)) == 0
    assert services.purge_old_files(now=timezone.now() + dt.timedelta(days=31)) == 1
    imp.refresh_from_db()
    assert (imp.file_name, default_storage.exists(name)) == ("", False)
    assert imp.file_deleted_at is not None
    with pytest.raises(ValidationError, match="supprimé après 30 jours"):
        services.preview(imp)


@pytest.mark.django_db
def test_the_nightly_purge_is_scheduled():
    from lien.core.scheduler import NIGHTLY

    assert "lien.imports.tasks.purge_import_files" in NIGHTLY


# Round trip ------------------------------------------------------------------------------

NAME = (
    st.text(
        alphabet=st.characters(whitelist_categories=("Lu", "Ll"), whitelist_characters="-' éèçàÉ"),
        min_size=1,
        max_size=20,
    )
    .map(lambda s: " ".join(s.split()))
    .filter(lambda s: s and not s.startswith(("-", "'")))
)


@pytest.mark.django_db
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(NAME, NAME, st.sampled_from(["Lyon", "Saint-Étienne", "Paris 11e", ""])),
        min_size=1,
        max_size=8,
        unique_by=lambda r: (r[0].casefold(), r[1].casefold()),
    )
)
def test_exported_rows_import_back_to_the_same_data(org, actor, rows):
    Contact.objects.for_org(org).delete()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["Prénom", "Nom", "Email", "Ville"])
    for n, (first, last, city) in enumerate(rows):
        writer.writerow([first, last, f"personne{n}@example.org", city])
    imp = run(org, actor, "\ufeff" + buffer.getvalue(), name="export.csv")
    assert imp.counters["errors"] == 0, list(services.error_rows(imp).values_list("errors"))
    expected = sorted(
        (first, last, f"personne{n}@example.org", city)
        for n, (first, last, city) in enumerate(rows)
    )
    assert people(org) == expected


@given(
    digits=st.text(alphabet="0123456789", min_size=10, max_size=10),
    separator=st.sampled_from(["", " ", ".", "-"]),
)
def test_the_fast_french_phone_path_agrees_with_normalize_phone(digits, separator):
    from lien.contacts.normalize import normalize_phone
    from lien.imports.rows import french_e164

    text = separator.join(digits[i : i + 2] for i in range(0, 10, 2))
    fast = french_e164(text, "FR")
    if fast:
        assert fast == normalize_phone(text, "FR")
    assert french_e164(text, "BE") == ""


@pytest.mark.django_db
def test_imported_and_undone_rows_keep_the_search_aggregates_exact(org, actor):
    from tests.test_contact_stats import (
        expected_payment_years,
        expected_stats,
        expected_years,
        stored_payment_years,
        stored_stats,
        stored_years,
    )

    def exact() -> bool:
        return (
            stored_stats(org) == expected_stats(org)
            and stored_years(org) == expected_years(org)
            and stored_payment_years(org) == expected_payment_years(org)
        )

    jean = contacts.create_contact(
        organization=org, actor=actor, data={"last_name": "Dupont", "email": "jean@example.org"}
    )
    talks = run(org, actor, INTERACTIONS_CSV, target="interactions", name="echanges.csv")
    assert Contact.objects.get(pk=jean.pk).stat_interactions == 1 and exact()
    gifts = run(org, actor, PAYMENTS_CSV, target="payments", name="dons.csv",
                transforms={"create_missing_choices": True})  # fmt: skip
    assert Contact.objects.get(pk=jean.pk).stat_paid_cents == 123450 and exact()
    services.undo_import(organization=org, actor=actor, imp=gifts)
    assert Contact.objects.get(pk=jean.pk).stat_paid_cents == 0 and exact()
    services.undo_import(organization=org, actor=actor, imp=talks)
    assert Contact.objects.get(pk=jean.pk).stat_interactions == 0 and exact()


@pytest.mark.django_db
def test_a_search_finds_what_an_import_created_or_updated(org, actor):
    from lien.search.criteria import CONTACTS as CONTACTS_REGISTRY
    from lien.search.tree import context, describe_tree, search

    jean = contacts.create_contact(
        organization=org, actor=actor,
        data={"first_name": "Jean", "last_name": "Dupont", "email": "jean.dupont@example.org"},
    )  # fmt: skip
    stranger = contacts.create_contact(organization=org, actor=actor, data={"last_name": "Zed"})
    imp = run(org, actor, CONTACTS_CSV, options={"update_policy": "overwrite"})
    tree = {"field": "import", "op": "in", "value": [imp.pk]}

    found = set(search(org, tree).values_list("pk", flat=True))
    others = set(search(org, {**tree, "op": "not_in"}).values_list("pk", flat=True))

    written = set(
        ImportRow.objects.filter(
            import_run=imp, is_check=False, outcome__in=["created", "updated"]
        ).values_list("object_id", flat=True)
    )
    assert jean.pk in found and found == written
    assert stranger.pk in others and not others & found
    assert describe_tree(tree, CONTACTS_REGISTRY, context(org)) == (
        f"créé ou mis à jour par l'import n°{imp.pk}"
    )


# The check's plans, reused by the run (lien/imports/plans.py) ----------------------------


def _chunked(org, actor, text: str, size: int = 2, **config):
    imp = upload(org, actor, text)
    Import.objects.filter(pk=imp.pk).update(chunk_size=size)
    imp.refresh_from_db()
    return checked(org, imp, **config)


@pytest.mark.django_db
def test_the_run_writes_the_checks_plans_and_matches_again_people_of_earlier_chunks(org, actor):
    contacts.create_contact(organization=org, actor=actor, data={"first_name": "Anne",
                            "last_name": "Roy", "email": "anne@example.org"})  # fmt: skip
    # Long before the check (a change in the minute before it makes the run plan again).
    Contact.objects.for_org(org).update(updated_at=timezone.now() - dt.timedelta(minutes=5))
    text = (
        "Prénom;Nom;Email;Ville\n"
        "Anne;Roy;anne@example.org;Lyon\n"  # chunk 1: known, filled
        "Jean;Dupont;jean@example.org;\n"  # chunk 1: new
        ";Dupont;JEAN@example.org;Nice\n"  # chunk 2: Jean again, planned by the run
        "Zoé;Petit;zoe@example.org;Brest\n"  # chunk 2: new
        "Jean;Dupont;jean@example.org;Paris\n"  # chunk 3: Jean again (Nice stays)
    )
    imp = _chunked(org, actor, text)
    assert imp.check_summary["create"] == 2  # Jean's later rows: counted unchanged
    assert plans.path_of(imp).exists()
    outcome = services.run_import(imp=imp, user=actor.user)
    assert outcome["plans"] == "check"
    assert not plans.path_of(imp).exists()  # spent
    assert people(org) == [
        ("Anne", "Roy", "anne@example.org", "Lyon"),
        ("Jean", "Dupont", "jean@example.org", "Nice"),
        ("Zoé", "Petit", "zoe@example.org", "Brest"),
    ]
    assert (outcome["created"], outcome["updated"], outcome["unchanged"]) == (2, 2, 1)
    # Undo knows what the reused plans wrote, as it knows any run.
    imp.refresh_from_db()
    services.undo_import(organization=org, actor=actor, imp=imp)
    assert people(org) == [("Anne", "Roy", "anne@example.org", "")]


@pytest.mark.django_db
def test_a_contact_changed_after_the_check_makes_the_run_plan_again(org, actor):
    """Fill-empty-only must not overwrite what someone filled in the meantime, nor create
    a second contact for an email given to someone since."""
    anne = contacts.create_contact(organization=org, actor=actor, data={"first_name": "Anne",
                                   "last_name": "Roy", "email": "anne@example.org"})  # fmt: skip
    Contact.objects.for_org(org).update(updated_at=timezone.now() - dt.timedelta(minutes=5))
    text = (
        "Prénom;Nom;Email;Ville\n"
        "Anne;Roy;anne@example.org;Lyon\n"
        "Jean;Dupont;jean@example.org;Paris\n"
        "Zoé;Petit;zoe@example.org;Brest\n"
    )
    imp = _chunked(org, actor, text)
    contacts.update_contact(organization=org, actor=actor, contact=anne,
                            data={"city": "Grenoble"})  # fmt: skip
    contacts.create_contact(organization=org, actor=actor,
                            data={"first_name": "Zoé", "email": "zoe@example.org"})  # fmt: skip
    outcome = services.run_import(imp=imp, user=actor.user)
    assert outcome["plans"] == "again"
    assert people(org) == [
        ("Anne", "Roy", "anne@example.org", "Grenoble"),
        ("Jean", "Dupont", "jean@example.org", "Paris"),
        ("Zoé", "Petit", "zoe@example.org", "Brest"),
    ]


@pytest.mark.django_db
def test_changed_settings_or_a_missing_plans_file_plan_again(org, actor, diet):
    text = "Prénom;Nom;Email;Régime\nAnne;Roy;anne@example.org;Végétarien\n"
    imp = _chunked(org, actor, text)
    diet.required = True
    diet.save(update_fields=["required"])
    assert services.run_import(imp=imp, user=actor.user)["plans"] == "again"
    other = _chunked(org, actor, text.replace("anne", "bea").replace("Anne", "Béa"))
    plans.discard(other)
    assert services.run_import(imp=other, user=actor.user)["plans"] == "again"
    assert Contact.objects.for_org(org).count() == 2


@pytest.mark.django_db
def test_plans_that_cannot_be_saved_leave_a_good_check_and_a_run_that_plans_again(
    org, actor, monkeypatch
):
    def full_disk(self, obj):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(plans._Pickler, "dump", full_disk)
    imp = _chunked(org, actor, "Prénom;Nom\nAnne;Roy\nJean;Dupont\nZoé;Petit\n")

    assert imp.check_summary["create"] == 3
    assert not plans.path_of(imp).exists()
    assert not plans.path_of(imp).with_suffix(".partial").exists()
    assert services.run_import(imp=imp, user=actor.user)["plans"] == "again"
    assert Contact.objects.for_org(org).count() == 3


@pytest.mark.django_db
def test_a_new_check_or_a_new_mapping_replaces_the_plans(org, actor):
    imp = _chunked(org, actor, "Prénom;Nom;Ville\nAnne;Roy;Lyon\n")
    first = plans.path_of(imp).stat().st_mtime_ns
    services.configure_import(organization=org, imp=imp, mapping={"0": "first_name",
                                                                  "1": "last_name"})  # fmt: skip
    assert not plans.path_of(imp).exists()
    imp = checked(org, imp)
    assert plans.path_of(imp).stat().st_mtime_ns >= first
    assert services.run_import(imp=imp, user=actor.user)["plans"] == "check"
    assert people(org) == [("Anne", "Roy", "", "")]


@pytest.mark.django_db
def test_a_created_contact_takes_the_files_country_and_language_over_the_defaults(org, actor):
    run(org, actor, "Prénom;Nom;Pays;Langue\nLuc;Peeters;Belgique;nl\n")
    luc = Contact.objects.for_org(org).get()
    assert (luc.country, luc.preferred_language) == ("BE", "nl")


@pytest.mark.django_db
def test_a_known_contact_met_again_in_a_later_chunk_is_planned_again_by_the_run(org, actor):
    contacts.create_contact(organization=org, actor=actor, data={"first_name": "Anne",
                            "last_name": "Roy", "email": "anne@example.org"})  # fmt: skip
    Contact.objects.for_org(org).update(updated_at=timezone.now() - dt.timedelta(minutes=5))
    text = (
        "Prénom;Nom;Email;Ville;Étiquettes\n"
        "Anne;Roy;anne@example.org;Lyon;Bénévole\n"
        "Jean;Dupont;jean@example.org;;\n"
        "Anne;Roy;anne@example.org;Nice;Bénévole\n"  # chunk 2: Lyon stays, one label
    )
    imp = _chunked(org, actor, text)
    outcome = services.run_import(imp=imp, user=actor.user)
    assert outcome["plans"] == "check"
    anne = Contact.objects.for_org(org).get(email="anne@example.org")
    assert anne.city == "Lyon"
    assert list(ContactLabel.objects.for_org(org).filter(contact=anne).values_list(
        "label__name", flat=True)) == ["Bénévole"]  # fmt: skip


@pytest.mark.django_db
def test_reading_beside_and_in_one_process_give_the_same_check_and_run(org, actor, settings):
    """The second process reads the cells exactly as this one does: same counts, same
    error rows, same contacts written; and its user errors come back as they are."""
    text = CONTACTS_CSV + (
        "Zoé;Petit;zoe@;Brest;Presse\n"  # an error cell
        "Jean;Dupont;JEAN.DUPONT@example.org;;Élu\n"  # Jean again
        + "".join(f"P{n};Nom{n};p{n}@example.org;Nantes;\n" for n in range(40))
    )

    def outcome(threshold):
        settings.LIEN_IMPORT_READ_BESIDE_BYTES = threshold
        imp = checked(org, upload(org, actor, text), options={"skip_errors": True})
        Import.objects.filter(pk=imp.pk).update(chunk_size=7)
        imp = checked(org, Import.objects.get(pk=imp.pk))
        errors = list(
            ImportRow.objects.filter(import_run=imp, is_check=True).values_list(
                "row_number", "errors", "cells"
            )
        )
        run = services.run_import(imp=imp, user=actor.user)
        written = (people(org), domain_counts(org))
        imp.refresh_from_db()
        services.undo_import(organization=org, actor=actor, imp=imp)
        return imp.check_summary, errors, {k: run[k] for k in ("created", "updated")}, written

    beside, alone = outcome(0), outcome(None)
    assert beside[0]["create"] == 42 and beside[0]["error"] == 1
    assert beside[:3] == alone[:3]
    assert beside[3][0] == alone[3][0]

    settings.LIEN_IMPORT_READ_BESIDE_BYTES = 0
    imp = upload(org, actor, text)
    default_storage.delete(imp.file_name)
    imp.file_name = ""  # purged after its retention period
    with pytest.raises(ValidationError, match="a été supprimé après"):
        services.check_import(imp=imp)


# A contacts file's structures ----------------------------------------------------------

STRUCTURES_CSV = (
    "Prénom;Nom;Email;Société;Fonction\n"
    "Jean;Dupont;jean@example.org;mairie de LYON;Élu\n"  # chunk 1: known contact and structure
    "Ana;Roy;ana@example.org;Les Jardins Partagés;Présidente\n"  # chunk 1: both new
    "Zoé;Petit;zoe@example.org;les jardins partagés;\n"  # chunk 2: the same new structure
    "Jean;Dupont;jean@example.org;Mairie de Lyon;Élu\n"  # chunk 2: the same link again
)


def _links(org):
    from lien.contacts.models import ContactStructureLink

    return sorted(
        ContactStructureLink.objects.for_org(org).values_list(
            "contact__first_name", "structure__name", "role", "is_main"
        )
    )


@pytest.mark.django_db
def test_a_contacts_file_links_each_contact_to_its_structure_found_or_created_once(org, actor):
    mairie = contacts.create_structure(organization=org, actor=actor,
                                       data={"name": "Mairie de Lyon"})  # fmt: skip
    asso = contacts.create_structure(organization=org, actor=actor,
                                     data={"name": "Asso du quartier"})  # fmt: skip
    jean = contacts.create_contact(organization=org, actor=actor, data={"first_name": "Jean",
                                   "last_name": "Dupont", "email": "jean@example.org"})  # fmt: skip
    contacts.save_structure_link(organization=org, actor=actor, contact=jean, structure=asso,
                                 role="Trésorier", is_main=True)  # fmt: skip
    Contact.objects.for_org(org).update(updated_at=timezone.now() - dt.timedelta(minutes=5))
    Structure.objects.for_org(org).update(updated_at=timezone.now() - dt.timedelta(minutes=5))
    imp = upload(org, actor, STRUCTURES_CSV)
    assert list(imp.mapping.values())[3:] == ["structure", "structure_role"]  # suggested
    Import.objects.filter(pk=imp.pk).update(chunk_size=2)
    imp.refresh_from_db()
    imp = checked(org, imp)
    # Jean's link is news: an update; Jean again in chunk 2 is planned by the run.
    assert (imp.check_summary["create"], imp.check_summary["update"]) == (2, 1)
    assert Structure.objects.for_org(org).count() == 2  # the check writes nothing
    outcome = services.run_import(imp=imp, user=actor.user)
    assert outcome["plans"] == "check"  # the saved plans, across chunks
    assert (outcome["created"], outcome["updated"], outcome["unchanged"]) == (2, 1, 1)
    assert sorted(Structure.objects.for_org(org).values_list("name", flat=True)) == [
        "Asso du quartier", "Les Jardins Partagés", "Mairie de Lyon",
    ]  # fmt: skip
    assert _links(org) == [
        ("Ana", "Les Jardins Partagés", "Présidente", True),
        ("Jean", "Asso du quartier", "Trésorier", True),  # his main structure stays
        ("Jean", "Mairie de Lyon", "Élu", False),
        ("Zoé", "Les Jardins Partagés", "", True),
    ]
    assert mairie.contact_links.count() == 1
    history = AuditEvent.objects.for_org(org).filter(
        target_id=jean.pk, actor_label=f"Import n°{imp.pk}"
    )
    assert history.get().changes["structure"] == [None, "Mairie de Lyon (Élu)"]
    # The same file again: no second structure, no second link.
    again = run(org, actor, STRUCTURES_CSV)
    assert (again.counters["created"], again.counters["updated"]) == (0, 0)
    assert Structure.objects.for_org(org).count() == 3
    assert len(_links(org)) == 4
    # Undo: the links it added and the structure it created go; the rest stays.
    services.undo_import(organization=org, actor=actor, imp=again)
    services.undo_import(organization=org, actor=actor, imp=imp)
    assert sorted(Structure.objects.for_org(org).values_list("name", flat=True)) == [
        "Asso du quartier", "Mairie de Lyon",
    ]  # fmt: skip
    assert _links(org) == [("Jean", "Asso du quartier", "Trésorier", True)]
    [unlinked] = AuditEvent.objects.for_org(org).filter(
        target_id=jean.pk, actor_label=f"Annulation de l'import n°{imp.pk}"
    )
    assert (unlinked.target_repr, unlinked.changes) == (
        "Jean Dupont", {"structure": ["Mairie de Lyon", None]}
    )


@pytest.mark.django_db
def test_a_structure_name_shared_by_two_structures_is_reported_not_guessed(org, actor):
    one = contacts.create_structure(organization=org, actor=actor, data={"name": "ACME"})
    two = contacts.create_structure(organization=org, actor=actor, data={"name": "Acme"})
    text = "Nom;Email;Entreprise\nRoy;roy@example.org;acme\nDurand;durand@example.org;\n"
    imp = checked(org, upload(org, actor, text))
    [error] = services.error_rows(imp)
    assert [services.error_text(error.row_number, e) for e in error.errors] == [
        f"ligne 2, colonne « Entreprise » : Plusieurs structures portent ce nom (n°{one.pk}, "
        f"n°{two.pk}) : renommez-les ou liez ce contact à la main."
    ]
    assert imp.check_summary["create"] == 1


@pytest.mark.django_db
def test_undo_is_refused_when_someone_linked_a_contact_to_a_structure_it_created(org, actor):
    imp = run(org, actor, "Nom;Email;Structure\nRoy;roy@example.org;Les Amis\n")
    created = Structure.objects.for_org(org).get(name="Les Amis")
    other = contacts.create_contact(organization=org, actor=actor, data={"last_name": "Durand"})
    contacts.save_structure_link(organization=org, actor=actor, contact=other, structure=created)
    assert services.undo_blockers(organization=org, imp=imp) == [
        f"La structure « Les Amis » (n°{created.pk}) a été liée depuis au contact n°{other.pk}."
    ]
    with pytest.raises(ValidationError, match="ces fiches ont changé depuis"):
        services.undo_import(organization=org, actor=actor, imp=imp)
    assert Structure.objects.for_org(org).filter(pk=created.pk).exists()


@pytest.mark.django_db
def test_a_structure_created_after_the_check_is_linked_not_created_twice(org, actor):
    imp = _chunked(org, actor, "Nom;Email;Structure\nRoy;roy@example.org;Les Amis\n")
    assert Structure.objects.for_org(org).count() == 0
    made = contacts.create_structure(organization=org, actor=actor, data={"name": "Les amis"})
    outcome = services.run_import(imp=imp, user=actor.user)
    assert outcome["plans"] == "again"
    assert list(Structure.objects.for_org(org).values_list("pk", flat=True)) == [made.pk]
    assert _links(org) == [("", "Les amis", "", True)]


@pytest.mark.django_db
def test_the_look_at_changed_contacts_skips_exactly_the_runs_own_stamps(org, actor):
    """`_contacts_changed`: a contact stamped at `start` or between the run's stamps is a
    change by someone else; one stamped at a stamp, or before `start`, is not."""
    jean = contacts.create_contact(organization=org, actor=actor, data={"last_name": "Jean"})
    start = timezone.now() - dt.timedelta(minutes=10)
    stamps = [start + dt.timedelta(minutes=m) for m in (1, 2, 3)] + [
        start + dt.timedelta(minutes=3, microseconds=1)
    ]
    cases = [
        (start - dt.timedelta(microseconds=1), False),
        (start, True),
        (stamps[0], False),
        (stamps[0] + dt.timedelta(microseconds=1), True),
        (stamps[2], False),
        (stamps[3], False),
        (stamps[2] + dt.timedelta(seconds=30), True),
    ]
    for stamped, changed in cases:
        Contact.objects.filter(pk=jean.pk).update(updated_at=stamped)
        assert plans._contacts_changed(org.pk, start, stamps) is changed, stamped
        assert plans._contacts_changed(org.pk, start, []) is (stamped >= start), stamped
