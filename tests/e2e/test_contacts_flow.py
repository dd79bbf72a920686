"""A volunteer records a new person in the real browser, as issue 3 describes it.

Create a contact with two labels and custom fields of three types, link it to a
structure and a household, add it to a group, find it by an accent-insensitive search.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from lien.contacts import services
from lien.contacts.models import Contact, ContactLabel
from lien.core.audit import Actor
from tests.conftest import PASSWORD, make_organization

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN = "admin@amis-du-parc.fr"


def log_in(page) -> None:
    page.goto("/connexion/")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label(re.compile(r"^Mot de passe")).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name=re.compile("^Bonjour"))).to_be_visible()


def test_record_a_person_with_labels_fields_structure_household_and_group(browsing):
    organization = make_organization("Les Amis du Parc", ADMIN)
    actor = Actor.system()
    for name, color in [("Bénévole", "#2f6f5e"), ("Donateur", "#1d4ed8")]:
        services.save_label(organization=organization, actor=actor, name=name, color=color)
    fields = {
        "enfants": ("Nombre d'enfants", "integer", []),
        "arrivee": ("Date d'arrivée", "date", []),
        "regime": ("Régime alimentaire", "choice", ["Végétarien", "Sans gluten"]),
    }
    for name, kind, choices in fields.values():
        services.save_custom_field(
            organization=organization, actor=actor, target="contact", name=name,
            field_type=kind, choices=choices,
        )  # fmt: skip
    services.create_structure(
        organization=organization, actor=actor, data={"name": "Mairie de Lyon"}
    )
    group = services.save_group(organization=organization, actor=actor, name="Gala 2026")
    page = browsing.new_page()
    log_in(page)

    # When the volunteer creates the contact with three kinds of custom field
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Contacts"
    ).click()
    page.get_by_role("link", name="Nouveau contact").click()
    page.get_by_label("Prénom").fill("Hélène")
    page.get_by_label("Nom", exact=True).fill("Lefèvre")
    page.get_by_label("Email", exact=True).fill("helene.lefevre@example.org")
    page.get_by_label("Téléphone portable").fill("06 12 34 56 78")
    page.get_by_label("Nombre d'enfants").fill("2")
    page.get_by_label("Date d'arrivée").fill("2021-11-03")
    page.get_by_label("Régime alimentaire").select_option("Végétarien")
    browsing.screenshot(page, "nouveau-contact")
    page.get_by_role("button", name="Enregistrer").click()

    # Then the card shows them
    expect(page.get_by_role("heading", name="Hélène Lefèvre")).to_be_visible()
    custom = page.locator("section", has=page.get_by_role("heading", name="Champs personnalisés"))
    expect(custom.locator("dd")).to_have_text(["2", "03/11/2021", "Végétarien"])

    # When two labels are added from the top of the card
    for label in ("Bénévole", "Donateur"):
        page.locator("summary", has_text="Ajouter une étiquette").click()
        page.locator(".dropdown-menu button", has_text=label).click()
    labels = page.locator(".record-labels > .label-badge")
    expect(labels).to_have_text(["Bénévole×", "Donateur×"])

    # When the contact is linked to a structure, found by the start of its name
    page.locator("summary", has_text="Lier à une structure").click()
    page.get_by_label("Structure", exact=True).fill("mair")
    page.locator("#structure-choices select").select_option(label="Mairie de Lyon")
    page.get_by_label("Fonction").fill("Élue")
    page.get_by_role("button", name="Lier", exact=True).click()
    expect(page.get_by_role("link", name="Mairie de Lyon")).to_be_visible()
    expect(page.get_by_text("— Élue")).to_be_visible()
    browsing.screenshot(page, "fiche-etiquettes-structure")

    # When a household is created from the card
    page.get_by_role("link", name="Créer un foyer").click()
    page.get_by_role("button", name="Créer le foyer").click()
    expect(page.get_by_role("heading", name="Foyer Lefèvre")).to_be_visible()
    expect(page.get_by_role("link", name="Hélène Lefèvre")).to_be_visible()
    browsing.screenshot(page, "foyer")

    # When the contact is found by an accent-insensitive search and added to a group
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name="Contacts"
    ).click()
    page.get_by_placeholder("Nom, prénom, email ou téléphone").fill("helene lef")
    expect(page.locator(".list-table tbody tr")).to_have_count(1)
    expect(page.locator(".list-table tbody")).to_contain_text("LEFÈVRE Hélène")
    expect(page.locator(".list-count")).to_have_text("1 contact")
    browsing.screenshot(page, "recherche-sans-accent")
    # The search refreshes the list as one types: let the last refresh land before ticking,
    # or a late swap replaces the ticked row (seen on a loaded machine).
    page.wait_for_load_state("networkidle")
    expect(page.locator(".list-table tbody tr")).to_have_count(1)
    page.locator(".list-table tbody input[name=ids]").check()
    expect(page.locator(".list-table tbody input[name=ids]")).to_be_checked()
    page.locator("select[name=action]").select_option("add_group")
    page.locator("select[name=group]").select_option(label="Gala 2026")
    page.get_by_role("button", name="Appliquer").click()
    expect(page.get_by_text("1 fiche(s) ajoutée(s) au groupe.")).to_be_visible()

    # And the list's group filter finds them, refreshing as soon as it changes
    page.get_by_placeholder("Nom, prénom, email ou téléphone").fill("")
    page.locator("select[name=groupe]").select_option(label="Gala 2026")
    expect(page.locator(".list-count")).to_have_text("1 contact")
    expect(page).to_have_url(re.compile(r"groupe=\d+"))

    # Then everything is on the card, and in the database
    page.get_by_role("link", name="LEFÈVRE Hélène").click()
    expect(page.get_by_role("link", name="Gala 2026")).to_be_visible()
    expect(page.get_by_role("link", name="Foyer Lefèvre")).to_be_visible()
    browsing.screenshot(page, "fiche-complete")
    contact = Contact.objects.get(last_name="Lefèvre")
    assert set(
        ContactLabel.objects.filter(contact=contact).values_list("label__name", flat=True)
    ) == {"Bénévole", "Donateur"}
    assert sorted(contact.custom.values(), key=str) == [2, "2021-11-03", "Végétarien"]
    assert contact.household.name == "Foyer Lefèvre"
    assert contact.group_memberships.get().group == group
    assert contact.phone_e164 == "+33612345678"
