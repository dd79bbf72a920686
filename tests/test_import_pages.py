"""The import wizard's pages through the Django test client (issue 7): a French
semicolon Windows-1252 CSV uploaded, read again, mapped (a value mapping, a custom field
created on the spot, a template saved), checked (the errors table), run skipping the row
in error, its result and rejected rows, a template reused, an undo and its blockers, and
the rights."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from lien.contacts import services as contacts
from lien.contacts.models import Contact, CustomField
from lien.core.audit import Actor
from lien.core.models import Membership
from lien.core.services import save_profile
from lien.imports import services, wizard
from lien.imports.models import Import, MappingTemplate
from lien.search.tree import search
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db

CSV = (
    "Prénom;Nom;Email;Ville;Régime;Date d'adhésion\r\n"
    "Hélène;Lefèvre;helene@example.org;Lyon;Végétarien;03/11/2021\r\n"
    "Paul;Martin;paul.martin@;Paris;veggie;15/01/2022\r\n"
    "Inès;Benali;ines@example.org;Lyon;veggie;01/02/2023\r\n"
)


def upload(client, content: str = CSV, name: str = "adhérents.csv", target: str = "contacts"):
    file = SimpleUploadedFile(name, content.encode("cp1252"), content_type="text/csv")
    return client.post(reverse("import_new"), {"target": target, "file": file})


@pytest.fixture
def regime(org) -> CustomField:
    return contacts.save_custom_field(
        organization=org, actor=Actor.system(), target="contact", name="Régime",
        field_type="choice", choices=["Végétarien", "Sans gluten"],
    )  # fmt: skip


def mapping_data(imp: Import, **extra) -> dict:
    """The mapping page's form as the user leaves it: suggested fields kept, « veggie »
    mapped to « Végétarien », the date column into a new custom field."""
    data = {
        "col_0": "first_name", "col_1": "last_name", "col_2": "email", "col_3": "city",
        "col_4": "custom.regime", "col_5": wizard.NEW_FIELD,
        "new_name_5": "Date d'adhésion", "new_type_5": "date",
        "date_format": "%d/%m/%Y", "decimal_comma": "", "update_policy": "fill",
        "group": "", "template_name": "", "action": "verifier",
    }  # fmt: skip
    imp.refresh_from_db()
    for i, item in enumerate(wizard.value_choices(imp)):
        for j, (text, _chosen, _auto) in enumerate(item.values):
            data[f"choice_{i}_{j}"] = "Végétarien" if text == "veggie" else ""
    data.update(extra)
    return data


def test_the_whole_wizard(admin_client, org, regime, django_capture_on_commit_callbacks):
    # Given the upload page
    page = admin_client.get(reverse("import_new"))
    assert page.status_code == 200
    assert "50 Mo au plus" in page.content.decode()

    # When a French semicolon Windows-1252 CSV is uploaded
    response = upload(admin_client)
    imp = Import.objects.for_org(org).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("import_file", args=[imp.pk])

    # Then the page says what was read, and previews the rows with their accents
    page = admin_client.get(response["Location"]).content.decode()
    assert "Windows-1252" in page
    assert "point-virgule" in page
    assert "Hélène" in page and "Lefèvre" in page
    assert imp.headers == ["Prénom", "Nom", "Email", "Ville", "Régime", "Date d'adhésion"]

    # When the user reads it with another delimiter, then back with the right one
    url = reverse("import_file", args=[imp.pk])
    admin_client.post(url, {"encoding": "cp1252", "delimiter": ",", "header_row": "1"})
    imp.refresh_from_db()
    assert len(imp.headers) == 1
    admin_client.post(url, {"encoding": "cp1252", "delimiter": ";", "header_row": "1"})
    imp.refresh_from_db()
    assert len(imp.headers) == 6

    # The mapping page offers the suggested fields and the file's dropdown values
    page = admin_client.get(reverse("import_mapping", args=[imp.pk])).content.decode()
    assert '<option value="first_name" selected>Prénom</option>' in page
    assert "Créer un champ personnalisé" in page
    assert "veggie" in page and "inconnu" in page

    # When the mapping is sent with « Vérifier le fichier »
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("import_mapping", args=[imp.pk]),
            mapping_data(imp, template_name="Adhérents du club"),
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("import_detail", args=[imp.pk])
    imp.refresh_from_db()
    created_field = CustomField.objects.for_org(org).get(name="Date d'adhésion")
    assert created_field.field_type == "date"
    assert imp.mapping["5"] == f"custom.{created_field.key}"
    assert imp.transforms["choices"] == {"custom.regime": {"veggie": "Végétarien"}}
    assert imp.template.name == "Adhérents du club"
    assert imp.status == Import.Status.CHECKED

    # Then the check says what would happen, and names the cell in error
    page = admin_client.get(response["Location"]).content.decode()
    assert "2 à créer, 0 à mettre à jour, 0 inchangé, 1 en erreur" in page
    assert '<td class="nowrap">3</td><td>Email</td><td>« paul.martin@ »</td>' in page
    assert "adresse email valide" in page
    assert "Revenir au mapping" in page and "Lancer l'import" in page
    assert Contact.objects.for_org(org).count() == 0

    # The rejected rows download in the file's own format, with « Erreur »
    rejected = admin_client.get(reverse("import_rejected", args=[imp.pk]))
    rows = list(csv.reader(io.StringIO(rejected.content.decode("cp1252")), delimiter=";"))
    assert rows[0] == [*imp.headers, "Erreur"]
    assert rows[1][:3] == ["Paul", "Martin", "paul.martin@"]
    assert rows[1][-1].startswith("ligne 3, colonne « Email » :")

    # When the import is launched without skipping the error: refused
    run = reverse("import_run", args=[imp.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(run, {}, follow=True)
    assert "1 ligne en erreur" in response.content.decode()
    assert Contact.objects.for_org(org).count() == 0

    # When it is launched skipping the row in error
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(run, {"skip_errors": "on"})
    imp.refresh_from_db()
    assert imp.status == Import.Status.DONE
    page = admin_client.get(reverse("import_detail", args=[imp.pk])).content.decode()
    assert "2 créé(s), 0 mis à jour, 0 inchangé(s), 1 en erreur." in page
    assert "Télécharger les lignes rejetées" in page
    helene = Contact.objects.for_org(org).get(first_name="Hélène")
    ines = Contact.objects.for_org(org).get(first_name="Inès")
    assert helene.custom == {"regime": "Végétarien", created_field.key: "2021-11-03"}
    assert ines.custom["regime"] == "Végétarien"
    assert reverse("contact_detail", args=[helene.pk]) in page
    # A ready-made search finds what the import wrote
    link = re.search(r'href="([^"]+)">Voir ces contacts dans la recherche', page).group(1)
    tree = json.loads(parse_qs(urlsplit(html.unescape(link)).query)["arbre"][0])
    assert tree == {"field": "import", "op": "in", "value": [imp.pk]}
    assert {c.pk for c in search(org, tree)} == {helene.pk, ines.pk}

    # The list shows the import
    listing = admin_client.get(reverse("import_list")).content.decode()
    assert "adhérents.csv" in listing and "Terminé" in listing

    # When the same file comes again: the saved template is applied
    response = upload(admin_client, name="adhérents-2.csv")
    second = Import.objects.for_org(org).exclude(pk=imp.pk).get()
    assert second.template == imp.template
    assert second.transforms["choices"] == {"custom.regime": {"veggie": "Végétarien"}}
    page = admin_client.get(response["Location"], follow=True).content.decode()
    assert "Adhérents du club" in page

    # « Annuler cet import »: a confirmation, then the contacts are gone
    undo = reverse("import_undo", args=[imp.pk])
    page = admin_client.get(undo).content.decode()
    assert "supprime les 2 fiches" in page
    admin_client.post(undo)
    imp.refresh_from_db()
    assert imp.status == Import.Status.UNDONE
    assert Contact.objects.for_org(org).count() == 0


def checked_import(client, org, regime, capture, content: str = CSV) -> Import:
    upload(client, content)
    imp = Import.objects.for_org(org).latest("pk")
    with capture(execute=True):
        client.post(reverse("import_mapping", args=[imp.pk]), mapping_data(imp))
    imp.refresh_from_db()
    return imp


def test_errors_table_is_paginated(admin_client, org, regime, django_capture_on_commit_callbacks):
    lines = ["Prénom;Nom;Email;Ville;Régime;Date d'adhésion"]
    lines += [f"P{i};N{i};faux{i}@;Lyon;;01/01/2020" for i in range(30)]
    imp = checked_import(
        admin_client, org, regime, django_capture_on_commit_callbacks, "\r\n".join(lines)
    )
    assert imp.check_summary["error"] == 30
    page = admin_client.get(reverse("import_detail", args=[imp.pk])).content.decode()
    assert "Page 1 sur 2" in page
    assert "« faux0@ »" in page and "« faux29@ »" not in page
    second = admin_client.get(
        reverse("import_detail", args=[imp.pk]) + "?page=2", headers={"HX-Request": "true"}
    ).content.decode()
    assert second.startswith('<div id="import-errors">')
    assert "« faux29@ »" in second and "<html" not in second


def test_mapping_errors_are_shown_and_nothing_is_created(
    admin_client, org, regime, django_capture_on_commit_callbacks
):
    upload(admin_client)
    imp = Import.objects.for_org(org).get()
    data = mapping_data(imp, col_1="first_name", col_5=wizard.NEW_FIELD, new_name_5="")
    response = admin_client.post(reverse("import_mapping", args=[imp.pk]), data)
    assert response.status_code == 200
    assert "Le nom du champ est obligatoire." in response.content.decode()
    data = mapping_data(imp, col_1="first_name")
    page = admin_client.post(reverse("import_mapping", args=[imp.pk]), data).content.decode()
    assert "vont dans le même champ" in page
    # The custom field of the refused mapping was not created.
    assert not CustomField.objects.for_org(org).filter(name="Date d'adhésion").exists()
    imp.refresh_from_db()
    assert imp.status == Import.Status.UPLOADED


def test_undo_names_what_blocks_it(
    admin_client, admin_member, org, regime, django_capture_on_commit_callbacks
):
    imp = checked_import(admin_client, org, regime, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("import_run", args=[imp.pk]), {"skip_errors": "on"})
    helene = Contact.objects.for_org(org).get(first_name="Hélène")
    contacts.update_contact(
        organization=org, actor=Actor.for_user(admin_member.user), contact=helene,
        data={"city": "Villeurbanne"},
    )  # fmt: skip
    undo = reverse("import_undo", args=[imp.pk])
    page = admin_client.get(undo).content.decode()
    assert "ne peut pas être annulé" in page
    assert "Hélène Lefèvre" in page
    assert "Annuler cet import</button>" not in page
    admin_client.post(undo)
    imp.refresh_from_db()
    assert imp.status == Import.Status.DONE
    assert Contact.objects.for_org(org).count() == 2


def test_rights(
    org, regime, admin_client, reader_client, outsider_client, django_capture_on_commit_callbacks
):
    imp = checked_import(admin_client, org, regime, django_capture_on_commit_callbacks)
    detail = reverse("import_detail", args=[imp.pk])
    # A reader has no imports right: 403 everywhere, no menu entry.
    assert reader_client.get(reverse("import_list")).status_code == 403
    assert reader_client.get(detail).status_code == 403
    assert "Importer" not in reader_client.get(reverse("dashboard")).content.decode()
    assert "Importer" in admin_client.get(reverse("dashboard")).content.decode()
    # Another organisation's import does not exist.
    assert outsider_client.get(detail).status_code == 404
    assert outsider_client.post(reverse("import_run", args=[imp.pk])).status_code == 404
    assert outsider_client.get(reverse("import_rejected", args=[imp.pk])).status_code == 404

    # A profile with the imports right but only viewing contacts imports nothing.
    profile = save_profile(
        organization=org, actor=Actor.system(), name="Imports seuls",
        rights={"imports": ["view", "add", "change", "delete"], "contacts": ["view"],
                "interactions": ["view", "add", "change"]},
    )  # fmt: skip
    member = Membership.objects.create(
        organization=org, user=make_user("imports@amis-du-parc.fr"), profile=profile
    )
    client = client_for(member)
    page = client.get(reverse("import_new")).content.decode()
    assert 'value="interactions"' in page and 'value="contacts"' not in page
    assert client.get(detail).status_code == 200
    assert "Lancer l'import" not in client.get(detail).content.decode()
    assert client.post(reverse("import_run", args=[imp.pk])).status_code == 403
    assert upload(client).status_code == 200  # « contacts » is not a choice it has
    assert client.get(reverse("import_undo", args=[imp.pk])).status_code == 403
    assert not MappingTemplate.objects.for_org(org).exists()


def test_a_running_import_follows_its_job(
    admin_client, org, regime, django_capture_on_commit_callbacks
):
    # Given an import whose run is queued (the worker has not started it yet)
    imp = checked_import(admin_client, org, regime, django_capture_on_commit_callbacks)
    from lien.core.jobs import start_job
    from lien.imports.tasks import run_import_task

    job = start_job(organization=org, kind="import_run", label=str(imp), task=run_import_task,
                    import_id=imp.pk)  # fmt: skip
    Import.objects.filter(pk=imp.pk).update(status=Import.Status.RUNNING, job=job)

    # When the page is opened (or reloaded)
    page = admin_client.get(reverse("import_detail", args=[imp.pk])).content.decode()

    # Then it shows the job's progress bar, which polls itself, and reloads at the end
    assert "Import en cours" in page
    assert f'hx-get="{reverse("job_progress", args=[job.pk])}"' in page
    assert "data-import-reload" in page and "lien/imports.js" in page
    assert "Vous pouvez quitter cette page" in page
    assert "Lancer l'import" not in page


def test_a_workbook_sheet_is_chosen(admin_client, org):
    # Given a workbook whose first sheet is a title page
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.add_worksheet("Lisez-moi").write_row(0, 0, ["Export du 03/11/2021"])
    people = book.add_worksheet("Adhérents")
    people.write_row(0, 0, ["Prénom", "Nom", "Courriel"])
    people.write_row(1, 0, ["Hélène", "Lefèvre", "helene@example.org"])
    book.close()
    file = SimpleUploadedFile("club.xlsx", buffer.getvalue())
    admin_client.post(reverse("import_new"), {"target": "contacts", "file": file})
    imp = Import.objects.for_org(org).get()
    url = reverse("import_file", args=[imp.pk])
    page = admin_client.get(url).content.decode()
    assert '<option value="Adhérents">Adhérents</option>' in page

    # When the user picks the sheet of the people
    admin_client.post(url, {"sheet": "Adhérents", "header_row": "1"})

    # Then the file is read from it, and the mapping follows its headers
    imp.refresh_from_db()
    assert imp.sheet == "Adhérents"
    assert imp.headers == ["Prénom", "Nom", "Courriel"]
    assert imp.mapping == {"0": "first_name", "1": "last_name", "2": "email"}
    assert "Hélène" in admin_client.get(url).content.decode()


def test_the_list_costs_the_same_whatever_its_length(
    admin_client, org, django_assert_max_num_queries
):
    for number in range(5):
        upload(admin_client, name=f"fichier-{number}.csv")
    with django_assert_max_num_queries(12):
        page = admin_client.get(reverse("import_list")).content.decode()
    assert page.count("fichier-") == 5


def test_a_deleted_file_is_said_so(admin_client, org):
    upload(admin_client)
    imp = Import.objects.for_org(org).get()
    Import.objects.filter(pk=imp.pk).update(file_name="")
    page = admin_client.get(reverse("import_file", args=[imp.pk])).content.decode()
    assert "a été supprimé après 30 jours : déposez-le à nouveau." in page
    assert "Relire le fichier" not in page
    response = admin_client.get(reverse("import_mapping", args=[imp.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("import_file", args=[imp.pk])


def test_saved_templates_are_listed_and_deleted(admin_client, editor_member, org):
    template = services.save_template(
        organization=org, actor=Actor.system(), name="Adhérents HelloAsso", target="contacts",
        headers=["Prénom", "Nom"], mapping={"0": "first_name", "1": "last_name"},
    )  # fmt: skip
    page = admin_client.get(reverse("import_list")).content.decode()
    assert "Adhérents HelloAsso" in page and "Prénom, Nom" in page
    delete = reverse("import_template_delete", args=[template.pk])
    assert client_for(editor_member).post(delete).status_code == 302  # « Éditeur » may
    assert not MappingTemplate.objects.for_org(org).exists()
