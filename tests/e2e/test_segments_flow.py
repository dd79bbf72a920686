"""A volunteer builds a two-level search in the real browser, saves it as a segment, then
adds a contact through the contact form: the contact is in the segment at once, without
anyone touching the segment (issue 6).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from lien.contacts import services
from lien.contacts.models import Contact, Label
from lien.core.audit import Actor
from lien.search.models import Segment, SegmentCount, SegmentEvent, SegmentMember
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
    services.save_label(organization=organization, actor=actor, name="Bénévole", color="#2f6f5e")
    people = [
        ("Hélène", "Lefèvre", "Lyon", "helene@example.org", True),
        ("Paul", "Martin", "Lyon", "", True),
        ("Inès", "Benali", "Lyon", "", False),
        ("Louis", "Garnier", "Paris", "louis@example.org", True),
    ]
    for first, last, city, email, gives in people:
        services.create_contact(
            organization=organization,
            actor=actor,
            data={"first_name": first, "last_name": last, "city": city, "email": email},
            labels=[donor] if gives else [],
        )
    return organization


def test_build_a_segment_then_a_new_contact_joins_it(browsing):
    organization = association()
    page = browsing.new_page()
    log_in(page)
    page.goto("/recherche/")
    builder = page.locator("#search-builder")
    status = page.locator("#search-status")
    expect(status).to_contain_text("4 contacts correspondent.")

    # When the volunteer asks for the contacts of Lyon…
    builder.get_by_role("button", name="+ Condition").click()
    builder.get_by_label("Chercher un champ").fill("ville")
    builder.get_by_label("Chercher un champ").press("Enter")
    condition = builder.locator('.condition[data-path="children[0]"]')
    condition.get_by_label("Opérateur").select_option(label="est")
    condition.get_by_label("Valeur").fill("lyon")
    expect(status).to_contain_text("3 contacts correspondent.")

    # … who are donors or have an email (a nested « au moins une » group)
    builder.get_by_role("button", name="+ Groupe").last.click()
    nested = builder.locator('.group[data-path="children[1]"]')
    expect(nested.get_by_label("Type de groupe")).to_have_value("any")
    nested.get_by_label("Champ", exact=True).select_option(label="Étiquettes")
    nested.get_by_label("Donateur").check()
    expect(status).to_contain_text("2 contacts correspondent.")
    nested.get_by_role("button", name="+ Condition").click()
    second = builder.locator('.condition[data-path="children[1].children[1]"]')
    second.get_by_label("Champ", exact=True).select_option(label="Email")
    second.get_by_label("Opérateur").select_option(label="est renseigné")

    # Then the count, the sentence and the results follow
    expect(status).to_contain_text("2 contacts correspondent.")
    expect(status).to_contain_text(
        "Ville est « lyon » ET (a l'étiquette « Donateur » OU Email est renseigné)"
    )
    results = page.locator("#search-results")
    expect(results.locator("tbody tr")).to_have_count(2)
    expect(results).to_contain_text("LEFÈVRE Hélène")
    expect(results).to_contain_text("MARTIN Paul")
    expect(page).to_have_url(re.compile(r"/recherche/\?table=contacts&arbre="))
    browsing.screenshot(page, "constructeur")

    # When the search is saved as a segment
    page.locator("summary", has_text="Enregistrer comme segment").click()
    page.get_by_label("Nom du segment").fill("Lyonnais à relancer")
    page.get_by_label("Description").fill("Pour l'appel aux dons de l'automne.")
    page.get_by_role("button", name="Enregistrer le segment").click()

    # Then its page shows the definition and its two members
    expect(page.get_by_role("heading", name="Lyonnais à relancer")).to_be_visible()
    expect(page.get_by_text("Segment « Lyonnais à relancer » enregistré.")).to_be_visible()
    members = page.locator("#segment-members")
    expect(members.locator("tbody tr")).to_have_count(2)
    segment = Segment.objects.get(organization=organization)
    donor = Label.objects.get(organization=organization, name="Donateur")
    assert segment.tree == {
        "group": "all",
        "children": [
            {"field": "city", "op": "equals", "value": "lyon"},
            {
                "group": "any",
                "children": [
                    {"field": "labels", "op": "any", "value": [donor.pk]},
                    {"field": "email", "op": "not_empty"},
                ],
            },
        ],
    }

    # When a new contact of Lyon with an email is recorded through the contact form
    page.goto("/contacts/nouveau/")
    page.get_by_label("Prénom").fill("Camille")
    page.get_by_label("Nom", exact=True).fill("Roux")
    page.get_by_label("Email", exact=True).fill("camille.roux@example.org")
    page.get_by_label("Ville").fill("Lyon")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("« Camille Roux » est enregistré.")).to_be_visible()

    # Then, without touching the segment, she is one of its members
    _past_nights(segment)
    page.goto(f"/segments/{segment.pk}/")
    expect(page.locator("#segment-members tbody tr")).to_have_count(3)
    expect(page.locator("#segment-members")).to_contain_text("ROUX Camille")
    expect(page.locator(".tile").first).to_contain_text("3 contacts")
    browsing.screenshot(page, "segment")

    # And « pourquoi ? » explains it condition by condition
    page.locator("#segment-members tr", has_text="ROUX Camille").get_by_role(
        "link", name="Pourquoi ?"
    ).click()
    expect(page.get_by_text("Camille Roux fait partie du segment aujourd'hui.")).to_be_visible()
    expect(page.locator(".why-for")).to_have_count(
        3
    )  # the city, the « au moins une » group, the email
    expect(page.locator(".why-against")).to_have_count(1)  # not a donor
    expect(page.locator(".why-group")).to_have_text(re.compile("au moins une de ces conditions"))
    browsing.screenshot(page, "pourquoi")

    # And Paul Martin's card tells his comings and goings
    martin = Contact.objects.get(organization=organization, last_name="Martin")
    page.goto(f"/contacts/{martin.pk}/segments/")
    section = page.locator("#contact-segments")
    expect(section).to_contain_text("sorti de « Lyonnais à relancer »")
    expect(section.locator(".journal li")).to_have_count(3)
    browsing.screenshot(page, "fiche-segments")

    # And the segments list counts it live
    page.goto("/segments/")
    expect(page.locator("tbody tr").first).to_contain_text("3 contacts")
    browsing.screenshot(page, "liste-segments")
    assert Contact.objects.filter(organization=organization).count() == 5


def _past_nights(segment: Segment) -> None:
    """The last weeks as the nightly pass would have recorded them: counts, and who
    entered or left."""
    organization = segment.organization
    today = timezone.localdate()
    people = {c.last_name: c for c in Contact.objects.filter(organization=organization)}
    history = [
        (5, 1, [], []),
        (4, 2, ["Martin"], []),
        (3, 1, [], ["Martin"]),
        (2, 2, ["Martin"], []),
        (1, 2, [], []),
    ]
    for weeks, count, entered, left in history:
        day = today - dt.timedelta(weeks=weeks)
        SegmentCount.objects.create(
            organization=organization,
            segment=segment,
            day=day,
            count=count,
            entered=len(entered),
            left=len(left),
        )
        for names, kind in ((entered, "entered"), (left, "left")):
            for name in names:
                SegmentEvent.objects.create(
                    organization=organization,
                    segment=segment,
                    contact=people[name],
                    kind=kind,
                    day=day,
                )
    for name, weeks in (("Lefèvre", 5), ("Martin", 2)):
        SegmentMember.objects.create(
            organization=organization,
            segment=segment,
            contact=people[name],
            since=today - dt.timedelta(weeks=weeks),
        )
    Segment.objects.filter(pk=segment.pk).update(
        last_count=2, last_run_on=today - dt.timedelta(weeks=1)
    )


def test_an_incomplete_condition_is_told_at_its_place(browsing):
    association()
    page = browsing.new_page()
    log_in(page)
    page.goto("/recherche/")
    builder = page.locator("#search-builder")
    status = page.locator("#search-status")
    expect(status).to_contain_text("4 contacts correspondent.")

    # When a condition on the interactions is started with a period, and a count is mistyped
    builder.get_by_role("button", name="+ Condition").click()
    builder.get_by_label("Champ", exact=True).select_option(label="Nombre d'interactions")
    condition = builder.locator('.condition[data-path="children[0]"]')
    condition.get_by_label("Opérateur").select_option(label="<")
    condition.get_by_label("Valeur").fill("deux")

    # Then the live count says what is missing, and the condition shows it
    expect(status).to_contain_text("À compléter : Un nombre est attendu.")
    expect(condition.locator(".node-error").last).to_have_text("Un nombre est attendu.")
    expect(page.locator("#results-body")).to_contain_text("Complétez la condition signalée")

    # When the count is corrected and restricted to last year
    condition.get_by_label("Valeur").fill("2")
    condition.locator("summary", has_text="Préciser").click()
    condition.get_by_label("Période").select_option(label="l'année dernière")

    # Then everything is counted again, the error gone
    expect(status).to_contain_text("4 contacts correspondent.")
    expect(status).to_contain_text("Nombre d'interactions < 2 (l'année dernière)")
    expect(condition.locator(".node-error").last).to_have_text("")
    expect(page.locator("#search-results tbody tr")).to_have_count(4)
    browsing.screenshot(page, "preciser")
