"""A volunteer records a donation in the real browser, as issue 5 describes it.

From a contact's card: « Enregistrer un paiement », the payer already chosen, the
amount typed in euros. Back on the card the donation is listed and the contact now
carries the automatic « Donateur / Donatrice » label; the Dons table shows it with
its totals, and its filters tell a wrong amount beside the field.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from lien.contacts import services
from lien.core.audit import Actor
from lien.payments import services as payments
from lien.payments.models import Payment
from tests.conftest import PASSWORD, make_organization

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN = "admin@amis-du-parc.fr"


def log_in(page) -> None:
    page.goto("/connexion/")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label(re.compile(r"^Mot de passe")).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name=re.compile("^Bonjour"))).to_be_visible()


def test_a_donation_from_the_card_shows_in_the_table_and_labels_the_donor(browsing):
    organization = make_organization("Les Amis du Parc", ADMIN)
    actor = Actor.system()
    camille = services.create_contact(
        organization=organization,
        actor=actor,
        data={"first_name": "Camille", "last_name": "Roux", "email": "camille@example.org"},
    )
    paul = services.create_contact(
        organization=organization, actor=actor, data={"first_name": "Paul", "last_name": "Martin"}
    )
    payments.save_campaign(organization=organization, actor=actor, name="Printemps 2026")
    payments.create_payment(
        organization=organization, actor=actor, kind="don", amount="20", paid_on="2026-01-15",
        method="carte", payer_contact=paul,
    )  # fmt: skip
    page = browsing.new_page()
    log_in(page)

    # When the volunteer opens Camille's card: no payment, never a member yet
    page.goto(f"/contacts/{camille.pk}/")
    membership = page.locator("#adhesion")
    expect(membership).to_contain_text("Jamais adhérent")
    section = page.locator("#paiements")
    expect(section).to_contain_text("Aucun paiement pour l'instant.")
    section.get_by_role("link", name="Enregistrer un paiement").click()

    # And records a cheque of 75,50 € for the spring campaign, Camille already the payer
    expect(page.get_by_role("heading", name="Nouveau don")).to_be_visible()
    expect(page.get_by_role("checkbox", name=re.compile("Camille Roux"))).to_be_checked()
    page.get_by_label("Montant (€)").fill("75,50")
    page.get_by_label("Date du paiement").fill("2026-03-12")
    page.get_by_label("Moyen de paiement").select_option(label="Chèque")
    page.get_by_label("Campagne").select_option(label="Printemps 2026")
    browsing.screenshot(page, "formulaire-don")
    page.get_by_role("button", name="Enregistrer le paiement").click()

    # Then the card lists it and Camille carries the automatic donor label
    expect(page.get_by_text("Paiement enregistré : don de 75,50")).to_be_visible()
    expect(page.locator(".record-labels")).to_contain_text("Donateur / Donatrice")
    row = page.locator("#paiements tbody tr").first
    expect(row).to_contain_text("12/03/2026")
    expect(row).to_contain_text("75,50")
    expect(row).to_contain_text("Payé")
    expect(row).to_contain_text("Printemps 2026")
    browsing.screenshot(page, "fiche-paiements")

    # And the Dons table has both gifts, with their count and total loaded apart
    page.locator("#paiements").get_by_role("link", name="Dons (1)").click()
    expect(page.locator("#payment-results tbody tr")).to_have_count(1)
    expect(page.locator(".list-count")).to_contain_text("1 paiement · total 75,50")
    page.get_by_role("link", name="voir tous les paiements").click()
    expect(page.locator("#payment-results tbody tr")).to_have_count(2)
    expect(page.locator(".list-count")).to_contain_text("2 paiements · total 95,50")
    expect(page.locator("#payment-results tbody tr").first).to_contain_text("Camille Roux")
    browsing.screenshot(page, "table-dons")

    # When the amount filter is typed, the table and totals follow without reloading
    page.get_by_label("Montant min. (€)").fill("50")
    page.get_by_label("Montant min. (€)").press("Tab")
    expect(page.locator("#payment-results tbody tr")).to_have_count(1)
    expect(page.locator(".list-count")).to_contain_text("1 paiement · total 75,50")

    # And a wrong amount is told beside its field, without an error page
    page.get_by_label("Montant min. (€)").fill("cinquante")
    page.get_by_label("Montant min. (€)").press("Tab")
    expect(page.locator("#filter-error-amount_min")).to_have_text(
        "« cinquante » n'est pas un montant."
    )
    expect(page.get_by_text("Corrigez les critères signalés")).to_be_visible()
    browsing.screenshot(page, "table-dons-filtre-invalide")

    payment = Payment.objects.get(payer_contact=camille)
    assert (payment.amount_cents, payment.method, payment.campaign.name) == (
        7550,
        "cheque",
        "Printemps 2026",
    )

    # The payment's own page has its fields, its interaction and its history
    page.goto(f"/paiements/{payment.pk}/")
    expect(page.get_by_role("heading", name=re.compile("^Don de 75,50"))).to_be_visible()
    expect(page.locator(".history")).to_contain_text("Création")
    browsing.screenshot(page, "paiement")

    # A membership form shows the validity rule, and hides it when the type changes
    page.goto("/paiements/nouveau/?kind=adhesion")
    validity = page.locator("#payment-validity")
    expect(validity).to_contain_text("12 mois à partir de la date du paiement")
    page.get_by_label("Date du paiement").fill("2026-03-12")
    expect(validity).to_contain_text("du 12/03/2026 au 11/03/2027")
    browsing.screenshot(page, "formulaire-adhesion")
    page.get_by_label("Type").select_option(label="Don")
    expect(validity.get_by_label("Début de validité")).to_have_count(0)
