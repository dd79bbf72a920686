"""The history of exports (issue 7): every export leaves a row, « Mes exports » shows it
with its file while kept, administrators see all, files are purged after the retention."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from lien.contacts import services as contacts
from lien.contacts.models import Label
from lien.core.models import Job, Profile
from lien.exports import records, services
from lien.exports.models import ExportRecord
from lien.search import services as segments
from tests.conftest import add_member, client_for
from tests.test_exports import ACTOR, body, export_form, make_people, read_csv


@pytest.fixture(autouse=True)
def _files(settings, tmp_path):
    """Export files of the tests go to a temporary folder, not the project's media."""
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def people(org):
    return make_people(org)


def run_large_export(client, django_capture_on_commit_callbacks, monkeypatch, url, data):
    """POST an export form with no direct limit: a background job makes it."""
    monkeypatch.setattr(services, "DIRECT_LIMIT", 0)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302
    return ExportRecord.objects.latest("pk")


# Every export leaves a row ---------------------------------------------------------------


def test_an_immediate_export_is_recorded_without_a_file(admin_client, admin_member, people):
    response = admin_client.post(
        reverse("export_contacts") + "?q=lef", export_form(["id", "last_name", "city"])
    )

    assert response.status_code == 200
    record = ExportRecord.objects.get()
    assert record.organization_id == admin_member.organization_id
    assert record.created_by == admin_member.user
    assert (record.kind, record.fmt, record.delimiter, record.via) == (
        "contacts",
        "csv",
        ";",
        "page",
    )
    assert record.title == "Contacts"
    assert record.summary == "Filtres : recherche « lef »"
    assert record.source == {"kind": "list", "table": "contacts", "query": "q=lef"}
    assert record.columns == [
        {"key": "id", "label": "N° Lien"},
        {"key": "last_name", "label": "Nom"},
        {"key": "city", "label": "Ville"},
    ]
    assert (record.rows, record.file_name, record.job_id) == (1, "", None)
    assert record.finished_at is not None and record.status == Job.Status.SUCCEEDED


def test_a_background_export_records_its_rows_and_file(
    admin_client, people, monkeypatch, django_capture_on_commit_callbacks
):
    record = run_large_export(
        admin_client,
        django_capture_on_commit_callbacks,
        monkeypatch,
        reverse("export_payments", args=["don"]) + "?amount_min=10",
        export_form(["id", "amount"], flavour="intl"),
    )

    record.refresh_from_db()
    assert (record.kind, record.delimiter, record.rows) == ("payments", ",", 1)
    assert record.summary == "Filtres : montant minimum « 10 »"
    assert record.title == "Paiements — Don"
    assert record.job.kind == "export_payments" and record.status == Job.Status.SUCCEEDED
    assert record.file_name == record.job.result["file"]
    assert record.file_size == default_storage.size(record.file_name)
    download = admin_client.get(reverse("export_file", args=[record.pk]))
    assert read_csv(body(download), ",") == [["N° Lien", "Montant"], [str(_paid_id()), "1234.50"]]


def _paid_id() -> int:
    from lien.payments.models import Payment

    return Payment.objects.get().pk


def test_list_filters_are_said_with_names(admin_client, org, people):
    donor = Label.objects.get(organization=org, name="Donateur")
    query = f"?q=lef&etiquette={donor.pk}&etiquette=999999&tri=-name&page=2"

    admin_client.post(reverse("export_contacts") + query, export_form(["id"]))

    summary = ExportRecord.objects.get().summary
    assert summary == "Filtres : recherche « lef », étiquette « Donateur », étiquette « n°999999 »"


def test_search_segment_group_and_ticked_rows_are_said_in_words(admin_client, org, people):
    label = contacts.save_label(organization=org, actor=ACTOR, name="Élu", color="#2f6f5e")
    tree = {"group": "all", "children": [{"field": "labels", "op": "any", "value": [label.pk]}]}
    segment = segments.save_segment(organization=org, actor=ACTOR, name="Élus", tree=tree)
    group = contacts.save_group(organization=org, actor=ACTOR, name="Bureau")
    form = export_form(["id"])
    admin_client.post(
        reverse("export_search"),
        {**form, "table": "contacts", "arbre": json.dumps(tree), "ids": [people["helene"].pk]},
    )
    admin_client.post(reverse("export_segment", args=[segment.pk]), form)
    admin_client.post(reverse("export_group", args=[group.pk]), form)

    found = list(ExportRecord.objects.order_by("pk").values_list("title", "summary"))
    assert found == [
        (
            "Contacts — recherche avancée (sélection)",
            "Recherche : a l'étiquette « Élu » — 1 ligne cochée",
        ),
        ("Contacts du segment « Élus »", "Segment « Élus » : a l'étiquette « Élu »"),
        ("Contacts du groupe « Bureau »", "Groupe « Bureau »"),
    ]


def test_exporting_everything_is_recorded_with_its_files(
    admin_client, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("export_all"))

    record = ExportRecord.objects.get()
    assert (record.kind, record.fmt, record.title) == ("all", "zip", "Export de toutes les données")
    assert record.summary.startswith("20 fichiers CSV : contacts.csv, structures.csv")
    assert record.rows == sum(record.job.result["files"].values())
    assert record.file_name.endswith(".zip")
    page = admin_client.get(reverse("export_all")).content.decode()
    assert reverse("export_file", args=[record.pk]) in page
    assert "Tous mes exports" in page


# « Mes exports » -------------------------------------------------------------------------


@pytest.fixture
def two_authors(org, admin_client, people, monkeypatch, django_capture_on_commit_callbacks):
    """A background export by the administrator, one by a member who may export but not
    view the settings (the built-in « Éditeur » views them)."""
    editor = add_member(org, "editrice@amis-du-parc.fr", "Éditeur")
    editor.profile = Profile.objects.create(
        organization=org, name="Exports seulement",
        rights={"contacts": ["view"], "structures": ["view"], "exports": ["view", "add"]},
    )  # fmt: skip
    editor.save()
    mine = run_large_export(
        admin_client, django_capture_on_commit_callbacks, monkeypatch,
        reverse("export_contacts"), export_form(["id", "last_name"]),
    )  # fmt: skip
    theirs = run_large_export(
        client_for(editor), django_capture_on_commit_callbacks, monkeypatch,
        reverse("export_structures"), export_form(["id", "name"]),
    )  # fmt: skip
    return {"editor": editor, "admin_record": mine, "editor_record": theirs}


def test_a_member_sees_only_their_exports(two_authors):
    editor = client_for(two_authors["editor"])
    mine, theirs = two_authors["editor_record"], two_authors["admin_record"]

    page = editor.get(reverse("export_list")).content.decode()

    assert "Mes exports" in page and "Structures" in page
    assert f'id="export-{mine.pk}"' in page and f'id="export-{theirs.pk}"' not in page
    assert reverse("export_file", args=[mine.pk]) in page
    assert editor.get(reverse("export_file", args=[theirs.pk])).status_code == 404
    assert editor.get(reverse("export_file", args=[mine.pk])).status_code == 200


def test_an_administrator_sees_and_downloads_every_export(admin_client, two_authors):
    theirs = two_authors["editor_record"]

    page = admin_client.get(reverse("export_list")).content.decode()

    assert "Exports de l'association" in page
    assert f'id="export-{two_authors["admin_record"].pk}"' in page
    assert f'id="export-{theirs.pk}"' in page and "Editrice" in page
    download = admin_client.get(reverse("export_file", args=[theirs.pk]))
    assert read_csv(body(download))[0] == ["N° Lien", "Nom"]


def test_an_administrator_whose_profile_hides_data_keeps_out_of_others_files(org, two_authors):
    prudent = add_member(org, "prudent@amis-du-parc.fr", "Administrateur")
    profile = Profile.objects.create(
        organization=org, name="Admin discret", rights=prudent.profile.rights,
        hide_payment_data=True,
    )  # fmt: skip
    prudent.profile = profile
    prudent.save()
    client = client_for(prudent)
    theirs = two_authors["editor_record"]

    page = client.get(reverse("export_list")).content.decode()

    assert f'id="export-{theirs.pk}"' in page
    assert "Détails masqués par votre profil" in page and "Réservé à son auteur" in page
    assert client.get(reverse("export_file", args=[theirs.pk])).status_code == 403


def test_the_history_page_reads_a_fixed_number_of_queries(
    admin_client, admin_member, people, django_assert_max_num_queries
):
    for _ in range(3):
        admin_client.post(reverse("export_contacts"), export_form(["id"]))
    with django_assert_max_num_queries(12) as few:
        admin_client.get(reverse("export_list"))
    three = len(few)  # read now: the next request empties the connection's query log
    for _ in range(6):
        admin_client.post(reverse("export_contacts"), export_form(["id"]))
    with django_assert_max_num_queries(three):
        page = admin_client.get(reverse("export_list")).content.decode()
    assert page.count("Téléchargé aussitôt") == 9


def test_the_export_form_lists_the_member_s_last_exports(admin_client, people):
    admin_client.post(reverse("export_contacts"), export_form(["id", "first_name"]))

    page = admin_client.get(reverse("export_contacts")).content.decode()

    assert "Vos derniers exports" in page and "Téléchargé aussitôt" in page
    assert reverse("export_list") in page


def test_without_the_exports_right_the_history_is_refused(reader_client):
    assert reader_client.get(reverse("export_list")).status_code == 403


# Retention -------------------------------------------------------------------------------


def test_files_are_deleted_after_the_retention_period_and_the_row_stays(
    admin_client, two_authors, settings
):
    settings.LIEN_EXPORT_RETENTION_DAYS = 7
    record = two_authors["admin_record"]
    name = record.file_name

    assert records.purge_old_files(now=timezone.now() + dt.timedelta(days=6)) == 0
    assert records.purge_old_files(now=timezone.now() + dt.timedelta(days=8)) == 2

    record.refresh_from_db()
    assert (record.file_name, default_storage.exists(name)) == ("", False)
    assert record.file_deleted_at is not None and record.rows == 2
    assert "file" not in record.job.result  # the job page no longer offers it
    page = admin_client.get(reverse("export_list")).content.decode()
    assert page.count("Fichier supprimé") == 2
    response = admin_client.get(reverse("export_file", args=[record.pk]), follow=True)
    assert "a été supprimé le" in response.content.decode()
    assert "après 7 jours" in response.content.decode()


def test_the_retention_period_is_a_setting(two_authors, settings, monkeypatch):
    settings.LIEN_EXPORT_RETENTION_DAYS = None
    monkeypatch.setenv("LIEN_EXPORT_RETENTION_DAYS", "2")
    assert records.retention_days() == 2
    assert records.purge_old_files(now=timezone.now() + dt.timedelta(days=3)) == 2
    monkeypatch.delenv("LIEN_EXPORT_RETENTION_DAYS")
    assert records.retention_days() == 7


def test_the_nightly_purge_is_scheduled(two_authors, settings):
    from lien.core.scheduler import NIGHTLY
    from lien.exports.tasks import purge_export_files

    settings.LIEN_EXPORT_RETENTION_DAYS = 0
    assert "lien.exports.tasks.purge_export_files" in NIGHTLY
    assert purge_export_files.call() == {"purged": 2}
