"""Campaign pages: create and edit with French field errors, delete refused while payments
are attached, the list's totals in a constant number of queries, the detail's stats and its
keyset list of payments."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lien.contacts import services as contacts
from lien.core.audit import Actor
from lien.core.models import AuditEvent, Membership
from lien.core.services import save_profile
from lien.payments import services, views_admin
from lien.payments.models import Campaign
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system()
NBSP, NNBSP = "\u00a0", "\u202f"


def events_of(org, target, action: str):
    return AuditEvent.objects.for_org(org).filter(
        target_type=ContentType.objects.get_for_model(target), target_id=target.pk, action=action
    )


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def campaign(org, name: str = "Appel de fin d'année", **values) -> Campaign:
    return services.save_campaign(
        organization=org, actor=SYSTEM, name=name, **{"kind": "don", **values}
    )


def contact(org, name: str):
    return contacts.create_contact(organization=org, actor=SYSTEM, data={"last_name": name})


def pay(org, camp, payer, amount: str, paid_on: str = "2026-03-01", **values):
    payer_field = "payer_contact" if hasattr(payer, "last_name") else "payer_structure"
    return services.create_payment(
        organization=org,
        actor=SYSTEM,
        kind=camp.kind if camp else "don",
        amount=amount,
        paid_on=paid_on,
        method="cheque",
        campaign=camp,
        **{payer_field: payer},
        **values,
    )


FORM = {
    "name": "Collecte 2026",
    "kind": "don",
    "start_date": "2026-01-01",
    "end_date": "2026-12-31",
    "goal": "5 000",
    "description": "Pour le nouveau jardin partagé.",
}


# Create and edit ------------------------------------------------------------------------


def test_creating_a_campaign_saves_it_and_opens_its_page(org, admin_client):
    response = admin_client.post(reverse("campaign_create"), FORM)

    created = Campaign.objects.for_org(org).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("campaign_detail", args=[created.pk])
    assert (created.name, created.kind, created.goal_cents) == ("Collecte 2026", "don", 500000)
    assert (str(created.start_date), str(created.end_date)) == ("2026-01-01", "2026-12-31")
    assert flashed(response) == ["Campagne « Collecte 2026 » enregistrée."]
    event = events_of(org, created, "create").get()
    assert event.changes["goal_cents"] == [None, 500000]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"start_date": "2026-06-01", "end_date": "2026-05-31"},
            "end_date",
            "La date de fin est avant la date de début.",
        ),
        ({"goal": "-50"}, "goal", "L'objectif doit être un montant positif."),
        ({"goal": "0"}, "goal", "L'objectif doit être un montant positif."),
        ({"goal": "beaucoup"}, "goal", "« beaucoup » n'est pas un montant."),
        ({"goal": "12,345"}, "goal", "Un montant a au plus 2 décimales (des centimes)."),
        (
            {"start_date": "31/02/2026"},
            "start_date",
            "« 31/02/2026 » n'est pas une date (JJ/MM/AAAA).",
        ),
        (
            {"name": "  appel de FIN d'année "},
            "name",
            "La campagne « appel de FIN d'année » existe déjà.",
        ),
        ({"name": ""}, "name", "Ce champ est obligatoire."),
        ({"kind": "loterie"}, "kind", None),
    ],
)
def test_bad_input_gives_a_french_field_error_and_writes_nothing(
    org, admin_client, changes, field, message
):
    existing = campaign(org)
    events = AuditEvent.objects.for_org(org).count()

    response = admin_client.post(reverse("campaign_create"), {**FORM, **changes})

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    if message:
        assert errors[field] == [message]
        assert message.replace("'", "&#x27;") in response.content.decode()
    assert list(Campaign.objects.for_org(org)) == [existing]
    assert AuditEvent.objects.for_org(org).count() == events


def test_the_same_name_in_another_organisation_is_fine(org, other_org, admin_client):
    campaign(other_org, "Collecte 2026")

    response = admin_client.post(reverse("campaign_create"), FORM)

    assert response.status_code == 302
    assert Campaign.objects.for_org(org).get().name == "Collecte 2026"


def test_editing_shows_the_values_as_typed_and_keeps_its_own_name(org, admin_client):
    camp = campaign(org, "Gala", kind="billetterie", goal="2500,50", start_date="2026-05-01")
    url = reverse("campaign_edit", args=[camp.pk])

    form = admin_client.get(url).context["form"]
    response = admin_client.post(url, {**form.initial, "end_date": "2026-05-31", "goal": "3 000"})

    assert form.initial == {
        "name": "Gala",
        "kind": "billetterie",
        "start_date": "2026-05-01",
        "end_date": "",
        "goal": "2500,50",
        "description": "",
    }
    assert response.status_code == 302
    camp.refresh_from_db()
    assert (camp.name, str(camp.end_date), camp.goal_cents) == ("Gala", "2026-05-31", 300000)
    event = events_of(org, camp, "update").get()
    assert event.changes == {"end_date": [None, "2026-05-31"], "goal_cents": [250050, 300000]}


def test_clearing_the_goal_leaves_a_campaign_without_goal(org, admin_client):
    camp = campaign(org, goal="1000")

    admin_client.post(reverse("campaign_edit", args=[camp.pk]), {**FORM, "goal": ""})

    camp.refresh_from_db()
    assert camp.goal_cents is None


# Delete ---------------------------------------------------------------------------------


def test_delete_is_refused_while_payments_are_attached_and_says_why(org, admin_client):
    camp = campaign(org)
    pay(org, camp, contact(org, "Martin"), "40")
    url = reverse("campaign_delete", args=[camp.pk])

    confirm = admin_client.get(url).content.decode()
    response = admin_client.post(url)

    assert "1 paiement est rattaché à cette campagne : elle ne peut pas être supprimée." in confirm
    assert 'type="submit"' not in confirm.split('id="content"')[1]
    assert response["Location"] == reverse("campaign_detail", args=[camp.pk])
    assert flashed(response) == [
        "1 paiement(s) sont rattachés à la campagne « Appel de fin d'année » : "
        "rattachez-les à une autre campagne avant de la supprimer."
    ]
    assert Campaign.objects.for_org(org).filter(pk=camp.pk).exists()


def test_an_unused_campaign_is_deleted_after_confirmation(org, admin_client):
    camp = campaign(org)
    url = reverse("campaign_delete", args=[camp.pk])

    confirm = admin_client.get(url).content.decode()
    response = admin_client.post(url)

    assert "Aucun paiement n'est rattaché à cette campagne." in confirm
    assert response["Location"] == reverse("campaign_list")
    assert flashed(response) == ["Campagne « Appel de fin d'année » supprimée."]
    assert not Campaign.objects.for_org(org).exists()
    assert events_of(org, camp, "delete").exists()


# Stats ------------------------------------------------------------------------------------


@pytest.fixture
def collecte(org):
    """A 1 000 € goal: 600 € paid by two payers, plus a pending and a cancelled payment."""
    camp = campaign(org, "Collecte", goal="1 000", start_date="2026-01-01")
    alice, bob = contact(org, "Alice"), contact(org, "Bob")
    mairie = contacts.create_structure(organization=org, actor=SYSTEM, data={"name": "Mairie"})
    pay(org, camp, alice, "300", "2026-02-01")
    pay(org, camp, alice, "200", "2026-03-01")
    pay(org, camp, mairie, "100", "2026-04-01")
    pay(org, camp, bob, "50", "2026-05-01", status="en_attente")
    pay(org, camp, bob, "70", "2026-06-01", status="annule")
    pay(org, None, bob, "999", "2026-06-02")  # in no campaign
    return camp


def test_detail_counts_paid_payments_only_against_the_goal(org, admin_client, collecte):
    response = admin_client.get(reverse("campaign_detail", args=[collecte.pk]))

    stats = response.context["stats"]
    page = response.content.decode()
    assert {k: stats[k] for k in ("collected_cents", "goal_cents", "percent", "bar")} == {
        "collected_cents": 60000,
        "goal_cents": 100000,
        "percent": 60,
        "bar": 60,
    }
    assert (stats["payments"], stats["payers"], stats["all_payments"]) == (3, 2, 5)
    assert f"600,00{NBSP}€" in page and f"1{NNBSP}000,00{NBSP}€" in page
    assert 'aria-valuenow="60"' in page
    assert f'href="{reverse("payment_list_don")}?campaign={collecte.pk}"' in page
    assert f'href="{reverse("payment_detail", args=[response.context["payments"][0].pk])}"' in page
    assert f"reste 400,00{NBSP}€ à collecter" in page
    assert f"200,00{NBSP}€" in page  # the average of the three paid payments
    # Every payment of the campaign is listed, newest first, whatever its status.
    assert [str(p.paid_on) for p in response.context["payments"]] == [
        "2026-06-01", "2026-05-01", "2026-04-01", "2026-03-01", "2026-02-01",
    ]  # fmt: skip


def test_a_goal_passed_fills_the_bar_and_says_so(org, admin_client):
    camp = campaign(org, goal="100")
    pay(org, camp, contact(org, "Généreux"), "150")

    response = admin_client.get(reverse("campaign_detail", args=[camp.pk]))

    assert (response.context["stats"]["percent"], response.context["stats"]["bar"]) == (150, 100)
    assert "Objectif atteint : 150" in response.content.decode()


def test_list_shows_each_campaigns_totals_in_a_constant_number_of_queries(
    org, admin_client, collecte
):
    def listed() -> tuple[list[tuple], int]:
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(reverse("campaign_list"))
        rows = [
            (c.name, c.collected_cents, c.paid_count, c.percent)
            for c in response.context["page"].object_list
        ]
        return rows, len(captured)

    one_campaign, queries = listed()
    for n in range(9):
        camp = campaign(org, f"Campagne {n}", start_date="2025-01-01")
        pay(org, camp, contact(org, f"Payeur {n}"), "10")
    ten_rows, queries_with_ten = listed()

    assert one_campaign == [("Collecte", 60000, 3, 60)]
    assert len(ten_rows) == 10
    assert ten_rows[0] == ("Collecte", 60000, 3, 60)
    assert ten_rows[1] == ("Campagne 0", 1000, 1, None)
    assert queries_with_ten == queries


def test_payments_are_listed_by_pages_with_voir_plus(org, admin_client, collecte, monkeypatch):
    monkeypatch.setattr(views_admin, "PAYMENTS_PAGE_SIZE", 2)
    url = reverse("campaign_detail", args=[collecte.pk])

    first = admin_client.get(url)
    more = admin_client.get(
        url,
        {"apres": first.context["next_cursor"]},
        headers={"HX-Request": "true", "HX-Target": "campaign-more"},
    )
    last = admin_client.get(url, {"apres": more.context["next_cursor"]})

    def dates(response) -> list[str]:
        return [str(p.paid_on) for p in response.context["payments"]]

    assert dates(first) == ["2026-06-01", "2026-05-01"]
    assert dates(more) == ["2026-04-01", "2026-03-01"]
    assert "<html" not in more.content.decode() and 'id="campaign-more"' in more.content.decode()
    assert dates(last) == ["2026-02-01"]
    assert last.context["next_cursor"] == ""
    assert "Revenir aux plus récents" in last.content.decode()  # a whole page without htmx


def test_an_unreadable_cursor_starts_from_the_newest(org, admin_client, collecte):
    response = admin_client.get(reverse("campaign_detail", args=[collecte.pk]), {"apres": "hier.x"})

    assert len(response.context["payments"]) == 5


# Rights -----------------------------------------------------------------------------------


def test_a_reader_sees_the_campaign_without_the_buttons(org, reader_client, collecte):
    page = reader_client.get(reverse("campaign_detail", args=[collecte.pk])).content.decode()
    listing = reader_client.get(reverse("campaign_list")).content.decode()

    assert reverse("campaign_edit", args=[collecte.pk]) not in page
    assert reverse("campaign_delete", args=[collecte.pk]) not in page
    assert reverse("campaign_create") not in listing


def test_a_profile_hiding_payment_data_sees_no_campaign(org, admin_member, collecte):
    profile = save_profile(
        organization=org,
        actor=Actor.for_user(admin_member.user),
        name="Accueil",
        rights={"contacts": ["view"], "payments": ["view"]},
        hide_payment_data=True,
    )
    member = Membership.objects.create(
        organization=org, user=make_user("accueil@amis-du-parc.fr"), profile=profile
    )
    client = client_for(member)

    assert client.get(reverse("campaign_list")).status_code == 403
    assert client.get(reverse("campaign_detail", args=[collecte.pk])).status_code == 403
