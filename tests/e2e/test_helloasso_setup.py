"""An administrator connects HelloAsso in the real browser, against the fake HelloAsso
(tests/helloasso_fake.py), as issue 8 describes it.

Applis › HelloAsso: the credentials (the page address pasted for the slug), « Tester la
connexion », step 1 the correspondences, step 2 the start date, step 3 the forms read
from the API (a federation's Checkout page routed to Adhésions), the notification URL
copied, « Synchroniser maintenant » and its result in the log; the donations are then
in the Dons table and the federation's membership in Adhésions.

Jobs run with the tests' immediate task backend (tests/conftest.py): the sync ends
within the request that starts it.
"""

# ruff: noqa: F811 (the fake_helloasso fixture is imported, then asked for by name)

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from lien.connectors.models import HelloAssoConnection
from lien.payments.models import Payment
from tests.conftest import PASSWORD, make_organization
from tests.helloasso_fake import CLIENT_ID, CLIENT_SECRET, ORG_SLUG, fake_helloasso  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN = "admin@amis-du-parc.fr"
WHEN = dt.datetime(2026, 3, 10, 14, 30, tzinfo=dt.UTC)


def log_in(page) -> None:
    page.goto("/connexion/")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label(re.compile(r"^Mot de passe")).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name=re.compile("^Bonjour"))).to_be_visible()


def helloasso_account(fake) -> None:
    """Two donations, a federation's membership page, and a shop nobody chose."""
    fake.add_form("Donation", "dons-2026", "Dons 2026")
    fake.add_form("Checkout", "page-federation", "Adhésion via la fédération", state="Private")
    fake.add_form("Shop", "boutique", "Boutique solidaire")
    fake.add_order(
        "Donation", "dons-2026", date=WHEN,
        payer={"firstName": "Hélène", "lastName": "Lefèvre", "email": "helene@example.org"},
        items=[{"name": "Don", "type": "Donation", "amount": 5000}],
    )  # fmt: skip
    fake.add_order(
        "Donation", "dons-2026", date=WHEN + dt.timedelta(days=1),
        payer={"firstName": "Inès", "lastName": "Benali", "email": "ines@example.org"},
        items=[{"name": "Don", "type": "Donation", "amount": 2500}],
    )  # fmt: skip
    fake.add_order(
        "Checkout", "page-federation", date=WHEN,
        payer={"firstName": "Paul", "lastName": "Martin", "email": "paul@example.org"},
        items=[{"name": "Adhésion 2026", "type": "Membership", "amount": 3000}],
    )  # fmt: skip


def test_connect_helloasso_in_three_steps_then_sync(browsing, fake_helloasso):
    organization = make_organization("Les Amis du Parc", ADMIN)
    helloasso_account(fake_helloasso)
    page = browsing.new_page()
    log_in(page)

    # Given the connector page, from the menu: not connected yet
    page.get_by_role("link", name="HelloAsso").click()
    expect(page.get_by_role("heading", name="HelloAsso", exact=True)).to_be_visible()
    expect(page.locator("#helloasso-status")).to_have_text("Non connecté")
    browsing.screenshot(page, "connecteur-vide")
    page.get_by_role("link", name="Commencer la configuration").click()

    # When the administrator types the credentials, pasting the page address for the slug
    page.get_by_label("Identifiant client (client id)").fill(CLIENT_ID)
    page.get_by_label("Secret client (client secret)").fill(CLIENT_SECRET)
    page.get_by_label("Identifiant de l'association sur HelloAsso").fill(
        f"https://www.helloasso.com/associations/{ORG_SLUG}"
    )
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Identifiants enregistrés.")).to_be_visible()

    # Then the secret is not shown back, and the connection test says it works
    secret = page.get_by_label("Secret client (client secret)")
    expect(secret).to_have_value("")
    expect(secret).to_have_attribute("placeholder", "enregistré")
    page.get_by_role("button", name="Tester la connexion").click()
    expect(page.locator("#helloasso-test-result")).to_contain_text("Connexion réussie")
    expect(page.locator("#helloasso-test-result")).to_contain_text("Les Amis du Lien")
    browsing.screenshot(page, "connexion")

    # Step 1: the correspondences, read-only
    page.get_by_role("link", name="Continuer : les correspondances").click()
    expect(page.get_by_role("heading", name="Étape 1 : les correspondances")).to_be_visible()
    expect(page.locator("#helloasso-kinds")).to_contain_text("au choix, formulaire par formulaire")
    browsing.screenshot(page, "etape-1")
    page.get_by_role("link", name="Continuer : la date de début").click()

    # Step 2: the start date
    expect(page.get_by_role("heading", name="Étape 2 : la date de début")).to_be_visible()
    page.get_by_label("Importer les paiements et contacts à partir du").fill("2026-01-01")
    browsing.screenshot(page, "etape-2")
    page.get_by_role("button", name="Continuer : les campagnes").click()

    # Step 3: the forms, read from HelloAsso as the page opens
    expect(page.get_by_role("heading", name="Étape 3 : les campagnes à importer")).to_be_visible()
    expect(page.get_by_text("3 formulaires lus sur HelloAsso.")).to_be_visible()
    table = page.locator(".connector-forms")
    expect(table).to_contain_text("Dons 2026")
    expect(table).to_contain_text("Privé")
    page.get_by_label("Dons 2026").check()
    page.get_by_label("Adhésion via la fédération", exact=True).check()
    page.get_by_role("button", name="Enregistrer et terminer").click()

    # A Checkout form without its table is refused, beside the field
    refusal = "Choisissez la table où vont les paiements de ce formulaire."
    expect(page.get_by_text(refusal)).to_be_visible()
    page.get_by_label("Table des paiements de « Adhésion via la fédération »").select_option(
        label="Adhésions"
    )
    browsing.screenshot(page, "etape-3")
    page.get_by_role("button", name="Enregistrer et terminer").click()

    # Back on the connector page: ready, with its notification URL to copy
    expect(page.get_by_text("2 formulaires à importer.")).to_be_visible()
    expect(page.locator("#helloasso-status")).to_have_text("Connecté, jamais synchronisé")
    connection = HelloAssoConnection.objects.get(organization=organization)
    expect(page.locator("#helloasso-webhook-url")).to_have_value(
        re.compile(rf"/connecteurs/helloasso/webhook/{connection.webhook_token}/$")
    )
    page.get_by_role("button", name="Copier l'adresse").click()
    expect(page.get_by_role("button", name="Copiée !")).to_be_visible()

    # When « Synchroniser maintenant » is clicked
    page.get_by_role("button", name="Synchroniser maintenant").click()

    # Then the job has run, and the log tells what it wrote
    expect(page.locator(".job")).to_contain_text("Terminé")
    expect(page.locator("#helloasso-status")).to_have_text("Connecté")
    first_run = page.locator("#helloasso-runs tbody tr").first
    expect(first_run).to_contain_text("Manuelle")
    expect(first_run).to_contain_text("Réussie")
    browsing.screenshot(page, "synchronisee")

    # And the donations are in the Dons table, the federation's membership in Adhésions
    page.get_by_role("link", name="Dons", exact=True).click()
    rows = page.locator("table tbody")
    expect(rows).to_contain_text("Lefèvre")
    expect(rows).to_contain_text("Benali")
    expect(rows).to_contain_text("50,00")
    browsing.screenshot(page, "dons")
    page.get_by_role("link", name="Adhésions", exact=True).click()
    expect(page.locator("table tbody")).to_contain_text("Martin")
    payments = Payment.objects.for_org(organization)
    assert sorted(payments.values_list("kind", "amount_cents")) == [
        ("adhesion", 3000),
        ("don", 2500),
        ("don", 5000),
    ]
