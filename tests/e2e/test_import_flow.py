"""A volunteer imports a French spreadsheet export (semicolons, Windows-1252) with one bad
email through the wizard: what Lien read, the mapping, the check and its error row, the
run skipping that row, the result counts and the rejected rows file (issue 7).

Jobs run with the tests' immediate task backend (tests/conftest.py): the check and the
run end within the request that starts them, as the exports browser test's jobs do.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from lien.contacts import services as contacts
from lien.contacts.models import Contact
from lien.core.audit import Actor
from lien.imports.models import Import
from tests.conftest import PASSWORD, make_organization

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN = "admin@amis-du-parc.fr"
CSV = (
    "Prénom;Nom;E-mail;Code postal;Ville;Tél. portable;Régime;Société\r\n"
    "Hélène;Lefèvre;helene@example.org;69003;Lyon;06 12 34 56 78;Végétarien;Mairie de Lyon\r\n"
    "François;Dupré;francois.dupre@;75011;Paris;;;\r\n"
    "Inès;Benali;ines@example.org;38080;L’Isle-d’Abeau;07 11 22 33 44;veggie;\r\n"
)


def log_in(page) -> None:
    page.goto("/connexion/")
    page.get_by_label("Email").fill(ADMIN)
    page.get_by_label(re.compile(r"^Mot de passe")).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name=re.compile("^Bonjour"))).to_be_visible()


def rejected_rows(download) -> list[list[str]]:
    content = download.path().read_bytes().decode("cp1252")
    return list(csv.reader(io.StringIO(content, newline=""), delimiter=";"))


def association():
    organization = make_organization("Les Amis du Parc", ADMIN)
    actor = Actor.system()
    contacts.save_custom_field(
        organization=organization, actor=actor, target="contact", name="Régime",
        field_type="choice", choices=["Végétarien", "Sans gluten"],
    )  # fmt: skip
    label = contacts.save_label(
        organization=organization, actor=actor, name="Adhérent 2024", color="#2f6f5e"
    )
    return organization, label


def test_import_a_french_csv_with_one_bad_email(browsing):
    organization, label = association()
    page = browsing.new_page()
    log_in(page)

    # Given the imports page, from the menu
    page.get_by_role("link", name="Importer").click()
    expect(page.get_by_role("heading", name="Imports")).to_be_visible()
    page.get_by_role("link", name="Nouvel import").click()

    # When the volunteer uploads the association's French CSV
    expect(page.get_by_label("Contacts")).to_be_checked()
    page.get_by_label("Fichier").set_input_files(
        files=[{"name": "adhérents.csv", "mimeType": "text/csv", "buffer": CSV.encode("cp1252")}]
    )
    browsing.screenshot(page, "depot")
    page.get_by_role("button", name="Lire le fichier").click()

    # Then Lien says what it read, and previews the rows with their accents
    expect(page.locator("#detected-encoding")).to_have_text("Windows-1252")
    expect(page.locator("#detected-delimiter")).to_contain_text("point-virgule")
    expect(page.locator(".import-preview")).to_contain_text("François")
    browsing.screenshot(page, "fichier-lu")

    # When the suggested mapping is kept
    page.get_by_role("link", name="Continuer : les correspondances").click()
    expect(page.get_by_label("Champ pour « Prénom »")).to_have_value("first_name")
    expect(page.get_by_label("Champ pour « E-mail »")).to_have_value("email")
    expect(page.get_by_label("Champ pour « Tél. portable »")).to_have_value("mobile")
    expect(page.get_by_label("Champ pour « Société »")).to_have_value("structure")
    # « Créer un champ personnalisé… » shows its name and type, then hides them again
    new_field = page.locator("#new-4")
    expect(new_field).to_be_hidden()
    page.get_by_label("Champ pour « Ville »").select_option("__nouveau__")
    expect(new_field).to_be_visible()
    page.get_by_label("Champ pour « Ville »").select_option("city")
    expect(new_field).to_be_hidden()
    # « veggie » is no choice of « Régime »: the volunteer says which one it is
    expect(page.get_by_label("Champ pour « Régime »")).to_have_value("custom.regime")
    page.get_by_label("Choix pour « veggie »").select_option("Végétarien")
    page.get_by_label("Adhérent 2024").check()
    page.evaluate("window.scrollTo(0, 0)")  # the sticky bars stay at the top of the shot
    browsing.screenshot(page, "correspondances")
    page.get_by_role("button", name="Vérifier le fichier").click()

    # Then the check names the row in error, and nothing is written yet
    expect(page.locator("#import-summary")).to_have_text(
        "2 à créer, 0 à mettre à jour, 0 inchangé, 1 en erreur"
    )
    error_row = page.locator("#import-errors tbody tr")
    expect(error_row).to_have_count(1)
    expect(error_row).to_contain_text("3")
    expect(error_row).to_contain_text("E-mail")
    expect(error_row).to_contain_text("« francois.dupre@ »")
    assert Contact.objects.for_org(organization).count() == 0
    browsing.screenshot(page, "verification")

    # When the import is launched, skipping the row in error
    page.get_by_label("Ignorer la ligne en erreur et importer les autres").check()
    page.get_by_role("button", name="Lancer l'import").click()

    # Then the result counts the rows, and the rejected rows download
    expect(page.get_by_role("heading", name="Import terminé")).to_be_visible()
    expect(page.locator("#import-result")).to_have_text(
        "2 créé(s), 0 mis à jour, 0 inchangé(s), 1 en erreur."
    )
    expect(page.get_by_role("link", name="Hélène Lefèvre")).to_be_visible()
    browsing.screenshot(page, "resultat")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger les lignes rejetées").click()
    download = download_info.value
    assert download.suggested_filename == "adhérents-rejets.csv"
    rows = rejected_rows(download)
    assert rows[0] == [
        "Prénom", "Nom", "E-mail", "Code postal", "Ville", "Tél. portable", "Régime", "Société",
        "Erreur",
    ]  # fmt: skip
    assert rows[1][:5] == ["François", "Dupré", "francois.dupre@", "75011", "Paris"]
    assert rows[1][8].startswith("ligne 3, colonne « E-mail » :")
    assert sorted(Contact.objects.for_org(organization).values_list("first_name", flat=True)) == [
        "Hélène",
        "Inès",
    ]
    assert Import.objects.for_org(organization).get().status == Import.Status.DONE
    ines = Contact.objects.for_org(organization).get(first_name="Inès")
    assert ines.custom == {"regime": "Végétarien"}
    assert list(ines.label_links.values_list("label__name", flat=True)) == [label.name]
    helene = Contact.objects.for_org(organization).get(first_name="Hélène")
    assert list(helene.structure_links.values_list("structure__name", "is_main")) == [
        ("Mairie de Lyon", True)
    ]

    # The imports list shows it
    page.get_by_role("link", name="Imports", exact=True).first.click()
    expect(page.locator("#import-table")).to_contain_text("adhérents.csv")
    browsing.screenshot(page, "liste")

    # When the volunteer undoes it, after a confirmation page
    page.get_by_role("link", name="adhérents.csv").click()
    page.get_by_role("link", name="Annuler cet import").click()
    expect(page.get_by_role("heading", name=re.compile("^Annuler l'import"))).to_be_visible()
    expect(page.locator("#content")).to_contain_text("supprime les 2 fiches qu'il a créées")
    browsing.screenshot(page, "annulation")
    page.get_by_role("button", name="Annuler cet import").click()

    # Then the contacts it created are gone
    expect(page.get_by_role("heading", name="Import annulé")).to_be_visible()
    assert Contact.objects.for_org(organization).count() == 0
