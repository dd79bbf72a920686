"""The HelloAsso connector's pages (Applis → HelloAsso) and its notification URL.

Against the fake HelloAsso of tests/helloasso_fake.py: the credentials (the secret never
shown back), « Tester la connexion », the three set-up steps, « Synchroniser
maintenant » with its job and the sync log, read-only and no-right profiles, and the
webhook: unknown token, malformed body, and one organisation's URL that never writes
into another's.
"""

# ruff: noqa: F811 (the fake_helloasso fixture is imported, then asked for by name)

from __future__ import annotations

import datetime as dt
import html
import json

import pytest
from django.test import Client
from django.urls import reverse

from lien.connectors.helloasso import services
from lien.connectors.models import HelloAssoConnection, HelloAssoForm, HelloAssoSyncRun
from lien.contacts import services as contacts
from lien.core.audit import Actor
from lien.core.models import Job, Profile
from lien.core.services import save_profile
from lien.payments.models import Payment
from tests.conftest import add_member, client_for
from tests.helloasso_fake import CLIENT_ID, CLIENT_SECRET, ORG_SLUG, fake_helloasso  # noqa: F401

pytestmark = pytest.mark.django_db

PAYER = {"firstName": "Hélène", "lastName": "Lefèvre", "email": "helene@example.org"}


def connect(organization, **overrides) -> HelloAssoConnection:
    values = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
              "organization_slug": ORG_SLUG} | overrides  # fmt: skip
    return services.save_credentials(organization=organization, actor=Actor.system(), **values)


def donation_form(fake, organization, *, selected: bool = True) -> HelloAssoForm:
    fake.add_form("Donation", "dons-2026", "Dons 2026")
    services.refresh_forms(organization=organization)
    form = HelloAssoForm.objects.for_org(organization).get(form_slug="dons-2026")
    if selected:
        services.choose_forms(organization=organization, actor=Actor.system(),
                              selected={form.pk: None})  # fmt: skip
    return form


def connectors_viewer(org):
    """A member whose profile may only look at the connector."""
    profile = save_profile(
        organization=org, actor=Actor.system(), name="Regard HelloAsso",
        rights={"connectors": ["view"]},
    )  # fmt: skip
    member = add_member(org, "regard@amis-du-parc.fr", "Lecteur")
    member.profile = profile
    member.save(update_fields=["profile"])
    return member


# The connector page -------------------------------------------------------------------


def test_an_unconnected_organisation_is_invited_to_set_up(admin_client):
    response = admin_client.get(reverse("helloasso"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Non connecté" in page
    assert "Commencer la configuration" in page
    assert "Aucune synchronisation pour l'instant." in page


def test_the_menu_offers_helloasso_to_those_with_the_connectors_right(org, admin_client,
                                                                      reader_client):  # fmt: skip
    def labels(client):
        menu = client.get(reverse("dashboard")).context["menu"]
        return {(s["title"], e["label"]) for s in menu for e in s["entries"]}

    assert ("Applis", "HelloAsso") in labels(admin_client)
    assert ("Applis", "HelloAsso") not in labels(reader_client)
    assert reader_client.get(reverse("helloasso")).status_code == 403


def test_the_page_shows_status_last_error_and_the_webhook_url(org, admin_client, settings):
    settings.SITE_URL = "https://lien.example.org"
    connection = connect(org)
    HelloAssoConnection.objects.filter(pk=connection.pk).update(
        last_error="HelloAsso répond une erreur 500 après 6 essais.",
        last_sync_at=dt.datetime(2026, 3, 12, 9, 30, tzinfo=dt.UTC),
    )

    page = admin_client.get(reverse("helloasso")).content.decode()

    assert "En erreur" in page
    assert "La dernière synchronisation a échoué." in page
    assert "HelloAsso répond une erreur 500 après 6 essais." in page
    url = f"https://lien.example.org/connecteurs/helloasso/webhook/{connection.webhook_token}/"
    assert f'value="{url}"' in page
    assert "Copier l'adresse" in page
    assert "Synchroniser maintenant" in page


def test_the_sync_log_lists_runs_with_counts_and_errors(
    org, admin_client, django_assert_max_num_queries
):
    connect(org)
    for day in (10, 11):
        HelloAssoSyncRun.objects.create(
            organization=org, trigger="planifié", status="réussi", contacts_created=day,
            contacts_updated=1, payments_created=day + 2, payments_updated=4,
            started_at=dt.datetime(2026, 3, day, 8, 0, tzinfo=dt.UTC),
            errors=[{"helloasso_id": "9001", "message": "Montant illisible."}] * (day - 10),
        )  # fmt: skip

    with django_assert_max_num_queries(20):
        response = admin_client.get(reverse("helloasso"))

    runs = list(response.context["runs"])
    assert [(r.contacts_created, r.payments_created, r.error_count) for r in runs] == [
        (11, 13, 1),
        (10, 12, 0),
    ]
    page = response.content.decode()
    assert "Planifiée" in page
    run_page = admin_client.get(reverse("helloasso_run", args=[runs[0].pk])).content.decode()
    assert "9001" in run_page and "Montant illisible." in run_page


def test_a_run_of_another_organisation_is_a_404(org, other_org, admin_client):
    run = HelloAssoSyncRun.objects.create(organization=other_org, trigger="manuel")

    assert admin_client.get(reverse("helloasso_run", args=[run.pk])).status_code == 404


# The connection ---------------------------------------------------------------------------


def test_credentials_are_saved_and_the_secret_is_never_shown_back(org, admin_client):
    response = admin_client.post(
        reverse("helloasso_connection"),
        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
         "organization_slug": "https://www.helloasso.com/associations/amis-du-lien/adhesions/x"},
    )  # fmt: skip

    assert response.status_code == 302
    connection = HelloAssoConnection.objects.get(organization=org)
    assert (connection.client_id, connection.organization_slug) == (CLIENT_ID, ORG_SLUG)
    assert connection.has_secret
    assert CLIENT_SECRET not in connection.client_secret_encrypted
    page = admin_client.get(reverse("helloasso_connection")).content.decode()
    assert CLIENT_SECRET not in page
    assert connection.client_secret_encrypted not in page
    assert 'placeholder="enregistré"' in page


def test_an_empty_secret_keeps_the_stored_one(org, admin_client, fake_helloasso):
    connect(org)

    admin_client.post(
        reverse("helloasso_connection"),
        {"client_id": CLIENT_ID, "client_secret": "", "organization_slug": ORG_SLUG},
    )
    check = services.test_connection(organization=org)

    assert check.ok, check.message


def test_bad_input_gets_a_french_message_on_its_field(org, admin_client):
    response = admin_client.post(
        reverse("helloasso_connection"),
        {"client_id": "mon id", "client_secret": "", "organization_slug": "Les Amis !"},
    )

    form = response.context["form"]
    assert response.status_code == 200
    assert form.errors["client_id"] == ["L'identifiant client ne contient pas d'espace."]
    assert form.errors["client_secret"] == ["Le secret client est obligatoire."]
    assert form.errors["organization_slug"][0].startswith("Identifiant illisible")
    assert not HelloAssoConnection.objects.filter(organization=org).exists()


def test_testing_the_connection_says_what_is_wrong(org, admin_client, fake_helloasso):
    connect(org)
    ok = admin_client.post(reverse("helloasso_test"), headers={"HX-Request": "true"})
    connect(org, client_secret="pas-le-bon-secret")
    wrong = admin_client.post(reverse("helloasso_test"), headers={"HX-Request": "true"})

    assert "Connexion réussie" in ok.content.decode()
    assert "La connexion a échoué." in wrong.content.decode()
    assert wrong.context["check"].ok is False
    assert wrong.context["check"].message


def test_a_read_only_profile_sees_the_set_up_without_forms_or_buttons(org):
    connect(org)
    client = client_for(connectors_viewer(org))

    page = client.get(reverse("helloasso_connection")).content.decode()
    main = client.get(reverse("helloasso")).content.decode()

    assert "Votre profil permet de consulter ce connecteur" in page
    assert 'name="client_id"' not in page
    assert "Synchroniser maintenant" not in main
    assert client.post(reverse("helloasso_sync")).status_code == 403
    assert client.post(reverse("helloasso_test")).status_code == 403


# The three steps --------------------------------------------------------------------------


def test_the_steps_need_the_credentials_first(org, admin_client):
    response = admin_client.get(reverse("helloasso_correspondences"))

    assert response.status_code == 302
    assert response["Location"] == reverse("helloasso_connection")


def test_step_1_shows_the_preconfigured_correspondences(org, admin_client):
    connect(org)

    page = html.unescape(admin_client.get(reverse("helloasso_correspondences")).content.decode())

    for helloasso_side, lien_side in services.CORRESPONDENCES:
        assert helloasso_side in page and lien_side in page
    assert "au choix, formulaire par formulaire (étape 3)" in page


def test_step_2_saves_the_start_date_and_refuses_the_future(org, admin_client):
    connect(org)
    future = admin_client.post(reverse("helloasso_start_date"), {"start_date": "2999-01-01"})
    saved = admin_client.post(reverse("helloasso_start_date"), {"start_date": "2026-01-01"})

    assert future.context["form"].errors["start_date"] == [
        "La date ne peut pas être dans le futur."
    ]
    assert saved["Location"] == f"{reverse('helloasso_forms')}?lire=1"
    assert HelloAssoConnection.objects.get(organization=org).start_date == dt.date(2026, 1, 1)


def test_step_3_lists_the_forms_and_a_checkout_needs_its_table(org, admin_client, fake_helloasso):
    connect(org)
    fake_helloasso.add_form("Membership", "adhesion-2026", "Adhésion 2026")
    fake_helloasso.add_form("Checkout", "page-federation", "Page de la fédération", state="Private")

    opened = admin_client.get(f"{reverse('helloasso_forms')}?lire=1").content.decode()
    read = admin_client.post(reverse("helloasso_forms_refresh"), headers={"HX-Request": "true"})
    listed = admin_client.get(reverse("helloasso_forms"))
    forms = {f.form_slug: f for f in HelloAssoForm.objects.for_org(org)}
    refused = admin_client.post(
        reverse("helloasso_forms"), {f"form_{forms['page-federation'].pk}": "on"}
    )
    saved = admin_client.post(
        reverse("helloasso_forms"),
        {f"form_{forms['page-federation'].pk}": "on", f"kind_{forms['page-federation'].pk}":
         "adhesion", f"form_{forms['adhesion-2026'].pk}": "on"},
    )  # fmt: skip

    assert "Lecture de vos formulaires sur HelloAsso" in opened
    assert read["HX-Redirect"] == reverse("helloasso_forms")
    page = listed.content.decode()
    assert "Adhésion 2026" in page and "Page de la fédération" in page
    assert "Checkout" in page and "Privé" in page
    assert refused.status_code == 200
    assert refused.context["form"].errors[f"kind_{forms['page-federation'].pk}"] == [
        "Choisissez la table où vont les paiements de ce formulaire."
    ]
    assert saved["Location"] == reverse("helloasso")
    chosen = {
        f.form_slug: (f.selected, f.checkout_kind) for f in HelloAssoForm.objects.for_org(org)
    }
    assert chosen == {"adhesion-2026": (True, ""), "page-federation": (True, "adhesion")}


def test_answers_to_questions_map_to_contact_fields(org, admin_client):
    connect(org)
    field = contacts.save_custom_field(
        organization=org, actor=Actor.system(), target="contact", name="Taille de t-shirt",
        field_type="text",
    )  # fmt: skip

    missing = admin_client.post(reverse("helloasso_questions"), {"question_0": "Taille"})
    saved = admin_client.post(
        reverse("helloasso_questions"),
        {"question_0": "Email de l'adhérent", "target_0": "email",
         "question_1": "  Taille  de t-shirt ", "target_1": f"custom:{field.key}"},
    )  # fmt: skip

    assert missing.context["form"].errors["target_0"] == [
        "Choisissez le champ que remplit la réponse."
    ]
    assert saved.status_code == 302
    assert HelloAssoConnection.objects.get(organization=org).field_mappings == {
        "Email de l'adhérent": "email",
        "Taille de t-shirt": f"custom:{field.key}",
    }
    page = admin_client.get(reverse("helloasso_questions")).content.decode()
    assert 'value="Email de l&#x27;adhérent"' in page


# Syncing ------------------------------------------------------------------------------------


def test_sync_now_runs_the_job_and_fills_the_log(org, admin_client, fake_helloasso,
                                                 django_capture_on_commit_callbacks):  # fmt: skip
    connect(org)
    donation_form(fake_helloasso, org)
    fake_helloasso.add_order(
        "Donation", "dons-2026", payer=PAYER, items=[{"name": "Don", "type": "Donation",
                                                      "amount": 5000}],
    )  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("helloasso_sync"))
    job = Job.objects.for_org(org).get()

    assert response["Location"] == f"{reverse('helloasso')}?tache={job.pk}"
    assert job.status == Job.Status.SUCCEEDED, job.message
    page = admin_client.get(response["Location"])
    assert page.context["job"] == job
    run = services.sync_runs(org).get()
    assert (run.trigger, run.status, run.payments_created) == ("manuel", "réussi", 1)
    assert Payment.objects.for_org(org).get().amount_cents == 5000
    assert "Manuelle" in page.content.decode()


def test_a_running_sync_is_found_again_after_a_reload(org, admin_client):
    connect(org)
    job = Job.objects.create(
        organization=org, kind="helloasso_sync", label="Synchronisation",
        status=Job.Status.RUNNING, progress_done=3, progress_total=10,
    )  # fmt: skip

    response = admin_client.get(reverse("helloasso"))

    assert response.context["job"] == job
    page = response.content.decode()
    assert f'hx-get="{reverse("job_progress", args=[job.pk])}"' in page
    assert "Synchronisation en cours" in page
    assert admin_client.get(reverse("job_progress", args=[job.pk])).status_code == 200


def test_sync_now_before_set_up_says_why(org, admin_client):
    response = admin_client.post(reverse("helloasso_sync"), follow=True)

    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        "HelloAsso n'est pas encore connecté : saisissez d'abord les identifiants de l'API."
    ]
    assert not Job.objects.for_org(org).exists()


# The webhook ------------------------------------------------------------------------------------


def notify(client, connection, payload) -> object:
    return client.post(
        reverse("helloasso_webhook", args=[connection.webhook_token]),
        data=json.dumps(payload),
        content_type="application/json",
    )


def test_the_webhook_refuses_unknown_tokens_and_bad_bodies(org, client):
    connection = connect(org)
    url = reverse("helloasso_webhook", args=[connection.webhook_token])

    assert client.post(reverse("helloasso_webhook", args=["inconnu"]), data="{}",
                       content_type="application/json").status_code == 404  # fmt: skip
    assert client.get(url).status_code == 405
    assert client.post(url, data="pas du json", content_type="application/json").status_code == 400
    assert client.post(url, data="[1, 2]", content_type="application/json").status_code == 400


def test_the_webhook_needs_no_login_and_no_csrf_token(org, fake_helloasso):
    connection = connect(org)
    donation_form(fake_helloasso, org)
    order = fake_helloasso.add_order(
        "Donation", "dons-2026", payer=PAYER,
        items=[{"name": "Don", "type": "Donation", "amount": 1200}],
    )  # fmt: skip
    helloasso = Client(enforce_csrf_checks=True)

    response = notify(helloasso, connection, {"eventType": "Order", "data": {"id": order["id"]}})

    assert response.status_code == 200
    assert response.json() == {"detail": "Notification reçue."}
    assert Payment.objects.for_org(org).get().amount_cents == 1200


def test_a_webhook_url_writes_only_into_its_own_organisation(org, other_org, client,
                                                             fake_helloasso):  # fmt: skip
    own, other = connect(org), connect(other_org)
    donation_form(fake_helloasso, org)
    donation_form(fake_helloasso, other_org)
    order = fake_helloasso.add_order(
        "Donation", "dons-2026", payer=PAYER, items=[{"name": "Don", "type": "Donation",
                                                      "amount": 2500}],
    )  # fmt: skip
    payload = {"eventType": "Order", "data": {"id": order["id"], "formSlug": "dons-2026",
                                              "formType": "Donation"}}  # fmt: skip

    first = notify(client, own, payload)
    replay = notify(client, own, payload)

    assert (first.status_code, replay.status_code) == (200, 200)
    assert Payment.objects.for_org(org).count() == 1
    assert Payment.objects.for_org(other_org).count() == 0
    # The other organisation's URL writes into the other organisation only.
    assert notify(client, other, payload).status_code == 200
    assert Payment.objects.for_org(other_org).count() == 1
    assert Payment.objects.for_org(org).count() == 1


def test_a_profile_without_the_connectors_right_gets_403_everywhere(org):
    connect(org)
    profile = Profile.objects.for_org(org).get(name="Éditeur")
    client = client_for(add_member(org, "editrice@amis-du-parc.fr", profile.name))

    for name in ("helloasso", "helloasso_connection", "helloasso_forms", "helloasso_questions"):
        assert client.get(reverse(name)).status_code == 403, name
