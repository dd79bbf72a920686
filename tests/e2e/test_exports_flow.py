"""A volunteer filters the contact list, exports it and gets a file Excel opens in French;
then the association downloads all its data as a ZIP (issue 7)."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from playwright.sync_api import expect

from lien.contacts import services
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


def association():
    organization = make_organization("Les Amis du Parc", ADMIN)
    actor = Actor.system()
    donor = services.save_label(
        organization=organization, actor=actor, name="Donateur", color="#b5651d"
    )
    for first, last, city, mobile, gives in [
        ("Hélène", "Lefèvre", "Lyon", "+33 6 12 34 56 78", True),
        ("Paul", "Martin", "Lyon", "", True),
        ("Louis", "Garnier", "Paris", "", False),
    ]:
        services.create_contact(
            organization=organization,
            actor=actor,
            data={"first_name": first, "last_name": last, "city": city, "mobile": mobile},
            labels=[donor] if gives else [],
        )
    return organization, donor


def test_export_the_filtered_contact_list_then_everything(browsing):
    _organization, donor = association()
    page = browsing.new_page()
    log_in(page)

    # Given the contact list filtered on the donors
    page.goto("/contacts/")
    page.locator(".list-filters select[name=etiquette]").select_option(label="Donateur")
    expect(page.locator("#list-results tbody tr")).to_have_count(2)
    expect(page.locator(".list-count")).to_contain_text("2 contacts")
    browsing.screenshot(page, "liste-filtree")

    # When the volunteer clicks « Exporter »
    page.locator("#list-results").get_by_role("link", name="Exporter").click()
    expect(page.get_by_role("heading", name="Exporter : Contacts")).to_be_visible()
    expect(page.locator("#export-count")).to_contain_text(
        "2 lignes : le fichier se télécharge tout de suite."
    )
    expect(page.get_by_label("Prénom")).to_be_checked()
    page.get_by_label("Accepte les emails").uncheck()
    browsing.screenshot(page, "formulaire-export")

    # Then the file downloads at once: the filtered rows, in French CSV
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Exporter", exact=True).click()
    download = download_info.value
    assert re.fullmatch(r"contacts-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    content = download.path().read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0][:6] == ["N° Lien", "Civilité", "Prénom", "Nom", "Email", "Téléphone portable"]
    assert "Accepte les emails" not in rows[0]
    assert sorted(row[2] for row in rows[1:]) == ["Hélène", "Paul"]
    helene = next(row for row in rows[1:] if row[2] == "Hélène")
    assert helene[5] == "'+33 6 12 34 56 78"  # never read as a formula
    assert "Donateur" in helene[rows[0].index("Étiquettes")]

    # When the association exports all its data
    page.goto("/exports/toutes-mes-donnees/")
    expect(page.get_by_role("heading", name="Exporter toutes mes données")).to_be_visible()
    browsing.screenshot(page, "toutes-mes-donnees")
    page.get_by_role("button", name="Exporter toutes mes données").click()

    # Then the job page shows the finished archive and its download link
    expect(page.get_by_role("heading", name="Export de toutes les données")).to_be_visible()
    link = page.get_by_role("link", name="Télécharger le fichier")
    expect(link).to_be_visible()
    browsing.screenshot(page, "archive-prete")
    with page.expect_download() as download_info:
        link.click()
    archive = zipfile.ZipFile(download_info.value.path())
    assert "contacts.csv" in archive.namelist()
    lines = archive.read("contacts.csv").decode("utf-8-sig").splitlines()
    assert len(lines) == 4
    assert donor.name in archive.read("etiquettes.csv").decode("utf-8-sig")

    # And « Mes exports » keeps the history: both exports, the archive still downloadable
    page.goto("/exports/")
    expect(page.get_by_role("heading", name="Exports de l'association")).to_be_visible()
    rows = page.locator("table.export-history tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Export de toutes les données")
    expect(rows.nth(0)).to_contain_text("ZIP de CSV")
    expect(rows.nth(1)).to_contain_text("Filtres : étiquette « Donateur »")
    expect(rows.nth(1)).to_contain_text("Téléchargé aussitôt")
    expect(rows.nth(1)).to_contain_text("2")
    browsing.screenshot(page, "mes-exports")
    with page.expect_download() as download_info:
        rows.nth(0).get_by_role("link", name="Télécharger").click()
    assert "contacts.csv" in zipfile.ZipFile(download_info.value.path()).namelist()
