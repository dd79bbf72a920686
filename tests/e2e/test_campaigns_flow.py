"""A treasurer follows a campaign and exports the accounts in the real browser.

A campaign created from the list, donations recorded in it, its progress bar on its
page and in the list; then the payment settings, and the accounting export: the
preview follows the dates, the job gives the file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from lien.contacts import services as contacts
from lien.core.audit import Actor
from lien.payments import services
from lien.payments.models import Campaign
from tests.conftest import PASSWORD, make_organization

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN = "admin@amis-du-parc.fr"


def log_in(page) -> None:
    page.goto("/connexion/")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label(re.compile(r"^Mot de passe")).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name=re.compile("^Bonjour"))).to_be_visible()


def test_a_campaign_from_creation_to_its_progress_bar_then_the_accounting_export(browsing):
    organization = make_organization("Les Amis du Parc", ADMIN)
    actor = Actor.system()
    alice, bob = (
        contacts.create_contact(
            organization=organization, actor=actor, data={"first_name": f, "last_name": n}
        )
        for f, n in [("Alice", "Durand"), ("Bruno", "Petit")]
    )
    page = browsing.new_page()
    log_in(page)

    # When the treasurer creates a campaign from the list
    page.goto("/campagnes/")
    expect(page.get_by_text("Aucune campagne pour l'instant.")).to_be_visible()
    page.get_by_role("link", name="Nouvelle campagne").click()
    page.get_by_label("Nom").fill("Jardin partagé 2026")
    page.get_by_label("Type de paiements").select_option(label="Don")
    page.get_by_label("Début").fill("2026-01-01")
    page.get_by_label("Fin").fill("2026-12-31")
    page.get_by_label("Objectif (€)").fill("1 000")
    page.get_by_label("Description").fill("Des bacs, des outils et un récupérateur d'eau.")
    browsing.screenshot(page, "campagne-creation")
    page.get_by_role("button", name="Créer la campagne").click()

    # Then its page shows nothing collected yet
    expect(page.get_by_text("Campagne « Jardin partagé 2026 » enregistrée.")).to_be_visible()
    expect(page.get_by_role("heading", name="Jardin partagé 2026")).to_be_visible()
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "0")

    # When donations are recorded in it (one still pending)
    campaign = Campaign.objects.get(name="Jardin partagé 2026")
    for payer, amount, status in [
        (alice, "300", "paye"),
        (bob, "150", "paye"),
        (bob, "80", "en_attente"),
    ]:
        services.create_payment(
            organization=organization, actor=actor, kind="don", amount=amount,
            paid_on="2026-03-15", method="cheque", payer_contact=payer, campaign=campaign,
            status=status,
        )  # fmt: skip
    page.reload()

    # Then the bar, the payers and the payments follow the paid ones only
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "45")
    expect(page.get_by_text(re.compile(r"45\s%\sde l'objectif"))).to_be_visible()
    expect(page.locator(".tile").filter(has_text="payeurs")).to_contain_text("2")
    expect(page.locator("#campaign-payments tbody tr")).to_have_count(3)
    expect(page.locator("#campaign-payments")).to_contain_text("En attente")
    browsing.screenshot(page, "campagne-progression")

    # And the list shows the same progress
    page.get_by_role("link", name="Campagnes").first.click()
    row = page.locator("tbody tr").filter(has_text="Jardin partagé 2026")
    expect(row.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "45")
    expect(row).to_contain_text("45 %")
    expect(row).to_contain_text("du 01/01/2026 au 31/12/2026")
    browsing.screenshot(page, "campagnes-liste")

    # When the treasurer tries to delete it, the page says why it cannot go
    page.get_by_role("link", name="Jardin partagé 2026").click()
    page.get_by_role("link", name="Supprimer").click()
    expect(
        page.get_by_text(re.compile("3 paiements sont rattachés à cette campagne"))
    ).to_be_visible()

    # The payment settings explain the automatic labels
    page.goto("/parametres/paiements/")
    expect(page.locator("#etiquettes tbody tr")).to_have_count(4)
    expect(page.locator("#etiquettes")).to_contain_text("2 contacts")
    browsing.screenshot(page, "reglages-paiements")

    # The accounting export previews the period, then writes the file in a job
    page.goto("/export-comptable/")
    page.get_by_label("Du").fill("2026-01-01")
    page.get_by_label("Au").fill("2026-12-31")
    expect(page.locator("#preview-count")).to_have_text("2")
    page.get_by_label("FEC, séparateur barre verticale |").check()
    browsing.screenshot(page, "export-comptable")
    page.get_by_role("button", name="Lancer l'export").click()
    expect(page.get_by_text(re.compile(r"2 écritures, 4 lignes"))).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le fichier").click()
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("JournalCode|JournalLib|EcritureNum|")
    assert len(lines) == 1 + 4
    browsing.screenshot(page, "export-comptable-termine")
