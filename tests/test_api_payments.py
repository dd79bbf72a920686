"""The payments API: payments (filters and totals), campaigns, membership periods and status."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lien.contacts import services as contacts
from lien.core.audit import Actor
from lien.core.models import AuditEvent, Membership
from lien.core.services import save_profile
from lien.interactions.models import Interaction
from lien.payments import services
from lien.payments.models import Campaign, MembershipPeriod, Payment
from tests.conftest import api_client_for, make_user

pytestmark = pytest.mark.django_db

ACTOR = Actor.system()


def post(client, name, data, **kwargs):
    return client.post(reverse(name, **kwargs), data=data, content_type="application/json")


def patch(client, name, data, **kwargs):
    return client.patch(reverse(name, **kwargs), data=data, content_type="application/json")


@pytest.fixture
def api(admin_member):
    return api_client_for(admin_member)


def person(org, last_name="Martin", first_name="Hélène"):
    return contacts.create_contact(
        organization=org, actor=ACTOR, data={"first_name": first_name, "last_name": last_name}
    )


def company(org, name="Boulangerie Durand"):
    return contacts.create_structure(organization=org, actor=ACTOR, data={"name": name})


def pay(org, **values) -> Payment:
    return services.create_payment(
        organization=org,
        actor=ACTOR,
        **{"kind": "don", "amount": "50", "paid_on": "2026-03-12", **values},
    )


def membership(org, contact, start, end, **values) -> Payment:
    return pay(
        org,
        kind="adhesion",
        amount="30",
        paid_on=start,
        payer_contact=contact,
        valid_from=start,
        valid_until=end,
        **values,
    )


def payment_interactions(payment_pk: int) -> list[int]:
    return sorted(
        Interaction.objects.filter(
            source=Interaction.Source.PAYMENT,
            source_type=ContentType.objects.get_for_model(Payment),
            source_id=payment_pk,
        ).values_list("contact_id", flat=True)
    )


def payment_events(org):
    return AuditEvent.objects.for_org(org).filter(
        target_type=ContentType.objects.get_for_model(Payment)
    )


# Create and read back -------------------------------------------------------------------


def test_create_a_donation_in_euros_and_read_it_back(org, api):
    helene = person(org)
    gala = contacts.save_label(organization=org, actor=ACTOR, name="Gala 2026", color="#aa0000")
    contacts.save_label(organization=org, actor=ACTOR, name="Legs", color="#00aa00")
    spring = services.save_campaign(organization=org, actor=ACTOR, name="Printemps")
    channel = contacts.save_custom_field(
        organization=org,
        actor=ACTOR,
        target="payment",
        name="Canal",
        field_type="choice",
        choices=["Stand", "Courrier"],
    )

    response = post(
        api,
        "api-payments-list",
        {
            "kind": "don",
            "amount": "1 234,50 €",
            "paid_on": "2026-03-14",
            "method": "cheque",
            "campaign": "printemps",
            "payer_contact": helene.pk,
            "notes": "Remis au stand",
            "custom": {channel.key: "stand"},
            "labels": [gala.pk, "LEGS"],
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    legs = contacts.resolve_labels(organization=org, refs=["Legs"])[0]
    assert body == {
        "id": body["id"],
        "kind": "don",
        "amount_cents": 123450,
        "amount": "1234.50",
        "currency": "EUR",
        "paid_on": "2026-03-14",
        "method": "cheque",
        "status": "paye",
        "campaign": {"id": spring.pk, "name": "Printemps"},
        "payer_contact": helene.pk,
        "payer_structure": None,
        "payer_name": "Hélène Martin",
        "beneficiary": helene.pk,
        "is_recurring": False,
        "frequency": "",
        "source": "",
        "external_id": "",
        "notes": "Remis au stand",
        "custom": {channel.key: "Stand"},
        "labels": [
            {"id": gala.pk, "name": "Gala 2026", "color": "#aa0000"},
            {"id": legs.pk, "name": "Legs", "color": "#00aa00"},
        ],
        "valid_from": None,
        "valid_until": None,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert api.get(reverse("api-payments-detail", args=[body["id"]])).json() == body
    assert payment_interactions(body["id"]) == [helene.pk]
    event = payment_events(org).get(target_id=body["id"])
    assert (event.action, event.actor_kind) == ("create", "api")


def test_amounts_are_written_in_euros_as_a_number_or_in_cents(org, api):
    helene = person(org)
    base = {"kind": "don", "paid_on": "2026-03-14", "payer_contact": helene.pk}

    number = post(api, "api-payments-list", {**base, "amount": 12.5})
    cents = post(api, "api-payments-list", {**base, "amount_cents": 999})
    both = post(api, "api-payments-list", {**base, "amount": "10", "amount_cents": 1000})

    assert (number.json()["amount_cents"], number.json()["amount"]) == (1250, "12.50")
    assert (cents.json()["amount_cents"], cents.json()["amount"]) == (999, "9.99")
    assert both.status_code == 400
    assert both.json() == {
        "amount_cents": ["Le montant se donne une fois : amount (euros) ou amount_cents."]
    }
    assert Payment.objects.for_org(org).count() == 2


def test_a_membership_gets_its_period_by_the_rule_or_as_written(org, api):
    helene, paul = person(org), person(org, "Durand", "Paul")
    town = company(org, "Mairie")
    base = {"kind": "adhesion", "amount": "30", "paid_on": "2026-02-01"}

    by_rule = post(api, "api-payments-list", {**base, "payer_contact": helene.pk})
    written = post(
        api,
        "api-payments-list",
        {
            **base,
            "payer_structure": town.pk,
            "beneficiary": paul.pk,
            "valid_from": "2026-01-01",
            "valid_until": "2026-12-31",
        },
    )
    moved = patch(
        api, "api-payments-detail", {"valid_until": "2027-01-31"}, args=[written.json()["id"]]
    )

    assert by_rule.status_code == 201, by_rule.json()
    assert (by_rule.json()["valid_from"], by_rule.json()["valid_until"]) == (
        "2026-02-01",
        "2027-01-31",
    )
    assert written.status_code == 201, written.json()
    assert written.json()["payer_name"] == "Mairie"
    assert written.json()["beneficiary"] == paul.pk
    assert moved.status_code == 200, moved.json()
    assert (moved.json()["valid_from"], moved.json()["valid_until"]) == (
        "2026-01-01",
        "2027-01-31",
    )
    periods = MembershipPeriod.objects.for_org(org).order_by("contact__last_name")
    assert [(p.contact_id, p.start_date, p.end_date) for p in periods] == [
        (paul.pk, dt.date(2026, 1, 1), dt.date(2027, 1, 31)),
        (helene.pk, dt.date(2026, 2, 1), dt.date(2027, 1, 31)),
    ]


# Bad input ------------------------------------------------------------------------------


def test_bad_amounts_payers_and_dates_are_400_with_the_services_messages(org, other_org, api):
    helene = person(org)
    town = company(org)
    foreign = person(other_org, "Voisin")
    base = {"kind": "don", "amount": "20", "paid_on": "2026-03-14", "payer_contact": helene.pk}

    def refused(**changes):
        body = {key: value for key, value in {**base, **changes}.items() if value is not ...}
        response = post(api, "api-payments-list", body)
        assert response.status_code == 400, response.json()
        return response.json()

    assert refused(amount="-5") == {"amount": ["Le montant ne peut pas être négatif."]}
    assert refused(amount="0") == {"amount": ["Un paiement payé a un montant supérieur à zéro."]}
    assert refused(amount=..., amount_cents=0) == {
        "amount_cents": ["Un paiement payé a un montant supérieur à zéro."]
    }
    assert refused(amount="12,345") == {
        "amount": ["Un montant a au plus 2 décimales (des centimes)."]
    }
    assert refused(amount=12.345) == {
        "amount": ["Un montant a au plus 2 décimales (des centimes)."]
    }
    assert refused(amount="1e30") == {"amount": ["Montant trop grand."]}
    assert refused(amount="douze") == {"amount": ["« douze » n'est pas un montant."]}
    assert refused(amount=True) == {
        "amount": ["Un montant en euros : un nombre ou un texte (« 12,50 »)."]
    }
    assert refused(payer_contact=foreign.pk) == {
        "payer_contact": ["Contact payeur introuvable dans votre association."]
    }
    assert refused(payer_structure=town.pk) == {
        "payer": ["Un paiement a un seul payeur : un contact OU une structure."]
    }
    assert refused(payer_contact=...) == {
        "payer": ["Le payeur est obligatoire : un contact ou une structure."]
    }
    assert refused(kind="adhesion", valid_from="2026-03-01", valid_until="2026-02-28") == {
        "valid_until": ["La fin de validité est avant son début."]
    }
    assert refused(paid_on="9999-12-31") == {"paid_on": ["La date doit être entre 1900 et 2200."]}
    assert refused(kind=..., paid_on=..., campaign="Inconnue", labels=["Inconnue"]) == {
        "kind": ["Le type de paiement est obligatoire."],
        "paid_on": ["La date est obligatoire."],
    }
    assert refused(campaign="Inconnue", labels=["Inconnue"]) == {
        "campaign": ["Campagne inconnue : « Inconnue »."],
        "labels": ["Étiquette inconnue : « Inconnue »."],
    }
    assert Payment.objects.count() == 0
    assert MembershipPeriod.objects.count() == 0


def test_a_zero_amount_is_fine_for_a_pending_payment(org, api):
    response = post(
        api,
        "api-payments-list",
        {
            "kind": "billetterie",
            "amount_cents": 0,
            "status": "en_attente",
            "paid_on": "2026-03-14",
            "payer_contact": person(org).pk,
        },
    )

    assert response.status_code == 201, response.json()
    assert response.json()["amount"] == "0.00"


# Update and delete ----------------------------------------------------------------------


def test_patch_changes_only_what_is_given(org, api):
    helene = person(org)
    town = company(org)
    gala = contacts.save_label(organization=org, actor=ACTOR, name="Gala", color="#aa0000")
    payment = pay(org, payer_contact=helene, method="cheque", labels=[gala.pk], notes="Merci")

    amount = patch(api, "api-payments-detail", {"amount": "75,20"}, args=[payment.pk])
    payer = patch(
        api,
        "api-payments-detail",
        {"payer_contact": None, "payer_structure": town.pk, "beneficiary": None, "labels": []},
        args=[payment.pk],
    )
    cancelled = patch(api, "api-payments-detail", {"status": "annule"}, args=[payment.pk])

    assert amount.status_code == 200, amount.json()
    assert (amount.json()["amount_cents"], amount.json()["method"]) == (7520, "cheque")
    assert amount.json()["notes"] == "Merci"
    assert [label["name"] for label in amount.json()["labels"]] == ["Gala"]
    assert payer.status_code == 200, payer.json()
    assert (payer.json()["payer_contact"], payer.json()["payer_structure"]) == (None, town.pk)
    assert payer.json()["labels"] == []
    assert cancelled.json()["status"] == "annule"
    assert payment_interactions(payment.pk) == []
    changes = [
        event.changes
        for event in payment_events(org)
        .filter(target_id=payment.pk, action="update")
        .order_by("pk")
    ]
    assert changes[0]["amount_cents"] == [5000, 7520]


def test_patch_with_a_bad_value_changes_nothing(org, other_org, api):
    payment = pay(org, payer_contact=person(org))
    foreign_campaign = services.save_campaign(organization=other_org, actor=ACTOR, name="Voisin")

    response = patch(
        api,
        "api-payments-detail",
        {"amount_cents": -100, "campaign": foreign_campaign.pk, "notes": "x"},
        args=[payment.pk],
    )

    assert response.status_code == 400
    assert response.json() == {
        "amount_cents": ["Le montant ne peut pas être négatif."],
        "campaign": [f"Campagne inconnue : « {foreign_campaign.pk} »."],
    }
    payment.refresh_from_db()
    assert (payment.amount_cents, payment.campaign_id, payment.notes) == (5000, None, "")


def test_put_is_not_offered(org, api):
    payment = pay(org, payer_contact=person(org))

    response = api.put(
        reverse("api-payments-detail", args=[payment.pk]),
        data={"amount": "1"},
        content_type="application/json",
    )

    assert response.status_code == 405


def test_delete_takes_the_interactions_and_the_period_along(org, api):
    helene = person(org)
    payment = membership(org, helene, "2026-01-01", "2026-12-31")

    response = api.delete(reverse("api-payments-detail", args=[payment.pk]))

    assert response.status_code == 204
    assert not Payment.objects.filter(pk=payment.pk).exists()
    assert payment_interactions(payment.pk) == []
    assert not MembershipPeriod.objects.exists()


# List: filters and totals ---------------------------------------------------------------


@pytest.fixture
def table(org):
    """Seven payments of known amounts (cents in the names), oldest first."""
    helene, paul = person(org), person(org, "Durand", "Paul")
    town = company(org, "Mairie")
    major = contacts.save_label(
        organization=org, actor=ACTOR, name="Grand donateur", color="#000000"
    )
    contacts.add_labels(
        organization=org, actor=ACTOR, model=type(paul), ids=[paul.pk], labels=[major]
    )
    contacts.add_labels(
        organization=org, actor=ACTOR, model=type(town), ids=[town.pk], labels=[major]
    )
    gala = services.save_campaign(organization=org, actor=ACTOR, name="Gala")
    rows = {
        "d1000": pay(org, amount="10", paid_on="2026-01-05", payer_contact=helene),
        "d2500": pay(
            org, amount="25", paid_on="2026-01-20", payer_contact=helene, campaign=gala,
            method="carte", is_recurring=True,
        ),
        "m3000": pay(
            org, kind="adhesion", amount="30", paid_on="2026-02-01", payer_contact=paul,
            method="virement",
        ),
        "d9900": pay(
            org, amount="99", paid_on="2026-02-14", payer_structure=town, beneficiary=helene,
            campaign=gala, method="virement",
        ),
        "r4000": pay(
            org, amount="40", paid_on="2026-03-01", payer_contact=paul, status="rembourse",
            method="carte",
        ),
        "p1500": pay(
            org, kind="billetterie", amount="15", paid_on="2026-03-10", payer_contact=paul,
            status="en_attente", method="especes",
        ),
        "d500": pay(org, amount="5", paid_on="2026-03-31", payer_contact=helene, campaign=gala),
    }  # fmt: skip
    return {
        "rows": rows,
        "helene": helene,
        "paul": paul,
        "town": town,
        "major": major,
        "gala": gala,
    }


def test_list_filters_narrow_and_totals_count_every_filtered_row(org, api, table):
    rows = table["rows"]
    name_of = {payment.pk: name for name, payment in rows.items()}
    url = reverse("api-payments-list")

    def listed(**params):
        response = api.get(url, params)
        assert response.status_code == 200, response.json()
        body = response.json()
        return [name_of[row["id"]] for row in body["results"]], body["totals"]

    everything, totals = listed()
    assert everything == ["d500", "p1500", "r4000", "d9900", "m3000", "d2500", "d1000"]
    assert totals == {"count": 7, "total_cents": 22400, "total": "224.00"}
    assert listed(kind="don") == (
        ["d500", "r4000", "d9900", "d2500", "d1000"],
        {"count": 5, "total_cents": 17900, "total": "179.00"},
    )
    assert listed(date_from="2026-02-01", date_to="2026-03-01")[0] == ["r4000", "d9900", "m3000"]
    assert listed(amount_min="25", amount_max="40,00")[0] == ["r4000", "m3000", "d2500"]
    assert listed(status=["rembourse", "en_attente"]) == (
        ["p1500", "r4000"],
        {"count": 2, "total_cents": 5500, "total": "55.00"},
    )
    assert listed(method="virement")[0] == ["d9900", "m3000"]
    assert listed(campaign=table["gala"].pk)[0] == ["d500", "d9900", "d2500"]
    # Payer or beneficiary: Hélène benefits from the town's donation.
    assert listed(contact=table["helene"].pk)[0] == ["d500", "d9900", "d2500", "d1000"]
    assert listed(structure=table["town"].pk)[0] == ["d9900"]
    assert listed(payer_label="grand DONATEUR")[0] == ["p1500", "r4000", "d9900", "m3000"]
    assert listed(payer_label=table["major"].pk, kind="don")[0] == ["r4000", "d9900"]
    assert listed(recurring="true")[0] == ["d2500"]
    assert listed(recurring="false", kind="adhesion")[0] == ["m3000"]
    assert listed(sort="amount")[0] == [
        "d9900",
        "r4000",
        "m3000",
        "d2500",
        "p1500",
        "d1000",
        "d500",
    ]
    assert listed(sort="-date")[0][:2] == ["d1000", "d2500"]
    # The totals are the filtered rows', not the page's.
    paged = api.get(url, {"limit": 2, "offset": 1, "kind": "don"}).json()
    assert [name_of[row["id"]] for row in paged["results"]] == ["r4000", "d9900"]
    assert (paged["count"], paged["totals"]) == (
        5,
        {"count": 5, "total_cents": 17900, "total": "179.00"},
    )


def test_bad_list_parameters_are_a_400_in_french(org, other_org, api):
    url = reverse("api-payments-list")
    foreign = contacts.save_label(
        organization=other_org, actor=ACTOR, name="Voisin", color="#000000"
    )

    def refused(params):
        response = api.get(url, params)
        assert response.status_code == 400, response.json()
        return response.json()

    assert refused({"kind": "legs"}) == {"kind": ["Type inconnu : « legs »."]}
    assert refused({"kind": ""}) == {"kind": ["Une valeur est attendue."]}
    assert refused({"date_from": "2026-02-30"}) == {
        "date_from": ["« 2026-02-30 » n'est pas une date (AAAA-MM-JJ)."]
    }
    assert refused({"date_from": "2026-03-02", "date_to": "2026-03-01"}) == {
        "date_to": ["La date de fin est avant la date de début."]
    }
    assert refused({"amount_min": "beaucoup"}) == {
        "amount_min": ["« beaucoup » n'est pas un montant."]
    }
    assert refused({"amount_max": "1e30"}) == {"amount_max": ["Montant trop grand."]}
    assert refused({"status": ["paye", "perdu"]}) == {"status": ["Statut inconnu : « perdu »."]}
    assert refused({"method": "bitcoin"}) == {
        "method": ["Moyen de paiement inconnu : « bitcoin »."]
    }
    assert refused({"contact": "²"}) == {"contact": ["« ² » n'est pas un identifiant."]}
    assert refused({"payer_label": foreign.pk}) == {
        "payer_label": [f"Étiquette inconnue : « {foreign.pk} »."]
    }
    assert refused({"recurring": "peut"}) == {"recurring": ["true ou false attendu."]}
    assert refused({"sort": "nom"}) == {"sort": ["Tri inconnu : date, -date, amount ou -amount."]}
    assert refused({"kind": ["don", "adhesion"]}) == {
        "kind": ["Le paramètre « kind » est donné plusieurs fois."]
    }


def test_list_query_count_does_not_grow_with_page_size(org, api):
    people = [person(org, f"Nom {i}") for i in range(5)]
    gala = services.save_campaign(organization=org, actor=ACTOR, name="Gala")
    label = contacts.save_label(organization=org, actor=ACTOR, name="Gala", color="#000000")
    town = company(org)
    for i in range(30):
        pay(
            org,
            kind=["don", "adhesion"][i % 2],
            amount=str(10 + i),
            paid_on=dt.date(2026, 1, 1) + dt.timedelta(days=i),
            payer_contact=None if i % 3 == 0 else people[i % 5],
            payer_structure=town if i % 3 == 0 else None,
            beneficiary=people[(i + 1) % 5],
            campaign=gala if i % 2 else None,
            labels=[label.pk],
        )
    url = reverse("api-payments-list")

    def count(limit):
        with CaptureQueriesContext(connection) as queries:
            response = api.get(url, {"limit": limit, "date_from": "2026-01-01"})
        results = response.json()["results"]
        assert len(results) == limit
        assert any(row["valid_from"] for row in results)
        assert all(row["labels"] for row in results)
        return len(queries)

    api.get(url)  # the token's « last used » is written on the first call only
    assert count(5) == count(30)


# Campaigns ------------------------------------------------------------------------------


def test_campaign_crud_with_figures_over_paid_payments(org, api):
    helene, paul = person(org), person(org, "Durand", "Paul")
    town = company(org)

    created = post(
        api,
        "api-campaigns-list",
        {"name": "  Appel   de printemps ", "start_date": "2026-03-01", "goal": "5 000"},
    )
    pk = created.json()["id"]
    for payer, amount, status in [
        ({"payer_contact": helene}, "100", "paye"),
        ({"payer_contact": helene}, "50", "paye"),
        ({"payer_structure": town}, "400", "paye"),
        ({"payer_contact": paul}, "1000", "rembourse"),
    ]:
        pay(org, amount=amount, status=status, campaign=pk, **payer)
    read = api.get(reverse("api-campaigns-detail", args=[pk]))
    changed = patch(api, "api-campaigns-detail", {"goal_cents": 110_000}, args=[pk])

    assert created.status_code == 201, created.json()
    assert created.json() == {
        "id": pk,
        "name": "Appel de printemps",
        "kind": "don",
        "start_date": "2026-03-01",
        "end_date": None,
        "goal_cents": 500_000,
        "goal": "5000.00",
        "description": "",
        "collected_cents": 0,
        "payments_count": 0,
        "payers_count": 0,
        "percent": 0,
        "created_at": created.json()["created_at"],
    }
    figures = {
        key: read.json()[key]
        for key in ("collected_cents", "payments_count", "payers_count", "percent")
    }
    assert figures == {
        "collected_cents": 55_000,
        "payments_count": 3,
        "payers_count": 2,
        "percent": 11,
    }
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["goal"], changed.json()["percent"]) == ("1100.00", 50)
    assert changed.json()["start_date"] == "2026-03-01"
    assert changed.json()["name"] == "Appel de printemps"


def test_campaigns_are_listed_latest_first_and_bad_input_is_400(org, api):
    services.save_campaign(organization=org, actor=ACTOR, name="Sans date")
    services.save_campaign(organization=org, actor=ACTOR, name="Hiver", start_date="2025-12-01")
    services.save_campaign(organization=org, actor=ACTOR, name="Été", start_date="2026-06-01")

    listed = api.get(reverse("api-campaigns-list")).json()
    duplicate = post(api, "api-campaigns-list", {"name": "hiver"})
    backwards = post(
        api,
        "api-campaigns-list",
        {"name": "Rentrée", "start_date": "2026-09-30", "end_date": "2026-09-01"},
    )
    no_goal = post(api, "api-campaigns-list", {"name": "Rentrée", "goal_cents": 0})
    both = post(api, "api-campaigns-list", {"name": "Rentrée", "goal": "1", "goal_cents": 100})

    assert [row["name"] for row in listed["results"]] == ["Été", "Hiver", "Sans date"]
    assert duplicate.json() == {"name": ["La campagne « hiver » existe déjà."]}
    assert backwards.json() == {"end_date": ["La date de fin est avant la date de début."]}
    assert no_goal.json() == {"goal_cents": ["L'objectif doit être un montant positif."]}
    assert both.json() == {
        "goal_cents": ["L'objectif se donne une fois : goal (euros) ou goal_cents."]
    }
    assert Campaign.objects.for_org(org).count() == 3


def test_a_campaign_in_use_is_not_deleted_an_unused_one_is(org, api):
    used = services.save_campaign(organization=org, actor=ACTOR, name="Gala")
    unused = services.save_campaign(organization=org, actor=ACTOR, name="Brocante")
    pay(org, payer_contact=person(org), campaign=used, status="annule")

    conflict = api.delete(reverse("api-campaigns-detail", args=[used.pk]))
    deleted = api.delete(reverse("api-campaigns-detail", args=[unused.pk]))

    assert conflict.status_code == 409
    assert conflict.json() == {
        "detail": "1 paiement(s) sont rattachés à la campagne « Gala » : rattachez-les à une "
        "autre campagne avant de la supprimer."
    }
    assert Campaign.objects.filter(pk=used.pk).exists()
    assert deleted.status_code == 204
    assert not Campaign.objects.filter(pk=unused.pk).exists()


# Memberships ----------------------------------------------------------------------------


def test_periods_are_listed_newest_first_and_filtered(org, api):
    helene, paul = person(org), person(org, "Durand", "Paul")
    old = membership(org, helene, "2024-01-01", "2024-12-31").membership_periods.get()
    current = membership(org, helene, "2025-06-01", "2026-05-31").membership_periods.get()
    pauls = membership(org, paul, "2026-01-01", "2026-12-31").membership_periods.get()
    url = reverse("api-memberships-list")

    def ids(**params):
        response = api.get(url, params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [pauls.pk, current.pk, old.pk]
    assert ids(contact=helene.pk) == [current.pk, old.pk]
    assert ids(active_on="2026-03-01") == [pauls.pk, current.pk]
    assert ids(active_on="2024-12-31") == [old.pk]
    assert ids(ended_after="2026-05-31") == [pauls.pk, current.pk]
    assert ids(ended_before="2026-05-31") == [current.pk, old.pk]
    assert ids(ended_after="2026-01-01", ended_before="2026-06-30") == [current.pk]
    assert api.get(reverse("api-memberships-detail", args=[old.pk])).json() == {
        "id": old.pk,
        "contact": helene.pk,
        "payment": old.payment_id,
        "start_date": "2024-01-01",
        "end_date": "2024-12-31",
        "created_at": api.get(url).json()["results"][2]["created_at"],
    }
    assert api.get(url, {"active_on": "hier"}).json() == {
        "active_on": ["« hier » n'est pas une date (AAAA-MM-JJ)."]
    }


def test_status_per_contact_on_a_day(org, api):
    current, renew, upcoming, expired, never = (
        person(org, name) for name in ["À jour", "Bientôt", "Futur", "Ancien", "Jamais"]
    )
    membership(org, current, "2026-01-01", "2026-12-31")
    membership(org, renew, "2025-04-01", "2026-03-31")
    membership(org, upcoming, "2024-01-01", "2024-12-31")
    membership(org, upcoming, "2026-04-01", "2027-03-31")
    membership(org, expired, "2025-01-01", "2025-12-31")
    asked = [never, current, renew, upcoming, expired, current]

    response = api.get(
        reverse("api-memberships-status"),
        {"contact": [c.pk for c in asked], "date": "2026-03-15"},
    )

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "date": "2026-03-15",
        "results": [
            {
                "contact": never.pk,
                "status": "jamais",
                "label": "Jamais adhérent",
                "valid_until": None,
                "ended_on": None,
                "starts_on": None,
            },
            {
                "contact": current.pk,
                "status": "a_jour",
                "label": "À jour",
                "valid_until": "2026-12-31",
                "ended_on": None,
                "starts_on": None,
            },
            {
                "contact": renew.pk,
                "status": "a_renouveler",
                "label": "À renouveler",
                "valid_until": "2026-03-31",
                "ended_on": None,
                "starts_on": None,
            },
            {
                "contact": upcoming.pk,
                "status": "a_venir",
                "label": "À venir",
                "valid_until": None,
                "ended_on": "2024-12-31",
                "starts_on": "2026-04-01",
            },
            {
                "contact": expired.pk,
                "status": "expire",
                "label": "Expiré",
                "valid_until": None,
                "ended_on": "2025-12-31",
                "starts_on": None,
            },
        ],
    }


def test_status_is_today_by_default_and_refuses_foreign_or_bad_contacts(org, other_org, api):
    helene = person(org)
    foreign = person(other_org, "Voisin")
    today = timezone.localdate()
    membership(org, helene, today - dt.timedelta(days=10), today + dt.timedelta(days=100))
    url = reverse("api-memberships-status")

    todays = api.get(url, {"contact": helene.pk}).json()
    nobody = api.get(url).json()
    outsider = api.get(url, {"contact": [helene.pk, foreign.pk]})
    bad_id = api.get(url, {"contact": "abc"})
    too_many = api.get(url, {"contact": list(range(1, 502))})

    assert todays["date"] == today.isoformat()
    assert todays["results"][0]["status"] == "a_jour"
    assert todays["results"][0]["valid_until"] == (today + dt.timedelta(days=100)).isoformat()
    assert nobody == {"date": today.isoformat(), "results": []}
    assert outsider.status_code == 400
    assert outsider.json() == {
        "contact": [f"Contacts introuvables dans votre association : {foreign.pk}."]
    }
    assert bad_id.json() == {"contact": ["« abc » n'est pas un identifiant."]}
    assert too_many.json() == {"contact": ["500 contacts au plus par demande."]}


# Rights and isolation -------------------------------------------------------------------


@pytest.fixture
def hidden_payments(org) -> Membership:
    """Every right on payments, but a profile that hides payment data."""
    profile = save_profile(
        organization=org,
        actor=ACTOR,
        name="Accueil",
        rights={"contacts": ["view"], "payments": ["view", "add", "change", "delete"]},
        hide_payment_data=True,
    )
    return Membership.objects.create(
        organization=org, user=make_user("accueil@amis-du-parc.fr"), profile=profile
    )


def test_a_profile_hiding_payment_data_gets_403_everywhere(org, hidden_payments):
    helene = person(org)
    payment = membership(org, helene, "2026-01-01", "2026-12-31")
    campaign = services.save_campaign(organization=org, actor=ACTOR, name="Gala")
    period = payment.membership_periods.get()
    client = api_client_for(hidden_payments)
    donation = {"kind": "don", "amount": "5", "paid_on": "2026-03-01", "payer_contact": helene.pk}

    responses = [
        client.get(reverse("api-payments-list")),
        client.get(reverse("api-payments-detail", args=[payment.pk])),
        post(client, "api-payments-list", donation),
        patch(client, "api-payments-detail", {"notes": "x"}, args=[payment.pk]),
        client.delete(reverse("api-payments-detail", args=[payment.pk])),
        client.get(reverse("api-campaigns-list")),
        client.get(reverse("api-campaigns-detail", args=[campaign.pk])),
        post(client, "api-campaigns-list", {"name": "Brocante"}),
        patch(client, "api-campaigns-detail", {"name": "Bal"}, args=[campaign.pk]),
        client.delete(reverse("api-campaigns-detail", args=[campaign.pk])),
        client.get(reverse("api-memberships-list")),
        client.get(reverse("api-memberships-detail", args=[period.pk])),
        client.get(reverse("api-memberships-status"), {"contact": helene.pk}),
    ]

    assert [r.status_code for r in responses] == [403] * len(responses)
    assert client.get(reverse("api-contacts-list")).status_code == 200
    assert Payment.objects.for_org(org).count() == 1
    assert Campaign.objects.for_org(org).get().name == "Gala"


def test_a_reader_reads_and_does_not_write(org, reader_member):
    payment = pay(org, payer_contact=person(org))
    reader = api_client_for(reader_member)

    assert reader.get(reverse("api-payments-list")).json()["totals"]["total_cents"] == 5000
    assert patch(reader, "api-payments-detail", {"notes": "x"}, args=[payment.pk]).status_code == (
        403
    )
    assert post(reader, "api-campaigns-list", {"name": "Gala"}).status_code == 403


def test_another_organisations_rows_are_404_and_never_listed(org, other_org, api):
    theirs = membership(other_org, person(other_org, "Voisin"), "2026-01-01", "2026-12-31")
    their_campaign = services.save_campaign(organization=other_org, actor=ACTOR, name="Voisin")
    period = theirs.membership_periods.get()

    assert api.get(reverse("api-payments-detail", args=[theirs.pk])).status_code == 404
    assert patch(api, "api-payments-detail", {"notes": "x"}, args=[theirs.pk]).status_code == 404
    assert api.delete(reverse("api-payments-detail", args=[theirs.pk])).status_code == 404
    assert api.get(reverse("api-campaigns-detail", args=[their_campaign.pk])).status_code == 404
    assert api.get(reverse("api-memberships-detail", args=[period.pk])).status_code == 404
    assert api.get(reverse("api-payments-list")).json()["totals"] == {
        "count": 0,
        "total_cents": 0,
        "total": "0.00",
    }
    assert api.get(reverse("api-campaigns-list")).json()["count"] == 0
    assert api.get(reverse("api-memberships-list")).json()["count"] == 0


def test_sensitive_payment_custom_fields_are_hidden_from_profiles_that_hide_them(org):
    secret = contacts.save_custom_field(
        organization=org,
        actor=ACTOR,
        target="payment",
        name="Motif",
        field_type="text",
        sensitive=True,
    )
    payment = pay(org, payer_contact=person(org), custom={secret.key: "Deuil"})
    profile = save_profile(
        organization=org,
        actor=ACTOR,
        name="Bénévoles",
        rights={"payments": ["view", "change"]},
        hide_sensitive_fields=True,
    )
    volunteer = Membership.objects.create(
        organization=org, user=make_user("benevole@amis-du-parc.fr"), profile=profile
    )
    client = api_client_for(volunteer)

    read = client.get(reverse("api-payments-detail", args=[payment.pk]))
    write = patch(client, "api-payments-detail", {"custom": {secret.key: "x"}}, args=[payment.pk])

    assert read.json()["custom"] == {}
    assert write.status_code == 400
    assert write.json() == {"custom": [f"Champ personnalisé inconnu : « {secret.key} »."]}
    payment.refresh_from_db()
    assert payment.custom == {secret.key: "Deuil"}
