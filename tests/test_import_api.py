"""The imports API: the wizard's steps over HTTP, with the same rules and rights."""

from __future__ import annotations

import base64

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from lien.contacts import services as contacts
from lien.contacts.models import Contact
from lien.core.audit import Actor
from lien.core.models import Membership
from lien.core.services import save_profile
from lien.imports.models import Import
from tests.conftest import api_client_for, make_user

CSV = (
    "Prénom;Nom;Email;Ville\n"
    "Jean;Dupont;jean@example.org;Lyon\n"
    "Ana;Roy;ana@;Paris\n"
    "Luc;Martin;luc@example.org;Nice\n"
)
BASE = "/api/v1/imports/"


@pytest.fixture
def api(admin_member) -> Client:
    return api_client_for(admin_member)


@pytest.fixture
def execute(django_capture_on_commit_callbacks):
    """Tasks queued on commit run at once (the immediate backend of the tests)."""

    def call(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return call


def upload(api: Client, text: str = CSV, target: str = "contacts", name: str = "adherents.csv"):
    file = SimpleUploadedFile(name, text.encode("cp1252"), content_type="text/csv")
    return api.post(BASE, {"target": target, "file": file})


@pytest.mark.django_db
def test_the_whole_import_over_the_api(org, api, execute):
    response = upload(api)
    assert response.status_code == 201, response.json()
    body = response.json()
    pk = body["id"]
    assert body["status"] == "uploaded"
    assert (body["file_format"], body["encoding"], body["delimiter"]) == ("csv", "latin-1", ";")
    assert body["headers"] == ["Prénom", "Nom", "Email", "Ville"]
    assert body["mapping"] == body["suggested_mapping"] == {
        "0": "first_name", "1": "last_name", "2": "email", "3": "city",
    }  # fmt: skip

    preview = api.get(f"{BASE}{pk}/preview/").json()
    assert preview["rows"][0] == {"row": 2, "cells": ["Jean", "Dupont", "jean@example.org", "Lyon"]}

    response = execute(api.post, f"{BASE}{pk}/check/")
    assert response.status_code == 200
    body = api.get(f"{BASE}{pk}/").json()
    assert body["status"] == "checked"
    assert (
        body["check_summary"]["message"] == "2 à créer, 0 à mettre à jour, 0 inchangé, 1 en erreur"
    )

    errors = api.get(f"{BASE}{pk}/errors/").json()
    assert errors["count"] == 1
    assert errors["results"][0]["errors"][0]["text"] == (
        "ligne 3, colonne « Email » : « ana@ » n'est pas une adresse email valide."
    )

    refused = execute(api.post, f"{BASE}{pk}/run/")
    assert refused.status_code == 409
    assert "1 ligne en erreur" in refused.json()["detail"]

    response = api.patch(f"{BASE}{pk}/", {"options": {"skip_errors": True}},
                         content_type="application/json")  # fmt: skip
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "uploaded"  # a change asks for a new check
    execute(api.post, f"{BASE}{pk}/check/")
    response = execute(api.post, f"{BASE}{pk}/run/")
    assert response.status_code == 200
    body = api.get(f"{BASE}{pk}/").json()
    assert body["status"] == "done"
    assert body["counters"] == {"created": 2, "updated": 0, "unchanged": 0, "skipped": 0,
                                "errors": 1}  # fmt: skip
    assert body["job"]["status"] == "succeeded"
    assert Contact.objects.for_org(org).count() == 2

    rejected = api.get(f"{BASE}{pk}/rejected/")
    assert rejected["Content-Disposition"] == 'attachment; filename="adherents-rejets.csv"'
    assert rejected.content.decode("latin-1").splitlines()[1].startswith("Ana;Roy;ana@;Paris;")

    response = api.post(f"{BASE}{pk}/undo/")
    assert response.status_code == 200
    assert response.json() == {"deleted": 2, "restored": 0}
    assert Contact.objects.for_org(org).count() == 0


@pytest.mark.django_db
def test_upload_as_base64_json(api):
    response = api.post(
        BASE,
        {"target": "contacts", "filename": "a.csv",
         "content_base64": base64.b64encode(CSV.encode()).decode()},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 201
    assert response.json()["original_name"] == "a.csv"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, field",
    [
        ({"target": "contacts"}, "file"),
        ({"target": "rien", "filename": "a.csv", "content_base64": "eA=="}, "target"),
        ({"target": "contacts", "filename": "a.csv", "content_base64": "pas du base64!"},
         "content_base64"),
        ({"target": "contacts", "filename": "a.csv", "content_base64": ""}, "content_base64"),
    ],
)  # fmt: skip
def test_bad_uploads_are_400(api, body, field):
    response = api.post(BASE, body, content_type="application/json")
    assert response.status_code == 400
    assert field in response.json() or "file" in response.json()


@pytest.mark.django_db
def test_a_file_that_is_not_a_table_is_a_400_with_the_reason(api):
    file = SimpleUploadedFile("liste.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    response = api.post(BASE, {"target": "contacts", "file": file})
    assert response.status_code == 400
    assert response.json()["file"]


@pytest.mark.django_db
def test_bad_mapping_is_a_400(api):
    pk = upload(api).json()["id"]
    response = api.patch(f"{BASE}{pk}/", {"mapping": {"0": "amount"}},
                         content_type="application/json")  # fmt: skip
    assert response.status_code == 400
    assert response.json() == {"mapping": ["Colonne « Prénom » : champ inconnu « amount »."]}


@pytest.mark.django_db
def test_undo_refused_names_the_blocking_records(org, admin_member, api, execute):
    pk = upload(api, CSV.replace("ana@", "ana@example.org")).json()["id"]
    execute(api.post, f"{BASE}{pk}/check/")
    execute(api.post, f"{BASE}{pk}/run/")
    jean = Contact.objects.for_org(org).get(email="jean@example.org")
    contacts.update_contact(organization=org, actor=Actor.for_user(admin_member.user),
                            contact=jean, data={"city": "Brest"})  # fmt: skip
    response = api.post(f"{BASE}{pk}/undo/")
    assert response.status_code == 409
    [blocker] = response.json()["blockers"]
    assert blocker.startswith(f"Contact « Jean Dupont » (n°{jean.pk})")
    assert Contact.objects.for_org(org).count() == 3


@pytest.mark.django_db
def test_templates_are_offered_for_the_same_headers(api):
    response = api.post(
        "/api/v1/import-templates/",
        {"name": "Adhérents", "target": "contacts", "headers": ["Prénom", "Nom", "Email", "Ville"],
         "mapping": {"0": "first_name", "1": "last_name", "2": "email"},
         "options": {"update_policy": "overwrite"}},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    template = response.json()["id"]
    body = upload(api).json()
    assert body["templates"] == [{"id": template, "name": "Adhérents"}]
    assert body["template"] == {"id": template, "name": "Adhérents"}
    assert body["options"]["update_policy"] == "overwrite"
    response = api.patch(f"/api/v1/import-templates/{template}/", {"name": "Membres"},
                         content_type="application/json")  # fmt: skip
    assert response.json()["name"] == "Membres"
    assert api.delete(f"/api/v1/import-templates/{template}/").status_code == 204


@pytest.mark.django_db
def test_a_column_or_id_that_is_not_ascii_digits_is_refused_not_a_500(api):
    """« 4³ » is digits to str.isdigit() but not to int() (schemathesis found it)."""
    response = api.post(
        "/api/v1/import-templates/",
        {"name": "Essai", "target": "contacts", "headers": ["Prénom", "Nom"],
         "mapping": {"4³": "first_name"}},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json() == {"mapping": ["Colonne inconnue : « 4³ »."]}


@pytest.mark.django_db
def test_applying_a_template_by_id(api):
    template = api.post(
        "/api/v1/import-templates/",
        {"name": "Emails seuls", "target": "contacts", "headers": ["X"],
         "mapping": {"0": "email"}},
        content_type="application/json",
    ).json()["id"]  # fmt: skip
    pk = upload(api).json()["id"]
    response = api.patch(f"{BASE}{pk}/", {"template": template}, content_type="application/json")
    assert response.json()["mapping"] == {"0": "email"}


@pytest.mark.django_db
def test_importing_needs_the_rights_on_the_target_too(org, api):
    profile = save_profile(
        organization=org, actor=Actor.system(), name="Imports seuls",
        rights={"imports": ["view", "add", "change"], "contacts": ["view"]},
    )  # fmt: skip
    member = Membership.objects.create(
        organization=org, user=make_user("imports@example.org"), profile=profile
    )
    client = api_client_for(member)
    assert upload(client).status_code == 403
    pk = upload(api).json()["id"]
    assert client.get(f"{BASE}{pk}/").status_code == 200
    assert client.post(f"{BASE}{pk}/check/").status_code == 403


@pytest.mark.django_db
def test_another_organisations_import_is_404(api, outsider_member):
    pk = upload(api).json()["id"]
    outsider = api_client_for(outsider_member)
    for method, url in [
        ("get", f"{BASE}{pk}/"),
        ("post", f"{BASE}{pk}/check/"),
        ("get", f"{BASE}{pk}/rejected/"),
        ("post", f"{BASE}{pk}/undo/"),
    ]:
        assert getattr(outsider, method)(url).status_code == 404  # fmt: skip
    assert outsider.get(BASE).json()["count"] == 0
    assert Import.objects.get(pk=pk).status == "uploaded"


@pytest.mark.django_db
def test_reading_the_file_again_with_another_delimiter(api):
    pk = upload(api, CSV.replace(";", ",")).json()["id"]
    response = api.patch(f"{BASE}{pk}/", {"delimiter": ";"}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["headers"] == ["Prénom,Nom,Email,Ville"]
    response = api.patch(f"{BASE}{pk}/", {"delimiter": ","}, content_type="application/json")
    assert response.json()["headers"] == ["Prénom", "Nom", "Email", "Ville"]
