"""Exports (issue 7): cells, columns, French formatting, files, rights, jobs and the archive."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from lien.contacts import services as contacts
from lien.contacts.models import Contact, CustomField, Label
from lien.core.audit import Actor
from lien.core.models import Job, Profile
from lien.core.services import save_profile
from lien.exports import cells, services, sources
from lien.exports.cells import DANGEROUS, Money, as_text, neutralise, unneutralise
from lien.exports.tables import TABLES, available_columns, chosen_columns
from lien.payments import services as payments
from tests.conftest import add_member, client_for

ACTOR = Actor.system()


@pytest.fixture(autouse=True)
def _files(settings, tmp_path):
    """Export files of the tests go to a temporary folder, not the project's media."""
    settings.MEDIA_ROOT = str(tmp_path)


def read_csv(content: bytes, delimiter: str = ";") -> list[list[str]]:
    text = content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def export_form(columns: list[str], **extra) -> dict:
    return {"exporter": "1", "fmt": "csv", "flavour": "fr", "columns": columns, **extra}


# Cells ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+33 6 12 34 56 78", "'+33 6 12 34 56 78"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcaché", "'\tcaché"),
        ("\rretour", "'\rretour"),
        ("'=déjà", "''=déjà"),
        ("Dupont", "Dupont"),
        ("l'été", "l'été"),
        ("'texte", "'texte"),
        ("", ""),
    ],
)
def test_a_text_that_a_spreadsheet_would_run_gets_an_apostrophe(text, written):
    assert neutralise(text) == written
    assert unneutralise(written) == text


@given(st.text())
def test_any_text_round_trips_except_the_neutralised_prefix(text):
    written = neutralise(text)
    assert written == text or (written == "'" + text and text.lstrip("'")[:1] in DANGEROUS)
    assert written[:1] not in DANGEROUS
    assert unneutralise(written) == text


def test_numbers_stay_numbers_and_values_read_the_french_way():
    assert as_text(-5) == "-5"
    assert as_text(Money.from_cents(-1250)) == "-12,50"
    assert as_text(Money.from_cents(123456)) == "1234,56"
    assert as_text(Money.from_cents(123456), decimal_comma=False) == "1234.56"
    assert as_text(2.5) == "2,5"
    assert as_text(Decimal("10.00")) == "10"
    assert as_text(1e20) == "100000000000000000000"
    assert as_text(dt.date(2026, 3, 12)) == "12/03/2026"
    moment = timezone.make_aware(dt.datetime(2026, 7, 1, 14, 30))
    assert as_text(moment) == "01/07/2026 14:30"
    assert as_text(moment.astimezone(dt.UTC)) == "01/07/2026 14:30"  # shown in Paris time
    assert as_text(True) == "Oui"
    assert as_text(False) == "Non"
    assert as_text(["Végétarien", "Sans gluten"]) == "Végétarien, Sans gluten"
    assert as_text(["=A1", "b"]) == "'=A1, b"
    assert as_text(None) == ""


# Columns -------------------------------------------------------------------------------


@pytest.fixture
def people(org):
    return make_people(org)


def make_people(org):
    """Two contacts with every kind of column: labels, structure, household, custom fields."""
    donor = contacts.save_label(organization=org, actor=ACTOR, name="Donateur", color="#b5651d")
    volunteer = contacts.save_label(organization=org, actor=ACTOR, name="Bénévole", color="#2f6f5e")
    since = contacts.save_custom_field(
        organization=org, actor=ACTOR, target="contact", name="Membre depuis", field_type="date"
    )
    newsletter = contacts.save_custom_field(
        organization=org, actor=ACTOR, target="contact", name="Lettre", field_type="boolean"
    )
    diet = contacts.save_custom_field(
        organization=org,
        actor=ACTOR,
        target="contact",
        name="Régime",
        field_type="multiple_choice",
        choices=["Végétarien", "Sans gluten"],
    )
    health = contacts.save_custom_field(
        organization=org,
        actor=ACTOR,
        target="contact",
        name="Santé",
        field_type="text",
        sensitive=True,
    )
    helene = contacts.create_contact(
        organization=org,
        actor=ACTOR,
        data={
            "civility": "Mme",
            "first_name": "Hélène",
            "last_name": "Lefèvre",
            "email": "helene@example.org",
            "mobile": "+33 6 12 34 56 78",
            "city": "Lyon",
            "birth_date": "1970-05-04",
            "email_consent": True,
        },
        custom={
            since.key: "2019-09-01",
            newsletter.key: True,
            diet.key: ["Végétarien", "Sans gluten"],
            health.key: "Asthme",
        },
        labels=[volunteer, donor],
    )
    paul = contacts.create_contact(
        organization=org,
        actor=ACTOR,
        data={"first_name": "Paul", "last_name": '=HYPERLINK("http://x")', "city": "Paris"},
        custom={newsletter.key: False},
    )
    mairie = contacts.create_structure(organization=org, actor=ACTOR, data={"name": "Mairie"})
    contacts.save_structure_link(
        organization=org, actor=ACTOR, contact=helene, structure=mairie, role="Élue", is_main=True
    )
    household = contacts.save_household(organization=org, actor=ACTOR, name="Foyer Lefèvre")
    contacts.set_household(organization=org, actor=ACTOR, contacts=[helene], household=household)
    payments.create_payment(
        organization=org,
        actor=ACTOR,
        kind="don",
        amount="1234,50",
        paid_on="2026-03-12",
        method="cheque",
        payer_contact=helene,
    )
    return {"helene": helene, "paul": paul, "fields": (since, newsletter, diet, health)}


COLUMNS = [
    "id", "first_name", "last_name", "mobile", "birth_date", "labels", "main_structure",
    "household", "email_consent", "payments_total", "last_payment",
]  # fmt: skip


def test_contacts_export_in_french_csv(admin_client, people):
    since, newsletter, diet, health = people["fields"]
    custom = [f"custom.{f.key}" for f in (since, newsletter, diet, health)]
    response = admin_client.post(reverse("export_contacts"), export_form(COLUMNS + custom))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="contacts-')
    content = body(response)
    assert content.startswith(b"\xef\xbb\xbf")
    rows = read_csv(content)
    helene, paul = people["helene"], people["paul"]
    assert rows == [
        ["N° Lien", "Prénom", "Nom", "Téléphone portable", "Date de naissance", "Étiquettes",
         "Structure principale", "Foyer", "Accepte les emails", "Total payé (€)",
         "Dernier paiement", "Membre depuis", "Lettre", "Régime", "Santé"],
        [str(helene.pk), "Hélène", "Lefèvre", "'+33 6 12 34 56 78", "04/05/1970",
         "Bénévole, Donateur, Donateur / Donatrice", "Mairie", "Foyer Lefèvre", "Oui", "1234,50",
         "12/03/2026", "01/09/2019", "Oui", "Végétarien, Sans gluten", "Asthme"],
        [str(paul.pk), "Paul", "'=HYPERLINK(\"http://x\")", "", "", "", "", "", "Non", "0,00",
         "", "", "Non", "", ""],
    ]  # fmt: skip


def test_comma_and_utf8_without_bom(admin_client, people):
    response = admin_client.post(
        reverse("export_contacts"),
        export_form(["id", "last_name", "payments_total"], flavour="intl"),
    )
    content = body(response)
    assert not content.startswith(b"\xef\xbb\xbf")
    rows = read_csv(content, delimiter=",")
    assert rows[0] == ["N° Lien", "Nom", "Total payé (€)"]
    assert rows[1] == [str(people["helene"].pk), "Lefèvre", "1234.50"]


def test_the_list_filters_travel_to_the_export(admin_client, people):
    response = admin_client.post(
        reverse("export_contacts") + "?q=lef", export_form(["id", "last_name"])
    )
    assert read_csv(body(response))[1:] == [[str(people["helene"].pk), "Lefèvre"]]


def test_xlsx_has_typed_cells_and_reads_back(admin_client, people):
    since = people["fields"][0]
    response = admin_client.post(
        reverse("export_contacts"),
        export_form(
            ["id", "last_name", "mobile", "birth_date", "email_consent", "payments_total",
             f"custom.{since.key}"],
            fmt="xlsx",
        ),
    )  # fmt: skip
    assert response["Content-Disposition"].endswith('.xlsx"')
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(body(response)))
    rows = workbook.get_sheet_by_name("Contacts").to_python()
    assert rows[0] == [
        "N° Lien", "Nom", "Téléphone portable", "Date de naissance", "Accepte les emails",
        "Total payé (€)", "Membre depuis",
    ]  # fmt: skip
    assert rows[1] == [
        float(people["helene"].pk), "Lefèvre", "'+33 6 12 34 56 78", dt.date(1970, 5, 4), "Oui",
        1234.5, dt.date(2019, 9, 1),
    ]  # fmt: skip
    assert rows[2][1] == '\'=HYPERLINK("http://x")'


def test_sensitive_fields_are_neither_offered_nor_exported_when_hidden(org, people):
    health = people["fields"][3]
    profile = save_profile(
        organization=org,
        actor=ACTOR,
        name="Accueil",
        rights={"contacts": ["view"], "exports": ["view", "add"]},
        hide_sensitive_fields=True,
    )
    member = add_member(org, "accueil@amis-du-parc.fr", "Lecteur")
    member.profile = profile
    member.save()
    keys = [
        c.key for c in available_columns(TABLES["contacts"], organization=org, membership=member)
    ]
    assert f"custom.{health.key}" not in keys
    client = client_for(member)
    page = client.get(reverse("export_contacts")).content.decode()
    assert "Santé" not in page
    response = client.post(
        reverse("export_contacts"), export_form(["id", f"custom.{health.key}", "last_name"])
    )
    rows = read_csv(body(response))
    assert rows[0] == ["N° Lien", "Nom"]
    assert "Asthme" not in rows[1] + rows[2]


def test_payment_columns_are_never_offered_when_payment_data_is_hidden(
    org, people, django_capture_on_commit_callbacks
):
    editor = add_member(org, "discret@amis-du-parc.fr", "Éditeur")
    Profile.objects.filter(pk=editor.profile_id).update(hide_payment_data=True)
    editor.refresh_from_db()
    keys = [
        c.key for c in available_columns(TABLES["contacts"], organization=org, membership=editor)
    ]
    assert "payments_total" not in keys and "membership" not in keys
    client = client_for(editor)
    response = client.post(
        reverse("export_contacts"), export_form(["id", "payments_total", "last_payment"])
    )
    assert read_csv(body(response))[0] == ["N° Lien"]
    assert client.get(reverse("export_payments", args=["don"])).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("export_all")).status_code == 302
    job = Job.objects.get(kind="export_all")
    archive = zipfile.ZipFile(default_storage.open(job.result["file"]))
    assert "paiements.csv" not in archive.namelist()
    assert "campagnes.csv" not in archive.namelist()
    assert "contacts.csv" in archive.namelist()


def test_without_the_export_right_the_pages_answer_403(reader_client, people):
    assert reader_client.get(reverse("export_contacts")).status_code == 403
    response = reader_client.post(reverse("export_contacts"), export_form(["id"]))
    assert response.status_code == 403


def test_an_unknown_payment_kind_is_a_404(admin_client):
    assert admin_client.get(reverse("export_payments", args=["troc"])).status_code == 404


def test_no_column_ticked_is_told(admin_client, people):
    response = admin_client.post(reverse("export_contacts"), {"exporter": "1", "fmt": "csv"})
    assert response.status_code == 200
    assert "Choisissez au moins une colonne." in response.content.decode()


def test_the_page_offers_grouped_columns_with_defaults(admin_client, people):
    page = admin_client.get(reverse("export_contacts")).content.decode()
    assert "Exporter : Contacts" in page
    assert "3 lignes" not in page and "2 lignes : le fichier se télécharge tout de suite." in page
    assert '<h2 class="export-group-title">Paiements</h2>' in page
    assert 'value="first_name" checked' in page
    assert 'value="notes">' in page  # offered, not ticked


# The other tables ----------------------------------------------------------------------


def test_structures_interactions_and_payments_tables(admin_client, org, people):
    from lien.interactions import services as interactions

    interactions.record_interaction(
        organization=org,
        actor=ACTOR,
        contact=people["helene"],
        occurred_at="2026-03-12T14:30",
        type="Appel téléphonique",
        description="-appel",
        create_missing=True,
    )
    rows = read_csv(
        body(admin_client.post(reverse("export_structures"), export_form(["name", "kind"])))
    )
    assert rows == [["Nom", "Type"], ["Mairie", "Autre"]]
    rows = read_csv(
        body(
            admin_client.post(
                reverse("export_interactions"),
                export_form(["occurred_at", "type", "description", "contact"]),
            )
        )
    )
    assert rows == [
        ["Date", "Type", "Description", "Contact"],
        # The donation's own interaction first (recorded before), then the call.
        ["12/03/2026 12:00", "Paiement", "Don de 1\u202f234,50\xa0€", "Hélène Lefèvre"],
        ["12/03/2026 14:30", "Appel téléphonique", "'-appel", "Hélène Lefèvre"],
    ]
    rows = read_csv(
        body(
            admin_client.post(
                reverse("export_payments", args=["don"]) + "?date_from=2026-01-01",
                export_form(["paid_on", "kind", "amount", "method", "payer"]),
            )
        )
    )
    assert rows == [
        ["Date", "Type", "Montant", "Moyen de paiement", "Payeur"],
        ["12/03/2026", "Don", "1234,50", "Chèque", "Hélène Lefèvre"],
    ]
    # Another kind's table has none of them.
    response = admin_client.post(
        reverse("export_payments", args=["adhesion"]), export_form(["amount"])
    )
    assert read_csv(body(response)) == [["Montant"]]


def test_a_wrong_payment_filter_is_said_not_exported(admin_client, people):
    response = admin_client.get(reverse("export_payments", args=["don"]) + "?date_from=hier")
    assert response.status_code == 200
    assert "« hier » n&#x27;est pas une date (JJ/MM/AAAA)." in response.content.decode()
    assert 'id="export-form"' not in response.content.decode()


def test_search_segment_and_group_exports(admin_client, org, people):
    from lien.search import services as segment_services

    helene, paul = people["helene"], people["paul"]
    tree = {"group": "all", "children": [{"field": "city", "op": "equals", "value": "Paris"}]}
    import json

    response = admin_client.post(
        reverse("export_search"),
        export_form(["id"], table="contacts", arbre=json.dumps(tree)),
    )
    assert read_csv(body(response))[1:] == [[str(paul.pk)]]
    # The ticked rows of the results only.
    response = admin_client.post(
        reverse("export_search"),
        export_form(["id"], table="contacts", arbre="", ids=[str(helene.pk)]),
    )
    assert read_csv(body(response))[1:] == [[str(helene.pk)]]
    # From the bulk bar (no « exporter » mark): the form, with the selection kept.
    page = admin_client.post(
        reverse("export_search"), {"arbre": json.dumps(tree), "ids": [str(paul.pk)]}
    ).content.decode()
    assert f'name="ids" value="{paul.pk}"' in page and "1 ligne" in page
    segment = segment_services.save_segment(
        organization=org, actor=ACTOR, name="Lyonnais",
        tree={"group": "all", "children": [{"field": "city", "op": "equals", "value": "Lyon"}]},
    )  # fmt: skip
    response = admin_client.post(reverse("export_segment", args=[segment.pk]), export_form(["id"]))
    assert read_csv(body(response))[1:] == [[str(helene.pk)]]
    group = contacts.save_group(organization=org, actor=ACTOR, name="CA")
    contacts.add_to_group(organization=org, actor=ACTOR, group=group, contact_ids=[paul.pk])
    response = admin_client.post(reverse("export_group", args=[group.pk]), export_form(["id"]))
    assert read_csv(body(response))[1:] == [[str(paul.pk)]]


def test_search_export_of_payments_needs_the_payment_right(org, people):
    editor = add_member(org, "discret@amis-du-parc.fr", "Éditeur")
    Profile.objects.filter(pk=editor.profile_id).update(hide_payment_data=True)
    response = client_for(editor).get(reverse("export_search") + "?table=payments")
    assert response.status_code == 403


# Set-based reading ---------------------------------------------------------------------


def test_queries_per_chunk_not_per_row(org, people, monkeypatch, django_assert_num_queries):
    Contact.objects.bulk_create(
        [Contact(organization=org, first_name=f"P{i}", last_name="Nom") for i in range(10)]
    )
    monkeypatch.setattr(services, "CHUNK", 4)
    columns = chosen_columns(
        TABLES["contacts"],
        ["id", "labels", "main_structure", "groups", "payments_total", "membership"],
        organization=org,
        membership=None,
    )
    selected = sources.Selection(TABLES["contacts"], TABLES["contacts"].base(org), "Contacts")
    # 12 contacts → 3 chunks; each: rows, labels, structures, groups, payment totals,
    # membership periods + settings = 7 queries; then one read finds no more rows.
    with django_assert_num_queries(3 * 7 + 1):
        rows = list(services.rows_of(organization=org, queryset=selected.queryset, columns=columns))
    assert len(rows) == 12


# Background job ------------------------------------------------------------------------


def test_a_large_export_runs_as_a_job_with_progress(
    admin_client, admin_member, people, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "DIRECT_LIMIT", 1)
    monkeypatch.setattr(services, "CHUNK", 1)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("export_contacts"), export_form(["id", "last_name"], fmt="xlsx")
        )
    job = Job.objects.get(kind="export_contacts")
    assert response["Location"] == reverse("job_progress", args=[job.pk])
    assert job.status == Job.Status.SUCCEEDED
    assert (job.progress_done, job.progress_total) == (2, 2)
    assert job.message == "2 lignes exportées."
    assert job.result["file"].startswith(f"exports/{admin_member.organization_id}/contacts-")
    progress = admin_client.get(reverse("job_progress", args=[job.pk])).content.decode()
    assert "Télécharger le fichier" in progress
    download = admin_client.get(reverse("job_file", args=[job.pk]))
    rows = CalamineWorkbook.from_filelike(io.BytesIO(body(download))).get_sheet_by_index(0)
    assert rows.to_python()[1:] == [
        [float(people["helene"].pk), "Lefèvre"],
        [float(people["paul"].pk), '\'=HYPERLINK("http://x")'],
    ]
    # The file holds what its author may see: nobody else follows it.
    other_admin = add_member(job.organization, "autre@amis-du-parc.fr", "Administrateur")
    other = client_for(other_admin)
    assert other.get(reverse("job_progress", args=[job.pk])).status_code == 404
    assert other.get(reverse("job_file", args=[job.pk])).status_code == 404


# The whole data set --------------------------------------------------------------------


def test_export_everything_as_a_zip_of_csv_files(
    admin_client, org, people, django_capture_on_commit_callbacks
):
    page = admin_client.get(reverse("export_all")).content.decode()
    assert "paiements.csv" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("export_all"))
    job = Job.objects.get(kind="export_all")
    assert response["Location"] == reverse("job_progress", args=[job.pk])
    assert job.status == Job.Status.SUCCEEDED
    archive = zipfile.ZipFile(default_storage.open(job.result["file"]))
    names = archive.namelist()
    assert names == [
        "contacts.csv", "structures.csv", "liens_contacts_structures.csv", "foyers.csv",
        "etiquettes.csv", "etiquettes_contacts.csv", "etiquettes_structures.csv",
        "champs_personnalises.csv", "groupes.csv", "membres_groupes.csv",
        "types_interaction.csv", "categories_interaction.csv", "libelles_interaction.csv",
        "interactions.csv", "campagnes.csv", "paiements.csv", "etiquettes_paiements.csv",
        "periodes_adhesion.csv", "segments.csv", "identifiants_externes.csv", "LISEZMOI.txt",
    ]  # fmt: skip
    helene = people["helene"]
    contacts_rows = read_csv(archive.read("contacts.csv"))
    header = contacts_rows[0]
    assert header[:4] == ["id", "civility", "first_name", "last_name"]
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in contacts_rows[1:]}
    assert by_id[str(helene.pk)]["first_name"] == "Hélène"
    helene.refresh_from_db()
    assert by_id[str(helene.pk)]["household_id"] == str(helene.household_id)
    health = people["fields"][3]
    assert by_id[str(helene.pk)][f"custom.{health.key}"] == "Asthme"
    links = read_csv(archive.read("liens_contacts_structures.csv"))
    assert links[1][1] == str(helene.pk) and links[1][3] == "Élue"
    paid = read_csv(archive.read("paiements.csv"))
    assert paid[0][:3] == ["id", "kind", "amount"]
    assert paid[1][1:5] == ["don", "1234,50", "EUR", "12/03/2026"]
    labels = {row[0]: row[1] for row in read_csv(archive.read("etiquettes.csv"))[1:]}
    attached = read_csv(archive.read("etiquettes_contacts.csv"))[1:]
    assert sorted(labels[row[2]] for row in attached if row[1] == str(helene.pk)) == [
        "Bénévole",
        "Donateur",
        "Donateur / Donatrice",  # the automatic label of the donation
    ]
    assert job.result["files"]["contacts.csv"] == 2
    assert "LISEZMOI" not in job.message and job.message.startswith("20 fichiers")


def test_the_archive_leaves_sensitive_fields_out_for_a_profile_that_hides_them(org, people):
    from lien.exports import archive

    health = people["fields"][3]
    member = add_member(org, "prudent@amis-du-parc.fr", "Éditeur")
    Profile.objects.filter(pk=member.profile_id).update(hide_sensitive_fields=True)
    member.refresh_from_db()
    out = io.BytesIO()
    archive.write_archive(out, organization=org, membership=member)
    files = zipfile.ZipFile(out)
    assert f"custom.{health.key}" not in read_csv(files.read("contacts.csv"))[0]
    assert "Santé" not in files.read("champs_personnalises.csv").decode("utf-8-sig")


# Round trip ----------------------------------------------------------------------------

texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=30,
)


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(texts, texts, texts, st.none() | st.dates(dt.date(1900, 1, 1)), st.booleans()),
        max_size=6,
    )
)  # fmt: skip
def test_contacts_exported_then_read_back_are_equal(org, rows):
    Contact.objects.for_org(org).delete()
    made = Contact.objects.bulk_create(
        [
            Contact(organization=org, first_name=first, last_name=last, notes=notes,
                    birth_date=born, email_consent=consent)
            for first, last, notes, born, consent in rows
        ]
    )  # fmt: skip
    columns = chosen_columns(
        TABLES["contacts"],
        ["id", "first_name", "last_name", "notes", "birth_date", "email_consent"],
        organization=org,
        membership=None,
    )
    out = io.BytesIO()
    services.write_export(
        out,
        organization=org,
        queryset=Contact.objects.for_org(org),
        columns=columns,
        options=services.FileOptions(),
    )
    header, *parsed = read_csv(out.getvalue())
    assert header == ["N° Lien", "Prénom", "Nom", "Date de naissance", "Accepte les emails",
                      "Notes"]  # fmt: skip
    back = [
        (
            unneutralise(first),
            unneutralise(last),
            unneutralise(notes),
            dt.datetime.strptime(born, "%d/%m/%Y").date() if born else None,
            consent == "Oui",
        )
        for _pk, first, last, born, consent, notes in parsed
    ]
    assert [int(row[0]) for row in parsed] == sorted(c.pk for c in made)
    assert back == [tuple(r) for r in rows]


# Export then import: the same data ---------------------------------------------------------

# Texts a spreadsheet would take for formulas, accents, apostrophes and hyphens inside.
DANGEROUS_PREFIXES = st.sampled_from(["", "", "=", "+", "-", "@", "'=", "''-", "'"])
# Words joined by one space: the import folds a run of spaces in a name into one.
WORDS = st.lists(
    st.text(alphabet="abcdeéèêàâçôöùûïîÉÈÀÇŒœ'-", min_size=1, max_size=8), min_size=1, max_size=3
).map(" ".join)
ROUND_TRIP_LABELS = ["Bénévole", "Donateur", "Élu·e", "=Spécial", "+ Fidèle"]
ROUND_TRIP_CHOICES = ["Végétarien", "Sans gluten", "=Autre", "-Aucun"]


def _text(prefix: str, body: str) -> str:
    return (prefix + body).strip()  # a text field is stored trimmed


@st.composite
def people_rows(draw):
    count = draw(st.integers(min_value=1, max_value=5))
    rows = []
    for index in range(count):
        local = draw(st.from_regex(r"[=+\-]?[a-z0-9]{1,8}(\.[a-z0-9]{1,4})?", fullmatch=True))
        last = ""
        while not last.strip("' -"):
            last = _text(draw(DANGEROUS_PREFIXES), draw(WORDS))
        rows.append(
            {
                "first_name": _text(draw(DANGEROUS_PREFIXES), draw(WORDS)),
                "last_name": last,
                # Unique: two rows with one email are one person for the import.
                "email": f"{local}.{index}@exemple.fr",
                "mobile": draw(st.none() | st.from_regex(r"0[67]( [0-9]{2}){4}", fullmatch=True)),
                "birth_date": draw(
                    st.none() | st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31))
                ),
                "email_consent": draw(st.booleans()),
                "labels": draw(st.sets(st.sampled_from(ROUND_TRIP_LABELS), max_size=3)),
                "note": _text(draw(DANGEROUS_PREFIXES), draw(WORDS)),
                "since": draw(st.none() | st.dates(dt.date(1950, 1, 1), dt.date(2026, 12, 31))),
                "newsletter": draw(st.booleans()),
                "diet": draw(st.none() | st.sampled_from(ROUND_TRIP_CHOICES)),
            }
        )
    return rows


def _round_trip_fields(org) -> dict[str, str]:
    """The same custom fields in an organisation (made once), by role: {role: key}."""
    existing = dict(
        CustomField.objects.for_org(org).filter(target="contact").values_list("name", "key")
    )
    specs = {
        "note": ("Remarque", "text", []),
        "since": ("Membre depuis", "date", []),
        "newsletter": ("Lettre d'information", "boolean", []),
        "diet": ("Régime", "choice", ROUND_TRIP_CHOICES),
    }
    return {
        role: existing.get(name) or contacts.save_custom_field(
            organization=org, actor=ACTOR, target="contact", name=name, field_type=kind,
            choices=choices,
        ).key
        for role, (name, kind, choices) in specs.items()
    }  # fmt: skip


def _as_stored(org, fields: dict[str, str]) -> dict[str, tuple]:
    """Each contact of `org` by email: the values the round trip keeps."""
    found = {}
    for contact in Contact.objects.for_org(org).prefetch_related("label_links__label"):
        custom = contact.custom or {}
        found[contact.email] = (
            contact.first_name, contact.last_name, contact.mobile, contact.birth_date,
            contact.email_consent, sorted(link.label.name for link in contact.label_links.all()),
            *(custom.get(fields[role]) for role in ("note", "since", "newsletter", "diet")),
        )  # fmt: skip
    return found


@pytest.mark.django_db
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=people_rows())
@example(
    rows=[
        {
            "first_name": "=HYPERLINK(\"http://x\")", "last_name": "-Lefèvre d'Orgeval",
            "email": "+helene.0@exemple.fr", "mobile": "06 12 34 56 78",
            "birth_date": dt.date(1904, 2, 29), "email_consent": True,
            "labels": {"=Spécial", "Élu·e", "+ Fidèle"}, "note": "@maison : « ça va » ; oui",
            "since": dt.date(2019, 9, 1), "newsletter": False, "diet": "-Aucun",
        },
        {
            "first_name": "'=déjà", "last_name": "Œuvre", "email": "=ana.1@exemple.fr",
            "mobile": None, "birth_date": None, "email_consent": False, "labels": set(),
            "note": "''-deux", "since": None, "newsletter": True, "diet": None,
        },
    ]
)  # fmt: skip
def test_contacts_exported_then_imported_are_the_same(org, other_org, rows):
    """A Lien CSV export, imported by Lien's import into another association, gives the
    same contacts: names, emails, phones, dates, yes/no, custom fields, labels, accents,
    and texts starting with = + - @ (neutralised on the way out, restored on the way in)."""
    from django.core.files.base import ContentFile

    from lien.imports import services as imports
    from lien.imports.models import Import

    for organization in (org, other_org):
        Contact.objects.for_org(organization).delete()
        Import.objects.for_org(organization).delete()
    # Hypothesis runs every example in the test's one transaction: made once, reused.
    source_fields, target_fields = _round_trip_fields(org), _round_trip_fields(other_org)
    labels = {label.name: label for label in Label.objects.for_org(org)}
    for name in set(ROUND_TRIP_LABELS) - set(labels):
        labels[name] = contacts.save_label(
            organization=org, actor=ACTOR, name=name, color="#2f6f5e"
        )
    for row in rows:
        contacts.create_contact(
            organization=org,
            actor=ACTOR,
            data={key: row[key] for key in
                  ("first_name", "last_name", "email", "mobile", "birth_date", "email_consent")
                  if row[key] is not None},
            custom={source_fields[role]: row[role] for role in ("note", "since", "newsletter",
                                                                "diet") if row[role] is not None},
            labels=[labels[name] for name in row["labels"]],
        )  # fmt: skip
    keys = ["first_name", "last_name", "email", "mobile", "birth_date", "email_consent", "labels"]
    keys += [f"custom.{source_fields[role]}" for role in ("note", "since", "newsletter", "diet")]
    columns = chosen_columns(TABLES["contacts"], keys, organization=org, membership=None)
    assert sorted(c.key for c in columns) == sorted(keys)
    keys = [c.key for c in columns]  # in the form's order
    out = io.BytesIO()
    services.write_export(
        out,
        organization=org,
        queryset=Contact.objects.for_org(org),
        columns=columns,
        options=services.FileOptions(),
    )

    actor = Actor.system("Test aller-retour")
    imp = imports.create_import(
        organization=other_org, actor=actor, target="contacts",
        file=ContentFile(out.getvalue(), name="export-lien.csv"),
    )  # fmt: skip
    roles = {f"custom.{key}": role for role, key in source_fields.items()}
    mapping = {
        str(index): f"custom.{target_fields[roles[key]]}" if key in roles else key
        for index, key in enumerate(keys)
    }
    assert imp.mapping == mapping  # the export's headers are recognised as they are
    imports.check_import(imp=imp)
    imp.refresh_from_db()
    assert imp.check_summary.get("error", 0) == 0, [r.errors for r in imports.error_rows(imp)]
    imports.run_import(imp=imp)
    imp.refresh_from_db()
    assert (imp.created_count, imp.error_count) == (len(rows), 0)

    assert _as_stored(other_org, target_fields) == _as_stored(org, source_fields)


def test_unneutralise_is_what_cells_documents():
    assert cells.unneutralise(cells.neutralise("+33 1 23")) == "+33 1 23"


# The « Exporter » buttons ---------------------------------------------------------------


def test_every_page_offers_exporter_with_its_selection(admin_client, reader_client, org, people):
    from lien.search import services as segment_services

    page = admin_client.get(reverse("contact_list") + "?q=lef").content.decode()
    assert f'href="{reverse("export_contacts")}?q=lef">Exporter</a>' in page
    assert "Exporter</a>" not in reader_client.get(reverse("contact_list")).content.decode()
    page = admin_client.get(reverse("structure_list")).content.decode()
    assert f'href="{reverse("export_structures")}">Exporter</a>' in page
    page = admin_client.get(reverse("interaction_list") + "?statut=active").content.decode()
    assert f'href="{reverse("export_interactions")}?statut=active">Exporter</a>' in page
    page = admin_client.get(reverse("payment_list_don")).content.decode()
    assert f'href="{reverse("export_payments", args=["don"])}">Exporter</a>' in page
    page = admin_client.get(reverse("search_builder")).content.decode()
    assert f'href="{reverse("export_search")}?table=contacts&amp;arbre=' in page
    assert f'formaction="{reverse("export_search")}">Exporter</button>' in page
    segment = segment_services.save_segment(
        organization=org, actor=ACTOR, name="Tous", tree={"group": "all", "children": []}
    )
    page = admin_client.get(reverse("segment_detail", args=[segment.pk])).content.decode()
    assert reverse("export_segment", args=[segment.pk]) in page
    group = contacts.save_group(organization=org, actor=ACTOR, name="CA")
    page = admin_client.get(reverse("group_detail", args=[group.pk])).content.decode()
    assert reverse("export_group", args=[group.pk]) in page


def test_an_xlsx_file_stops_at_excel_s_row_limit(monkeypatch):
    monkeypatch.setattr(services, "XLSX_MAX_ROWS", 2)
    with pytest.raises(ValueError, match="au plus 2 lignes : choisissez le format CSV"):
        services.write_xlsx(io.BytesIO(), ["A"], [["a"], ["b"], ["c"]], sheet="Contacts")
