"""A volunteer records interactions in the real browser, as issue 4 describes it.

One interaction from a contact card (a new label typed on the fly), the timeline
filtered by status, then « Invitation gala envoyée » to a whole group in one action,
seen on the group page and in the Interactions table.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from lien.contacts import services
from lien.core.audit import Actor
from lien.interactions.models import Interaction
from tests.conftest import PASSWORD, make_organization

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN = "admin@amis-du-parc.fr"


def log_in(page) -> None:
    page.goto("/connexion/")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label(re.compile(r"^Mot de passe")).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name=re.compile("^Bonjour"))).to_be_visible()


def test_record_from_the_card_then_for_a_whole_group(browsing):
    organization = make_organization("Les Amis du Parc", ADMIN)
    actor = Actor.system()
    helene = services.create_contact(
        organization=organization,
        actor=actor,
        data={"first_name": "Hélène", "last_name": "Lefèvre", "email": "helene@example.org"},
    )
    mairie = services.create_structure(
        organization=organization, actor=actor, data={"name": "Mairie de Lyon"}
    )
    services.save_structure_link(
        organization=organization, actor=actor, contact=helene, structure=mairie, role="Élue"
    )
    guests = [
        services.create_contact(
            organization=organization, actor=actor, data={"first_name": f, "last_name": n}
        )
        for f, n in [("Paul", "Martin"), ("Inès", "Benali"), ("Louis", "Garnier")]
    ]
    group = services.save_group(organization=organization, actor=actor, name="Gala 2026")
    services.add_to_group(
        organization=organization,
        actor=actor,
        group=group,
        contact_ids=[helene.pk] + [g.pk for g in guests],
    )
    page = browsing.new_page()
    log_in(page)

    # When the volunteer records a phone call from Hélène's card
    page.goto(f"/contacts/{helene.pk}/")
    section = page.locator("#contact-interactions")
    expect(section.get_by_text("Aucune interaction pour l'instant.")).to_be_visible()
    section.locator("summary", has_text="Ajouter une interaction").click()
    form = section.locator("form.interaction-form")
    form.get_by_label(re.compile("^Type")).select_option(label="Appel téléphonique")
    form.get_by_label(re.compile("^Date")).fill("2026-05-04T18:30")
    form.get_by_label("ou nouveau libellé").fill("Renouvellement adhésion")
    form.get_by_label("Avec la structure").select_option(label="Mairie de Lyon")
    form.get_by_label("Description").fill("Rappeler en septembre pour le forum.")
    browsing.screenshot(page, "fiche-ajout-interaction")
    form.get_by_role("button", name="Enregistrer l'interaction").click()

    # Then the card's timeline shows it, with its time, status and who recorded it
    expect(page.get_by_text("Interaction « Appel téléphonique » enregistrée.")).to_be_visible()
    row = page.locator("#contact-interactions tbody tr").first
    expect(row).to_contain_text("04/05/2026")
    expect(row).to_contain_text("18:30")
    expect(row).to_contain_text("Appel téléphonique")
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("Renouvellement adhésion")
    expect(row).to_contain_text("Mairie de Lyon")
    expect(row).to_contain_text("Saisie manuelle")
    browsing.screenshot(page, "fiche-chronologie")

    # And the timeline filters by status without reloading the page
    status = page.locator("#contact-interactions .section-filters").get_by_label("Statut")
    status.select_option("passive")
    expect(
        page.locator("#contact-interactions").get_by_text("Aucune interaction pour ces critères.")
    ).to_be_visible()
    status.select_option("")
    expect(page.locator("#contact-interactions tbody tr")).to_have_count(1)

    # When the gala invitation is recorded for the whole group
    page.goto(f"/groupes/{group.pk}/")
    page.get_by_role("link", name="Enregistrer une interaction pour tout le groupe").click()
    expect(page.get_by_text("4 contacts", exact=True)).to_be_visible()
    page.get_by_label("ou nouveau type").fill("Invitation gala envoyée")
    page.get_by_label("Statut").select_option("passive")
    page.get_by_label("ou nouveau libellé").fill("Gala 2026")
    browsing.screenshot(page, "groupe-interaction-groupee")
    page.get_by_role("button", name="Enregistrer pour 4 contacts").click()

    # Then the group page lists one invitation per member
    expect(page.get_by_text("Interaction enregistrée pour 4 contacts.")).to_be_visible()
    rows = page.locator("#group-interactions tbody tr")
    expect(rows.filter(has_text="Invitation gala envoyée")).to_have_count(4)
    expect(rows.filter(has_text="Invitation gala envoyée").first).to_contain_text("passive")
    browsing.screenshot(page, "groupe-interactions")

    # And the Interactions table has all five, filterable by type
    menu = page.get_by_role("navigation", name="Menu principal")
    menu.get_by_role("link", name="Interactions").first.click()  # the second is the settings
    expect(page.get_by_text("5 interactions")).to_be_visible()
    page.get_by_label("Type").select_option(label="Appel téléphonique")
    expect(page.locator("#interaction-results tbody tr")).to_have_count(1)
    expect(page.get_by_text("1 interaction", exact=True)).to_be_visible()
    browsing.screenshot(page, "table-interactions")

    assert sorted(
        Interaction.objects.filter(type__name="Invitation gala envoyée").values_list(
            "contact__last_name", flat=True
        )
    ) == ["Benali", "Garnier", "Lefèvre", "Martin"]
