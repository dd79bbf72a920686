"""The first hour of an association on Lien, in a real browser.

Sign up, log out and in, invite a volunteer who joins with the « Lecteur » profile,
the login lock-out, and the htmx progress of the history export.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import expect

from lien.core.jobs import run_job
from lien.core.models import Invitation, Job, Membership, Organization
from lien.core.tasks import write_audit_export
from tests.conftest import PASSWORD, make_organization

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ORG_NAME = "Les Jardins Partagés de Belleville"
ADMIN_EMAIL = "camille@jardins-belleville.fr"
NEW_PASSWORD = "Radis-et-Courgettes-2026"


def log_in(page, email: str, password: str) -> None:
    page.goto("/connexion/")
    page.get_by_label("Email").fill(email)
    page.get_by_label(re.compile(r"^Mot de passe")).fill(password)
    page.get_by_role("button", name="Se connecter").click()


def menu(page):
    return page.get_by_role("navigation", name="Menu principal")


def open_user_menu(page, name: str) -> None:
    page.locator("summary", has_text=name).click()


def test_sign_up_then_log_out_and_in(browsing):
    page = browsing.new_page()

    # Given the public sign-up page
    page.goto("/creer-mon-espace/")
    expect(page.get_by_role("heading", name="Créer mon espace")).to_be_visible()
    browsing.screenshot(page, "inscription-vide")

    # When a new association fills it in, by label
    page.get_by_label("Nom de l'association").fill(ORG_NAME)
    page.get_by_label("Votre nom").fill("Camille Martin")
    page.get_by_label("Votre email").fill(ADMIN_EMAIL)
    page.get_by_label(re.compile(r"^Mot de passe")).fill(NEW_PASSWORD)
    page.get_by_label("Confirmation du mot de passe").fill(NEW_PASSWORD)
    browsing.screenshot(page, "inscription-remplie")
    page.get_by_role("button", name="Créer mon espace").click()

    # Then they land on the dashboard of their new association, as its administrator
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Bonjour Camille")).to_be_visible()
    expect(page.locator(".brand-name")).to_have_text(ORG_NAME)
    expect(page.get_by_text(f"L'espace « {ORG_NAME} » est prêt.")).to_be_visible()
    expect(menu(page).get_by_role("link", name="Utilisateurs")).to_be_visible()
    browsing.screenshot(page, "tableau-de-bord")
    organization = Organization.objects.get(name=ORG_NAME)
    assert Membership.objects.get(organization=organization).profile.name == "Administrateur"

    # When they log out through the user menu
    open_user_menu(page, "Camille Martin")
    browsing.screenshot(page, "menu-utilisateur")
    page.get_by_role("button", name="Se déconnecter").click()

    # Then they are back on the login page
    expect(page).to_have_url(re.compile(r"/connexion/$"))
    expect(page.get_by_role("heading", name="Connexion")).to_be_visible()
    browsing.screenshot(page, "deconnecte")

    # When they log in again, then the dashboard shows
    log_in(page, ADMIN_EMAIL, NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Bonjour Camille")).to_be_visible()
    expect(page.locator(".brand-name")).to_have_text(ORG_NAME)
    browsing.screenshot(page, "reconnecte")
    browsing.console.assert_clean()


def test_invited_volunteer_joins_as_reader(browsing):
    make_organization(ORG_NAME, ADMIN_EMAIL)
    admin = browsing.new_page()
    log_in(admin, ADMIN_EMAIL, PASSWORD)
    expect(admin.get_by_role("heading", name=re.compile("^Bonjour"))).to_be_visible()

    # Given the users' settings page, reached through the menu
    menu(admin).get_by_role("link", name="Utilisateurs").click()
    expect(admin.get_by_role("heading", name="Utilisateurs", exact=True)).to_be_visible()
    invite = admin.locator("section.card", has=admin.get_by_role("heading", name="Inviter"))
    expect(invite.get_by_role("heading", name="Inviter une personne")).to_be_visible()

    # When the administrator invites a volunteer as « Lecteur »
    invite.get_by_label("Email de la personne invitée").fill("Sacha@Exemple.org")
    invite.get_by_label("Profil").select_option(label="Lecteur")
    browsing.screenshot(admin, "invitation-remplie")
    invite.get_by_role("button", name="Envoyer l'invitation").click()

    # Then the invitation is pending in the table and its email went out
    expect(admin.get_by_text("Invitation enregistrée pour sacha@exemple.org")).to_be_visible()
    pending = admin.locator("section.card", has=admin.get_by_role("heading", name="en attente"))
    row = pending.get_by_role("row", name=re.compile("sacha@exemple.org"))
    expect(row).to_contain_text("Lecteur")
    expect(row).to_contain_text("En attente")
    browsing.screenshot(admin, "invitation-en-attente")
    invitation = Invitation.objects.get(email="sacha@exemple.org")
    assert invitation.email_sent_at is not None
    assert [m.to for m in mail.outbox] == [["sacha@exemple.org"]]
    links = re.findall(r"https?://\S+/invitation/\S+/", mail.outbox[0].body)
    assert len(links) == 1
    assert links[0].startswith(browsing.base_url)

    # When the volunteer opens the link in their own browser and creates their account
    volunteer = browsing.new_page()
    volunteer.goto(links[0])
    expect(volunteer.get_by_role("heading", name=f"Rejoindre « {ORG_NAME} »")).to_be_visible()
    expect(volunteer.get_by_text("avec le profil « Lecteur »")).to_be_visible()
    volunteer.get_by_label("Votre nom").fill("Sacha Petit")
    volunteer.get_by_label(re.compile(r"^Mot de passe")).fill(NEW_PASSWORD)
    volunteer.get_by_label("Confirmation du mot de passe").fill(NEW_PASSWORD)
    browsing.screenshot(volunteer, "invitation-acceptation")
    volunteer.get_by_role("button", name="Créer mon compte et rejoindre").click()

    # Then they are on the dashboard, as a reader who cannot manage users
    expect(volunteer.get_by_role("heading", name="Bonjour Sacha")).to_be_visible()
    expect(volunteer.get_by_text(f"Bienvenue dans {ORG_NAME} !")).to_be_visible()
    expect(volunteer.locator(".brand-name")).to_have_text(ORG_NAME)
    expect(menu(volunteer).get_by_role("link", name="Tableau de bord")).to_be_visible()
    expect(menu(volunteer).get_by_role("link", name="Utilisateurs")).to_have_count(0)
    open_user_menu(volunteer, "Sacha Petit")
    expect(volunteer.get_by_text("Profil : Lecteur")).to_be_visible()
    browsing.screenshot(volunteer, "lecteur-tableau-de-bord")
    membership = Membership.objects.get(user__email="sacha@exemple.org")
    assert membership.profile.name == "Lecteur"

    # And the administrator no longer sees a pending invitation
    admin.reload()
    expect(admin.get_by_text("Aucune invitation en attente.")).to_be_visible()
    expect(admin.get_by_role("row", name=re.compile("Sacha Petit"))).to_contain_text("Lecteur")
    browsing.screenshot(admin, "utilisateurs-apres-acceptation")
    browsing.console.assert_clean()


def test_five_wrong_passwords_lock_the_account(browsing):
    make_organization(ORG_NAME, ADMIN_EMAIL)
    # The lock-out page answers 429, which Chromium logs as a failed resource.
    browsing.console.allow(r"status of 429")
    page = browsing.new_page()

    # Given four wrong passwords, each refused with a message
    for _attempt in range(4):
        log_in(page, ADMIN_EMAIL, "pas-le-bon-mot-de-passe")
        expect(page.get_by_text("Email ou mot de passe incorrect.")).to_be_visible()
    browsing.screenshot(page, "mot-de-passe-incorrect")

    # When a fifth wrong password is tried
    log_in(page, ADMIN_EMAIL, "pas-le-bon-mot-de-passe")

    # Then the account is locked, even for the right password
    expect(page.get_by_role("heading", name="Trop de tentatives")).to_be_visible()
    browsing.screenshot(page, "trop-de-tentatives")
    log_in(page, ADMIN_EMAIL, PASSWORD)
    expect(page.get_by_role("heading", name="Trop de tentatives")).to_be_visible()
    browsing.console.assert_clean()


def test_history_export_shows_progress_and_file(browsing):
    organization = make_organization(ORG_NAME, ADMIN_EMAIL)
    page = browsing.new_page()
    log_in(page, ADMIN_EMAIL, PASSWORD)
    expect(page.get_by_role("heading", name=re.compile("^Bonjour"))).to_be_visible()

    # Given the history page, reached through the menu, with htmx loaded
    menu(page).get_by_role("link", name="Historique").click()
    expect(page.get_by_role("heading", name="Historique des modifications")).to_be_visible()
    page.wait_for_function("() => window.htmx !== undefined")
    browsing.screenshot(page, "historique")

    # When the export is started (the in-process task backend runs it at once)
    page.get_by_role("button", name="Exporter en CSV").click()
    expect(page).to_have_url(re.compile(r"/parametres/historique/\?tache=\d+$"))
    expect(page.get_by_text("L'export est lancé")).to_be_visible()

    # Then the finished job shows its progress bar and a download link
    job = Job.objects.for_org(organization).get(kind="audit_export")
    box = page.locator(f"#job-{job.pk}")
    expect(box.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(box).to_contain_text("Terminé")
    link = box.get_by_role("link", name="Télécharger le fichier")
    expect(link).to_be_visible()
    browsing.screenshot(page, "export-termine")
    with page.expect_download() as download:
        link.click()
    lines = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "Date;Auteur;Action;Type;Élément;Changements"
    assert len(lines) - 1 == job.progress_total == 1

    # Given a job still waiting for a worker: its box polls the server through htmx
    waiting = Job.objects.create(organization=organization, kind="audit_export", label="Export 2")
    page.reload()
    box = page.locator(f"#job-{waiting.pk}")
    expect(box).to_have_attribute("hx-get", f"/taches/{waiting.pk}/")
    expect(box.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "0")
    expect(box).to_contain_text("En attente")
    with page.expect_response(f"**/taches/{waiting.pk}/"):
        pass
    browsing.screenshot(page, "export-en-attente")

    # When a worker runs it, then the next poll swaps in the finished job and its link
    run_job(waiting.pk, write_audit_export)
    expect(box).to_have_attribute("data-status", "succeeded")
    expect(box).not_to_have_attribute("hx-get", re.compile(".*"))
    expect(box.get_by_role("link", name="Télécharger le fichier")).to_be_visible()
    browsing.screenshot(page, "export-termine-par-htmx")
    browsing.console.assert_clean()
