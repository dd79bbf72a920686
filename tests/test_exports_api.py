"""The exports API (/api/v1/exports/): start, follow, download, list; same rules as pages."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from lien.contacts import services as contacts
from lien.core.models import Profile
from lien.exports import records
from lien.exports.models import ExportRecord
from tests.conftest import add_member, api_client_for
from tests.test_exports import ACTOR, body, make_people, read_csv

LIST = reverse("api-exports-list")


@pytest.fixture(autouse=True)
def _files(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def people(org):
    return make_people(org)


@pytest.fixture
def api(admin_member):
    return api_client_for(admin_member)


def start(client, capture, **data):
    """POST an export and run its job (as the worker would once committed)."""
    with capture(execute=True):
        response = client.post(LIST, data=data, content_type="application/json")
    return response


def detail(pk: int) -> str:
    return reverse("api-exports-detail", args=[pk])


def download(pk: int) -> str:
    return reverse("api-exports-download", args=[pk])


def test_start_follow_and_download_a_contacts_export(
    api, admin_member, people, django_capture_on_commit_callbacks
):
    response = start(
        api, django_capture_on_commit_callbacks,
        kind="contacts", query="q=lef", columns=["id", "last_name", "mobile"],
    )  # fmt: skip

    assert response.status_code == 201
    created = response.json()
    assert created["kind"] == "contacts" and created["via"] == "api"
    assert created["summary"] == "Filtres : recherche « lef »"
    assert created["columns"] == [
        {"key": "id", "label": "N° Lien"},
        {"key": "last_name", "label": "Nom"},
        {"key": "mobile", "label": "Téléphone portable"},
    ]
    shown = api.get(detail(created["id"])).json()
    assert (shown["status"], shown["rows"], shown["file_available"]) == ("succeeded", 1, True)
    assert shown["progress"]["percent"] == 100 and shown["downloadable"] is True
    assert shown["created_by"] == admin_member.user.email
    file = api.get(download(created["id"]))
    assert file.status_code == 200
    assert read_csv(body(file)) == [
        ["N° Lien", "Nom", "Téléphone portable"],
        [str(people["helene"].pk), "Lefèvre", "'+33 6 12 34 56 78"],
    ]


def test_the_form_s_default_columns_xlsx_and_comma(api, people, django_capture_on_commit_callbacks):
    xlsx = start(api, django_capture_on_commit_callbacks, kind="structures", format="xlsx")
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(body(api.get(download(xlsx.json()["id"])))))
    assert sheet.get_sheet_by_index(0).to_python()[1][1] == "Mairie"
    assert [c["key"] for c in xlsx.json()["columns"]][:2] == ["id", "name"]

    comma = start(
        api, django_capture_on_commit_callbacks, kind="contacts", delimiter=",", columns=["id"]
    )
    content = body(api.get(download(comma.json()["id"])))
    assert not content.startswith(b"\xef\xbb\xbf")  # « , »: no BOM unless asked
    assert comma.json()["delimiter"] == ","


def test_payments_search_segment_and_group(api, org, people, django_capture_on_commit_callbacks):
    paid = start(
        api, django_capture_on_commit_callbacks,
        kind="payments", payment_kind="don", query="amount_min=1000", columns=["amount"],
    )  # fmt: skip
    assert read_csv(body(api.get(download(paid.json()["id"]))))[1:] == [["1234,50"]]

    tree = {"group": "all", "children": [{"field": "city", "op": "equals", "value": "Paris"}]}
    found = start(api, django_capture_on_commit_callbacks, kind="search", tree=tree,
                  columns=["last_name"])  # fmt: skip
    assert read_csv(body(api.get(download(found.json()["id"]))))[1:] == [
        ['\'=HYPERLINK("http://x")']
    ]

    from lien.search import services as segments

    segment = segments.save_segment(organization=org, actor=ACTOR, name="Parisiens", tree=tree)
    in_segment = start(api, django_capture_on_commit_callbacks, kind="segment",
                       segment=segment.pk, columns=["first_name"])  # fmt: skip
    assert in_segment.json()["title"] == "Contacts du segment « Parisiens »"
    assert read_csv(body(api.get(download(in_segment.json()["id"]))))[1:] == [["Paul"]]

    group = contacts.save_group(organization=org, actor=ACTOR, name="Bureau")
    contacts.add_to_group(
        organization=org, actor=ACTOR, group=group, contact_ids=[people["helene"].pk]
    )
    members = start(api, django_capture_on_commit_callbacks, kind="group", group=group.pk,
                    columns=["first_name"], ids=[people["helene"].pk])  # fmt: skip
    assert read_csv(body(api.get(download(members.json()["id"]))))[1:] == [["Hélène"]]


def test_everything_as_a_zip(api, people, django_capture_on_commit_callbacks):
    response = start(api, django_capture_on_commit_callbacks, kind="all")

    assert response.status_code == 201 and response.json()["format"] == "zip"
    archive = zipfile.ZipFile(io.BytesIO(body(api.get(download(response.json()["id"])))))
    assert "contacts.csv" in archive.namelist()
    assert start(api, django_capture_on_commit_callbacks, kind="all", format="xlsx").json() == {
        "format": ["Toutes les données s'exportent en une archive ZIP de fichiers CSV."]
    }


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"kind": "contacts", "columns": ["id", "nope"]},
         {"columns": ["Colonne inconnue ou non autorisée : « nope »."]}),
        ({"kind": "contacts", "columns": []}, {"columns": ["Choisissez au moins une colonne."]}),
        ({"kind": "payments"}, {"payment_kind": ["Obligatoire pour « payments »."]}),
        ({"kind": "search"}, {"tree": ["Obligatoire pour « search »."]}),
        ({"kind": "segment"}, {"segment": ["Obligatoire pour « segment »."]}),
        ({"kind": "group", "group": 1, "table": "payments"},
         {"table": ["Un groupe s'exporte en contacts ou en structures."]}),
        ({"kind": "segment", "segment": 999999}, {"detail": ["Ce segment n'existe pas."]}),
        ({"kind": "payments", "payment_kind": "don", "query": "date_from=hier"},
         {"query": ["date_from : « hier » n'est pas une date (JJ/MM/AAAA)."]}),
    ],
)  # fmt: skip
def test_bad_requests_say_what_and_where(api, data, errors):
    response = api.post(LIST, data=data, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == errors
    assert ExportRecord.objects.count() == 0


def test_a_bad_tree_names_its_node(api):
    tree = {"group": "all", "children": [{"field": "city", "op": "nope", "value": "x"}]}
    response = api.post(LIST, data={"kind": "search", "tree": tree},
                        content_type="application/json")  # fmt: skip
    assert response.status_code == 400
    assert response.json()["path"] == "children[0].op"
    assert "Opérateur inconnu pour « Ville »" in response.json()["tree"][0]


def test_a_malformed_tree_is_refused_whatever_the_kind(api):
    """Found by the schema test: a list export ignores `tree`, but a tree given must still
    be one (the schema says so)."""
    tree = {"group": "all", "children": "pas une liste"}
    response = api.post(LIST, data={"kind": "interactions", "tree": tree},
                        content_type="application/json")  # fmt: skip
    assert response.status_code == 400
    assert ExportRecord.objects.count() == 0


def test_a_profile_that_hides_payments_exports_none(org, people):
    member = add_member(org, "discret@amis-du-parc.fr", "Éditeur")
    Profile.objects.filter(pk=member.profile_id).update(
        hide_payment_data=True, hide_sensitive_fields=True
    )
    client = api_client_for(member)

    refused = client.post(LIST, data={"kind": "payments", "payment_kind": "don"},
                          content_type="application/json")  # fmt: skip
    assert refused.status_code == 403
    hidden = client.post(LIST, data={"kind": "contacts", "columns": ["payments_total"]},
                         content_type="application/json")  # fmt: skip
    assert hidden.json() == {"columns": ["Colonne inconnue ou non autorisée : « payments_total »."]}
    keys = [c["key"] for c in client.get(reverse("api-exports-columns")).json()]
    assert "payments_total" not in keys
    assert f"custom.{people['fields'][3].key}" not in keys
    assert "payments_total" in [
        c["key"] for c in api_client_for(_admin(org)).get(reverse("api-exports-columns")).json()
    ]


def _admin(org):
    from lien.core.models import Membership

    return Membership.objects.get(organization=org, profile__name="Administrateur")


def test_columns_of_a_table(api, people):
    response = api.get(reverse("api-exports-columns") + "?table=interactions")

    assert response.status_code == 200
    assert response.json()[0] == {"key": "id", "label": "N° Lien", "group": "Interaction",
                                  "default": True}  # fmt: skip
    assert api.get(reverse("api-exports-columns") + "?table=nope").status_code == 400


def test_another_organisation_s_export_is_a_404(
    api, outsider_member, people, django_capture_on_commit_callbacks
):
    mine = start(api, django_capture_on_commit_callbacks, kind="contacts", columns=["id"]).json()
    outsider = api_client_for(outsider_member)

    assert outsider.get(detail(mine["id"])).status_code == 404
    assert outsider.get(download(mine["id"])).status_code == 404
    assert outsider.get(LIST).json()["count"] == 0


def test_a_member_lists_their_own_an_administrator_all(
    api, org, people, django_capture_on_commit_callbacks
):
    member = add_member(org, "benevole@amis-du-parc.fr", "Éditeur")
    member.profile = Profile.objects.create(
        organization=org, name="Exports", rights={"contacts": ["view"], "exports": ["view", "add"]}
    )
    member.save()
    own = api_client_for(member)
    theirs = start(own, django_capture_on_commit_callbacks, kind="contacts", columns=["id"])
    mine = start(api, django_capture_on_commit_callbacks, kind="contacts", columns=["id"])

    assert [e["id"] for e in own.get(LIST).json()["results"]] == [theirs.json()["id"]]
    assert own.get(detail(mine.json()["id"])).status_code == 404
    assert [e["id"] for e in api.get(LIST).json()["results"]] == [
        mine.json()["id"],
        theirs.json()["id"],
    ]


def test_download_while_being_made_then_once_deleted(api, people, settings):
    queued = api.post(LIST, data={"kind": "contacts", "columns": ["id"]},
                      content_type="application/json").json()  # fmt: skip
    assert queued["status"] == "queued" and queued["progress"]["percent"] == 0

    waiting = api.get(download(queued["id"]))
    assert waiting.status_code == 409
    assert waiting.json() == {"detail": "Le fichier se prépare : suivez `status` et `progress`."}

    record = ExportRecord.objects.get(pk=queued["id"])
    record.file_name, record.finished_at = "exports/x.csv", timezone.now()
    record.save()
    settings.LIEN_EXPORT_RETENTION_DAYS = 7
    records.purge_old_files(now=timezone.now() + dt.timedelta(days=8))
    gone = api.get(download(queued["id"]))
    assert gone.status_code == 404
    assert "supprimé le" in gone.json()["detail"] and "après 7 jours" in gone.json()["detail"]
    assert api.get(detail(queued["id"])).json()["file_deleted_at"] is not None


def test_without_the_exports_right_the_api_refuses(reader_member):
    client = api_client_for(reader_member)
    assert client.get(LIST).status_code == 403
    response = client.post(LIST, data={"kind": "contacts"}, content_type="application/json")
    assert response.status_code == 403
