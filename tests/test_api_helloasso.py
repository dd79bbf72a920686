"""The HelloAsso connector API (/api/v1/connectors/helloasso/), against the fake HelloAsso.

The whole set-up by a script: credentials (the secret write-only), slug, start date,
questions; the forms read, chosen and routed; a sync triggered and followed by its job;
the sync log. Rights: « connectors » view to read, change to write.
"""

# ruff: noqa: F811 (the fake_helloasso fixture is imported, then asked for by name)

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from lien.connectors.helloasso import services
from lien.connectors.models import HelloAssoConnection, HelloAssoForm, HelloAssoSyncRun
from lien.core.audit import Actor
from lien.payments.models import Payment
from tests.conftest import api_client_for
from tests.helloasso_fake import CLIENT_ID, CLIENT_SECRET, ORG_SLUG, fake_helloasso  # noqa: F401

pytestmark = pytest.mark.django_db

URL = "/api/v1/connectors/helloasso/"
PAYER = {"firstName": "Inès", "lastName": "Benali", "email": "ines@example.org"}


@pytest.fixture
def api(admin_member):
    return api_client_for(admin_member)


def patch(client, url: str, data: dict):
    return client.patch(url, data=data, content_type="application/json")


def connect(client) -> dict:
    response = patch(client, URL, {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                   "organization_slug": ORG_SLUG})  # fmt: skip
    assert response.status_code == 200, response.json()
    return response.json()


def test_the_urls_are_the_documented_ones():
    assert reverse("api-helloasso") == URL
    assert reverse("api-helloasso-forms-refresh") == f"{URL}forms/refresh/"
    assert reverse("api-helloasso-syncs-list") == f"{URL}syncs/"


def test_an_unconnected_organisation_reads_empty_settings(api):
    data = api.get(URL).json()

    assert data["configured"] is False
    assert data["webhook_url"] is None
    assert data["has_secret"] is False
    assert "client_secret" not in data


def test_settings_take_json_only(api):
    """A form or multipart body (a number, say) is refused, not read as « no change »."""
    response = api.patch(URL, data="3491774032", content_type="multipart/form-data; boundary=x")

    assert response.status_code == 415
    assert api.patch(URL, data={"enabled": False}).status_code == 415  # multipart by default


def test_credentials_are_saved_and_the_secret_is_write_only(org, api, settings):
    settings.SITE_URL = "https://lien.example.org"

    data = connect(api)
    kept = patch(api, URL, {"client_id": "autre-client"}).json()

    connection = HelloAssoConnection.objects.get(organization=org)
    assert data["configured"] is True and data["has_secret"] is True
    assert CLIENT_SECRET not in str(data) and "client_secret" not in data
    assert data["webhook_url"] == (
        f"https://lien.example.org/connecteurs/helloasso/webhook/{connection.webhook_token}/"
    )
    assert (kept["client_id"], kept["has_secret"]) == ("autre-client", True)
    assert connection.client_secret_encrypted and CLIENT_SECRET not in (
        connection.client_secret_encrypted
    )


def test_bad_input_is_a_400_naming_the_field(org, api):
    no_secret = patch(api, URL, {"client_id": CLIENT_ID, "organization_slug": ORG_SLUG})
    bad_slug = patch(api, URL, {"client_id": CLIENT_ID, "client_secret": "s",
                                "organization_slug": "Les Amis !"})  # fmt: skip
    no_connection = patch(api, URL, {"start_date": "2026-01-01"})
    wrong_type = patch(api, URL, {"client_id": 12})

    assert no_secret.status_code == 400
    assert no_secret.json() == {"client_secret": ["Le secret client est obligatoire."]}
    assert bad_slug.status_code == 400
    assert bad_slug.json()["organization_slug"][0].startswith("Identifiant illisible")
    assert no_connection.status_code == 400
    assert no_connection.json() == {
        "detail": ["Enregistrez d'abord les identifiants de l'API HelloAsso."]
    }
    assert wrong_type.status_code == 400
    assert not HelloAssoConnection.objects.filter(organization=org).exists()


def test_start_date_and_questions(org, api):
    connect(api)

    future = patch(api, URL, {"start_date": "2999-01-01"})
    unknown = patch(api, URL, {"field_mappings": {"Pointure": "shoe_size"}})
    saved = patch(api, URL, {"start_date": "2026-01-15",
                             "field_mappings": {"Email de l'adhérent": "email"}})  # fmt: skip

    assert future.json() == {"start_date": ["La date ne peut pas être dans le futur."]}
    assert unknown.status_code == 400
    assert unknown.json() == {
        "field_mappings": ["« Pointure » : « shoe_size » n'est pas un champ des contacts."]
    }
    assert saved.status_code == 200
    assert (saved.json()["start_date"], saved.json()["field_mappings"]) == (
        "2026-01-15", {"Email de l'adhérent": "email"},
    )  # fmt: skip


def test_testing_the_connection(api, fake_helloasso):
    before = api.post(f"{URL}test/").json()
    connect(api)
    ok = api.post(f"{URL}test/").json()
    patch(api, URL, {"organization_slug": "inconnue"})
    unknown = api.post(f"{URL}test/").json()

    assert before["ok"] is False
    assert ok["ok"] is True and "Les Amis du Lien" in ok["message"]
    assert unknown["ok"] is False and "inconnue" in unknown["message"]


def test_forms_are_read_chosen_and_routed(org, api, fake_helloasso):
    connect(api)
    fake_helloasso.add_form("Donation", "dons", "Dons")
    fake_helloasso.add_form("Checkout", "federation", "Page de la fédération")

    listed = api.post(f"{URL}forms/refresh/").json()
    forms = {f["form_slug"]: f for f in listed}
    checkout = f"{URL}forms/{forms['federation']['id']}/"
    no_table = patch(api, checkout, {"selected": True})
    routed = patch(api, checkout, {"selected": True, "checkout_kind": "adhesion"}).json()
    donation = patch(api, f"{URL}forms/{forms['dons']['id']}/", {"selected": True}).json()
    page = api.get(f"{URL}forms/").json()

    assert [(f["form_type"], f["table"], f["selected"]) for f in listed] == [
        ("Checkout", None, False),
        ("Donation", "don", False),
    ]
    assert no_table.status_code == 400
    assert no_table.json() == {
        "checkout_kind": ["Choisissez la table où vont les paiements de ce formulaire."]
    }
    assert (routed["selected"], routed["table"]) == (True, "adhesion")
    assert (donation["selected"], donation["table"]) == (True, "don")
    assert page["count"] == 2
    chosen = HelloAssoForm.objects.for_org(org).filter(selected=True)
    assert sorted(chosen.values_list("form_slug", "checkout_kind")) == [
        ("dons", ""),
        ("federation", "adhesion"),
    ]


def test_a_sync_is_triggered_followed_and_logged(org, api, fake_helloasso,
                                                 django_capture_on_commit_callbacks):  # fmt: skip
    connect(api)
    fake_helloasso.add_form("Donation", "dons", "Dons")
    form = api.post(f"{URL}forms/refresh/").json()[0]
    patch(api, f"{URL}forms/{form['id']}/", {"selected": True})
    fake_helloasso.add_order(
        "Donation", "dons", payer=PAYER, items=[{"name": "Don", "type": "Donation", "amount": 3000}]
    )

    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"{URL}syncs/")
    job = api.get(f"{URL}syncs/{started.json()['id']}/").json()
    runs = api.get(f"{URL}runs/").json()
    run = api.get(f"{URL}runs/{runs['results'][0]['id']}/").json()

    assert started.status_code == 201
    assert job["status"] == "succeeded", job["message"]
    assert runs["count"] == 1
    assert (run["trigger"], run["status"], run["payments_created"], run["errors"]) == (
        "manuel", "réussi", 1, [],
    )  # fmt: skip
    assert Payment.objects.for_org(org).get().amount_cents == 3000


def test_a_sync_before_set_up_is_refused(api):
    response = api.post(f"{URL}syncs/")

    assert response.status_code == 400
    assert response.json() == {
        "detail": ["Enregistrez d'abord les identifiants de l'API HelloAsso."]
    }


def test_the_log_shows_errors_with_their_helloasso_id(org, api):
    run = HelloAssoSyncRun.objects.create(
        organization=org, trigger="webhook", status="échec",
        started_at=dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC),
        errors=[{"helloasso_id": "5150", "message": "Paiement sans article."}],
    )  # fmt: skip

    listed = api.get(f"{URL}runs/").json()["results"][0]
    detail = api.get(f"{URL}runs/{run.pk}/").json()

    assert (listed["error_count"], "errors" in listed) == (1, False)
    assert detail["errors"] == [{"helloasso_id": "5150", "message": "Paiement sans article."}]


def test_rights_and_isolation(org, other_org, reader_member, outsider_member):
    services.save_credentials(organization=org, actor=Actor.system(), client_id=CLIENT_ID,
                              client_secret=CLIENT_SECRET, organization_slug=ORG_SLUG)  # fmt: skip
    run = HelloAssoSyncRun.objects.create(organization=org, trigger="manuel")
    reader, outsider = api_client_for(reader_member), api_client_for(outsider_member)

    assert reader.get(URL).status_code == 403
    assert patch(reader, URL, {"start_date": "2026-01-01"}).status_code == 403
    assert reader.post(f"{URL}syncs/").status_code == 403
    assert outsider.get(f"{URL}runs/{run.pk}/").status_code == 404
    assert outsider.get(URL).json()["configured"] is False
