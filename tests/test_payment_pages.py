"""Payment pages: recording, editing and deleting through the forms, the service's messages
on the form, the tables (filters, sorts, keyset pages, totals), the card sections, and
what a profile that hides payment data no longer sees."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lien.contacts import services as contacts
from lien.contacts.models import Contact, ContactLabel
from lien.core.audit import Actor
from lien.core.models import AuditEvent, Membership
from lien.core.services import save_profile
from lien.interactions.models import Interaction
from lien.payments import services
from lien.payments.models import MembershipPeriod, Payment, PaymentLabel
from tests.conftest import client_for, make_user

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system()


def new_contact(org, first: str, last: str) -> Contact:
    return contacts.create_contact(
        organization=org, actor=SYSTEM, data={"first_name": first, "last_name": last}
    )


def pay(org, **values) -> Payment:
    values = {"kind": "don", "method": "cheque", **values}
    return services.create_payment(organization=org, actor=SYSTEM, **values)


def form(**values) -> dict:
    """A filled payment form: a paid donation of 50 € by cheque, with what is given."""
    return {
        "kind": "don",
        "amount": "50",
        "paid_on": "2026-03-12",
        "status": "paye",
        "method": "cheque",
        **values,
    }


def rows(response) -> list[str]:
    """Each row of a table as « date · amount · payer » (the page's own order)."""
    return [
        f"{p.paid_on:%d/%m} · {p.amount_display} · {p.payer}" for p in response.context["page"].rows
    ]


def events_of(payment: Payment):
    return AuditEvent.objects.filter(
        target_type=ContentType.objects.get_for_model(Payment), target_id=payment.pk
    )


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def label_names(contact: Contact) -> list[str]:
    return sorted(
        ContactLabel.objects.filter(contact=contact).values_list("label__name", flat=True)
    )


def hidden_member(org, admin_member) -> Membership:
    """Every right on payments, but a profile that hides payment data."""
    profile = save_profile(
        organization=org,
        actor=Actor.for_user(admin_member.user),
        name="Accueil",
        rights={
            "contacts": ["view"],
            "structures": ["view"],
            "interactions": ["view"],
            "payments": ["view", "add", "change", "delete"],
        },
        hide_payment_data=True,
    )
    return Membership.objects.create(
        organization=org, user=make_user("accueil@amis-du-parc.fr"), profile=profile
    )


# Recording ------------------------------------------------------------------------------


def test_a_donation_recorded_from_the_card_goes_back_to_it(org, admin_client, admin_member):
    # Given a contact, a campaign and a payment label
    camille = new_contact(org, "Camille", "Roux")
    campaign = services.save_campaign(organization=org, actor=SYSTEM, name="Printemps 2026")
    gala = contacts.save_label(organization=org, actor=SYSTEM, name="Gala", color="#123456")
    card = reverse("contact_detail", args=[camille.pk])
    url = f"{reverse('payment_create')}?payer_contact={camille.pk}&retour={card}"

    # When the form opens from the card, then is sent
    page = admin_client.get(url)
    response = admin_client.post(
        url,
        form(
            amount="1 234,50",
            payer_contact=camille.pk,
            campaign=campaign.pk,
            labels=[gala.pk],
            is_recurring="on",
            frequency="annuel",
            notes="Après le gala.",
        ),
    )

    # Then the payer was prefilled, the payment is recorded and the card shown again
    assert page.context["chosen"]["payer_contact"] == camille
    assert response.status_code == 302
    assert response["Location"] == card
    payment = Payment.objects.get()
    assert (
        payment.kind,
        payment.amount_cents,
        payment.paid_on,
        payment.method,
        payment.status,
        payment.campaign,
        payment.payer_contact,
        payment.beneficiary,
        payment.is_recurring,
        payment.frequency,
        payment.notes,
    ) == (
        "don",
        123450,
        dt.date(2026, 3, 12),
        "cheque",
        "paye",
        campaign,
        camille,
        camille,
        True,
        "annuel",
        "Après le gala.",
    )
    assert list(PaymentLabel.objects.values_list("label__name", flat=True)) == ["Gala"]
    assert flashed(response) == [
        "Paiement enregistré : don de 1\u202f234,50\u00a0€ du 12/03/2026, payé par Camille Roux."
    ]
    assert label_names(camille) == ["Donateur / Donatrice"]
    [interaction] = Interaction.objects.filter(source="payment")
    assert interaction.contact == camille
    event = events_of(payment).get(action="create")
    assert event.actor_user == admin_member.user


def test_from_a_table_the_form_goes_back_to_the_table_of_the_payments_kind(org, admin_client):
    mairie = contacts.create_structure(organization=org, actor=SYSTEM, data={"name": "Mairie"})
    camille = new_contact(org, "Camille", "Roux")

    page = admin_client.get(reverse("payment_create"), {"kind": "adhesion"})
    response = admin_client.post(
        f"{reverse('payment_create')}?kind=adhesion",
        form(kind="adhesion", amount="30", payer_structure=mairie.pk, beneficiary=camille.pk),
    )

    assert page.context["form"]["kind"].value() == "adhesion"
    assert response.status_code == 302
    assert response["Location"] == reverse("payment_list_adhesion")
    payment = Payment.objects.get()
    assert (payment.payer_structure, payment.beneficiary) == (mairie, camille)


def test_a_membership_takes_the_organisations_rule_or_the_dates_typed(org, admin_client):
    camille, paul = new_contact(org, "Camille", "Roux"), new_contact(org, "Paul", "Martin")
    url = reverse("payment_create")

    admin_client.post(
        url, form(kind="adhesion", amount="30", paid_on="2026-02-01", payer_contact=camille.pk)
    )
    admin_client.post(
        url,
        form(
            kind="adhesion",
            amount="30",
            paid_on="2026-02-01",
            payer_contact=paul.pk,
            valid_from="2026-09-01",
            valid_until="2027-08-31",
        ),
    )

    periods = MembershipPeriod.objects.order_by("contact__last_name")
    assert [(str(p.contact), str(p)) for p in periods] == [
        ("Paul Martin", "01/09/2026 → 31/08/2027"),
        ("Camille Roux", "01/02/2026 → 31/01/2027"),
    ]


def test_the_validity_block_shows_the_rule_and_follows_the_type(org, admin_client):
    url = reverse("payment_validity")

    membership = admin_client.get(url, {"kind": "adhesion", "paid_on": "2026-03-12"})
    donation = admin_client.get(url, {"kind": "don", "paid_on": "2026-03-12"})
    form_page = admin_client.get(reverse("payment_create"), {"kind": "adhesion"})

    assert (
        "12 mois à partir de la date du paiement — pour ce paiement, "
        "du 12/03/2026 au 11/03/2027" in membership.content.decode()
    )
    assert 'name="valid_from"' in membership.content.decode()
    assert donation.content.decode().strip() == ""
    assert 'name="valid_until"' in form_page.content.decode()


# The service's messages on the form -----------------------------------------------------


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"amount": "-5"}, {"amount": ["Le montant ne peut pas être négatif."]}),
        ({"amount": "0"}, {"amount": ["Un paiement payé a un montant supérieur à zéro."]}),
        ({"amount": "12,345"}, {"amount": ["Un montant a au plus 2 décimales (des centimes)."]}),
        ({"amount": "douze"}, {"amount": ["« douze » n'est pas un montant."]}),
        ({"amount": ""}, {"amount": ["Le montant est obligatoire."]}),
        (
            {"paid_on": "31/02/2026"},
            {"paid_on": ["« 31/02/2026 » n'est pas une date (JJ/MM/AAAA)."]},
        ),
        (
            {"kind": "adhesion", "valid_from": "2026-06-01", "valid_until": "2026-05-01"},
            {"valid_until": ["La fin de validité est avant son début."]},
        ),
        (
            {"payer_structure": "mairie"},
            {"payer": ["Un paiement a un seul payeur : un contact OU une structure."]},
        ),
        (
            {"payer_contact": ""},
            {"payer": ["Le payeur est obligatoire : un contact ou une structure."]},
        ),
        (
            {"payer_contact": "stranger"},
            {"payer_contact": ["Contact payeur introuvable dans votre association."]},
        ),
        (
            {"beneficiary": "stranger"},
            {"beneficiary": ["Bénéficiaire introuvable dans votre association."]},
        ),
    ],
)
def test_bad_input_gives_the_services_messages_and_writes_nothing(
    org, other_org, admin_client, values, errors
):
    camille = new_contact(org, "Camille", "Roux")
    mairie = contacts.create_structure(organization=org, actor=SYSTEM, data={"name": "Mairie"})
    stranger = new_contact(other_org, "Paul", "Ailleurs")
    ids = {"mairie": mairie.pk, "stranger": stranger.pk}
    values = {k: ids.get(v, v) for k, v in values.items()}
    events = AuditEvent.objects.count()

    response = admin_client.post(
        reverse("payment_create"), form(**{"payer_contact": camille.pk, **values})
    )

    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert next(iter(errors.values()))[0] in unescape(response.content.decode())
    assert Payment.objects.count() == 0
    assert Interaction.objects.filter(source="payment").count() == 0
    assert MembershipPeriod.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_a_payer_chosen_then_posted_back_with_an_error_stays_chosen(org, admin_client):
    camille = new_contact(org, "Camille", "Roux")

    response = admin_client.post(
        reverse("payment_create"), form(amount="-1", payer_contact=camille.pk)
    )

    html = response.content.decode()
    assert f'name="payer_contact" value="{camille.pk}" checked' in html
    assert 'value="-1"' in html


# Editing and deleting -------------------------------------------------------------------


def test_editing_prefills_the_form_and_records_only_what_changed(org, admin_client):
    camille, paul = new_contact(org, "Camille", "Roux"), new_contact(org, "Paul", "Martin")
    contacts.save_custom_field(
        organization=org, actor=SYSTEM, target="payment", name="Reçu papier",
        field_type="boolean",
    )  # fmt: skip
    payment = pay(
        org, amount="50", paid_on="2026-03-12", payer_contact=camille,
        custom={"recu_papier": True},
    )  # fmt: skip
    url = reverse("payment_edit", args=[payment.pk])

    page = admin_client.get(url)
    response = admin_client.post(
        url,
        form(amount="75,20", status="en_attente", payer_contact=paul.pk, custom__recu_papier="oui"),
    )

    bound = page.context["form"]
    assert (bound["amount"].value(), bound["paid_on"].value(), bound["beneficiary"].value()) == (
        "50,00",
        "2026-03-12",
        "",
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("payment_detail", args=[payment.pk])
    payment.refresh_from_db()
    # A new payer benefits too: the beneficiary left empty follows the payer.
    assert (payment.amount_cents, payment.status, payment.payer_contact, payment.beneficiary) == (
        7520,
        "en_attente",
        paul,
        paul,
    )
    # The custom field sent unchanged and the empty validity dates are no change.
    update = events_of(payment).get(action="update")
    assert sorted(update.changes) == ["amount_cents", "beneficiary", "payer_contact", "status"]
    assert payment.custom == {"recu_papier": True}
    assert label_names(camille) == [] and label_names(paul) == []  # a pending gift: no label


def test_deleting_asks_first_then_takes_interactions_and_period_along(org, admin_client):
    camille = new_contact(org, "Camille", "Roux")
    payment = pay(org, kind="adhesion", amount="30", paid_on="2026-02-01", payer_contact=camille)
    url = reverse("payment_delete", args=[payment.pk])

    confirm = admin_client.get(url)
    response = admin_client.post(url)

    html = confirm.content.decode()
    assert "Supprimer ce paiement ?" in html
    assert "la période d'adhésion du 01/02/2026 au 31/01/2027" in html
    assert response["Location"] == reverse("payment_list_adhesion")
    assert Payment.objects.count() == MembershipPeriod.objects.count() == 0
    assert Interaction.objects.filter(source="payment").count() == 0
    assert flashed(response) == ["Paiement supprimé : adhésion de 30,00\u00a0€ du 01/02/2026."]
    assert label_names(camille) == []


def test_the_payment_page_shows_fields_labels_period_interactions_and_history(org, admin_client):
    camille = new_contact(org, "Camille", "Roux")
    mairie = contacts.create_structure(organization=org, actor=SYSTEM, data={"name": "Mairie"})
    gala = contacts.save_label(organization=org, actor=SYSTEM, name="Gala", color="#123456")
    contacts.save_custom_field(
        organization=org, actor=SYSTEM, target="payment", name="Reçu papier",
        field_type="boolean",
    )  # fmt: skip
    payment = pay(
        org, kind="adhesion", amount="30", paid_on="2026-02-01", payer_structure=mairie,
        beneficiary=camille, labels=[gala.pk], custom={"recu_papier": True},
    )  # fmt: skip

    response = admin_client.get(reverse("payment_detail", args=[payment.pk]))

    html = response.content.decode()
    assert "Adhésion de 30,00\u00a0€" in html
    assert "Valable du <strong>01/02/2026</strong> au <strong>31/01/2027</strong>" in html
    assert "Gala" in html and "Reçu papier" in html
    assert [str(i.contact) for i in response.context["interactions"]] == ["Camille Roux"]
    assert [e.action for e in response.context["history"]] == ["create"]


# The tables -----------------------------------------------------------------------------


def test_table_filters_and_sorts(org, admin_client):
    camille, paul = new_contact(org, "Camille", "Roux"), new_contact(org, "Paul", "Martin")
    friend = contacts.save_label(organization=org, actor=SYSTEM, name="Ami", color="#123456")
    contacts.add_labels(organization=org, actor=SYSTEM, model=Contact, ids=[paul.pk],
                        labels=[friend])  # fmt: skip
    spring = services.save_campaign(organization=org, actor=SYSTEM, name="Printemps")
    pay(org, amount="10", paid_on="2026-01-05", payer_contact=camille, method="carte")
    pay(org, amount="200", paid_on="2026-02-05", payer_contact=paul, campaign=spring)
    pay(org, amount="35", paid_on="2026-03-05", payer_contact=paul, status="en_attente")
    pay(org, kind="adhesion", amount="30", paid_on="2026-03-06", payer_contact=camille)
    url = reverse("payment_list_don")

    def get(**params):
        response = admin_client.get(url, params)
        assert response.status_code == 200
        return rows(response)

    assert get() == [
        "05/03 · 35,00\u00a0€ · Paul Martin",
        "05/02 · 200,00\u00a0€ · Paul Martin",
        "05/01 · 10,00\u00a0€ · Camille Roux",
    ]
    assert get(sort="-date")[0] == "05/01 · 10,00\u00a0€ · Camille Roux"
    assert [r.split(" · ")[1] for r in get(sort="amount")] == [
        "200,00\u00a0€", "35,00\u00a0€", "10,00\u00a0€"
    ]  # fmt: skip
    assert [r.split(" · ")[1] for r in get(sort="-amount")] == [
        "10,00\u00a0€", "35,00\u00a0€", "200,00\u00a0€"
    ]  # fmt: skip
    assert get(date_from="2026-02-01", date_to="2026-02-28") == [
        "05/02 · 200,00\u00a0€ · Paul Martin"
    ]
    assert get(amount_min="20", amount_max="100") == ["05/03 · 35,00\u00a0€ · Paul Martin"]
    assert len(get(status=["paye", "en_attente"])) == 3
    assert get(status="en_attente") == ["05/03 · 35,00\u00a0€ · Paul Martin"]
    assert get(method="carte") == ["05/01 · 10,00\u00a0€ · Camille Roux"]
    assert get(campaign=spring.pk) == ["05/02 · 200,00\u00a0€ · Paul Martin"]
    assert len(get(payer_label=friend.pk)) == 2
    assert get(contact=camille.pk) == ["05/01 · 10,00\u00a0€ · Camille Roux"]
    assert rows(admin_client.get(reverse("payment_list_adhesion"))) == [
        "06/03 · 30,00\u00a0€ · Camille Roux"
    ]


def test_totals_count_and_sum_the_filtered_rows(org, admin_client):
    camille = new_contact(org, "Camille", "Roux")
    pay(org, amount="10", paid_on="2026-01-05", payer_contact=camille)
    pay(org, amount="1200,50", paid_on="2026-02-05", payer_contact=camille)
    pay(org, amount="35", paid_on="2026-03-05", payer_contact=camille, status="rembourse")
    pay(org, kind="adhesion", amount="30", paid_on="2026-03-06", payer_contact=camille)
    url = reverse("payment_totals")

    def totals(**params) -> str:
        return admin_client.get(url, params).content.decode().strip()

    assert totals(kind="don") == (
        "<strong>3 paiements</strong> · total <strong>1\u202f245,50\u00a0€</strong> "
        '<span class="muted">(dont 2 payés : 1\u202f210,50\u00a0€)</span>'
    )
    assert totals(kind="don", status="paye") == (
        "<strong>2 paiements</strong> · total <strong>1\u202f210,50\u00a0€</strong>"
    )
    assert totals(kind="don", amount_min="1000") == (
        "<strong>1 paiement</strong> · total <strong>1\u202f200,50\u00a0€</strong>"
    )
    assert totals(kind="billetterie") == "Aucun paiement"
    assert totals(kind="don", amount_min="abc") == "—"
    table = admin_client.get(reverse("payment_list_don"), {"status": "paye"}).content.decode()
    assert f'{url}?kind=don&status=paye"' in table  # loaded apart, with the filters


def test_bad_filters_are_told_beside_their_field_without_a_500(org, admin_client):
    url = reverse("payment_list_don")
    params = {"amount_min": "abc", "date_from": "2026-02-30", "status": "perdu"}

    page = admin_client.get(url, params)
    swapped = admin_client.get(
        url, params, headers={"HX-Request": "true", "HX-Target": "payment-results"}
    )
    bad_sort = admin_client.get(url, {"sort": "payeur"})

    assert page.status_code == swapped.status_code == bad_sort.status_code == 200
    assert page.context["page"] is None
    html = unescape(page.content.decode())
    assert re.search(r'id="filter-error-amount_min"[^>]*>« abc » n\'est pas un montant\.<', html)
    assert "« 2026-02-30 » n'est pas une date (JJ/MM/AAAA)." in html
    assert "Statut inconnu : « perdu »." in html
    oob = unescape(swapped.content.decode())
    assert re.search(r'id="filter-error-amount_min"[^>]* hx-swap-oob="true">« abc »', oob)
    assert re.search(r'id="filter-error-date_to"[^>]* hx-swap-oob="true" hidden></span>', oob)
    assert "Tri inconnu : date, -date, amount ou -amount." in bad_sort.content.decode()


def test_table_pages_follow_the_sort_with_keyset_cursors(org, admin_client):
    camille = new_contact(org, "Camille", "Roux")
    for day in range(1, 31):
        pay(org, amount=str(day), paid_on=f"2026-01-{day:02d}", payer_contact=camille)
    pay(org, amount="7", paid_on="2026-01-07", payer_contact=camille)  # same day and amount
    url = reverse("payment_list_don")

    first = admin_client.get(url, {"sort": "amount"})
    second = admin_client.get(url, {"sort": "amount", "apres": first.context["page"].next_cursor})
    back = admin_client.get(
        url, {"sort": "amount", "avant": second.context["page"].previous_cursor}
    )
    by_date = admin_client.get(url, {"sort": "-date", "taille": 25})
    by_date_next = admin_client.get(
        url, {"sort": "-date", "apres": by_date.context["page"].next_cursor}
    )

    amounts = [p.amount_cents // 100 for p in first.context["page"].rows]
    assert amounts[:3] == [30, 29, 28] and len(amounts) == 25
    rest = [p.amount_cents // 100 for p in second.context["page"].rows]
    assert rest == [7, 7, 6, 5, 4, 3, 2, 1][-len(rest) :]
    assert sorted(amounts + rest, reverse=True) == amounts + rest
    assert len(amounts + rest) == 31
    assert rows(back) == rows(first)
    assert [p.paid_on.day for p in by_date_next.context["page"].rows] == [25, 26, 27, 28, 29, 30]
    assert f"apres={second.context['page'].next_cursor}" not in second.content.decode()


def test_table_query_count_does_not_grow_with_rows(
    org, admin_client, django_assert_max_num_queries
):
    spring = services.save_campaign(organization=org, actor=SYSTEM, name="Printemps")

    def fill(count: int) -> None:
        for _ in range(count):
            n = Payment.objects.count()
            mairie = contacts.create_structure(
                organization=org, actor=SYSTEM, data={"name": f"Mairie {n}"}
            )
            pay(
                org, kind="adhesion", amount=str(10 + n), paid_on=f"2026-01-{1 + n % 28:02d}",
                payer_structure=mairie, beneficiary=new_contact(org, "N", f"{n}"),
                campaign=spring, is_recurring=True, frequency="annuel",
            )  # fmt: skip

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(reverse("payment_list_adhesion"), {"taille": 50})
        return len(response.context["page"].rows), len(captured)

    fill(5)
    five_rows, five = queries()
    fill(45)
    with django_assert_max_num_queries(five):
        fifty_rows, _fifty = queries()

    assert (five_rows, fifty_rows) == (5, 50)


# Card sections --------------------------------------------------------------------------


def test_contact_section_shows_membership_and_payments_as_payer_or_beneficiary(org, admin_client):
    camille, paul = new_contact(org, "Camille", "Roux"), new_contact(org, "Paul", "Martin")
    mairie = contacts.create_structure(organization=org, actor=SYSTEM, data={"name": "Mairie"})
    today = dt.date.today()
    pay(org, amount="50", paid_on=today.isoformat(), payer_contact=camille)
    pay(org, amount="20", paid_on=today.isoformat(), payer_contact=camille, status="annule")
    pay(org, kind="adhesion", amount="30", paid_on=today.isoformat(), payer_structure=mairie,
        beneficiary=camille)  # fmt: skip
    pay(org, amount="99", paid_on=today.isoformat(), payer_contact=paul)

    section = admin_client.get(
        reverse("contact_payments", args=[camille.pk]), headers={"HX-Request": "true"}
    )
    never = admin_client.get(reverse("contact_payments", args=[paul.pk]))

    context = section.context
    assert sorted(p.amount_cents for p in context["rows"]) == [2000, 3000, 5000]
    assert (context["paid_count"], context["paid_total"]) == (1, "50,00\u00a0€")
    assert [(k["title"], k["url"], k["count"]) for k in context["by_kind"]] == [
        ("Dons", f"{reverse('payment_list_don')}?contact={camille.pk}", 2),
        ("Adhésions", f"{reverse('payment_list_adhesion')}?contact={camille.pk}", 1),
    ]
    assert context["membership"].label == "À jour"
    html = unescape(section.content.decode())
    assert "<html" not in html  # a partial for htmx
    end = (today.replace(year=today.year + 1) - dt.timedelta(days=1)).strftime("%d/%m/%Y")
    assert f"jusqu'au {end}" in html
    assert never.context["membership"].label == "Jamais adhérent"
    assert "<html" in never.content.decode()  # opened without htmx: a whole page


def test_structure_section_lists_the_payments_it_made(org, admin_client):
    camille = new_contact(org, "Camille", "Roux")
    mairie = contacts.create_structure(organization=org, actor=SYSTEM, data={"name": "Mairie"})
    pay(org, kind="adhesion", amount="30", paid_on="2026-02-01", payer_structure=mairie,
        beneficiary=camille)  # fmt: skip
    pay(org, amount="500", paid_on="2026-03-01", payer_structure=mairie)
    pay(org, amount="5", paid_on="2026-03-01", payer_contact=camille)

    section = admin_client.get(reverse("structure_payments", args=[mairie.pk]))
    card = admin_client.get(reverse("structure_detail", args=[mairie.pk])).content.decode()

    assert [p.amount_cents for p in section.context["rows"]] == [50000, 3000]
    assert section.context["paid_total"] == "530,00\u00a0€"
    assert f"{reverse('payment_list_don')}?structure={mairie.pk}" in section.content.decode()
    assert reverse("structure_payments", args=[mairie.pk]) in card


def test_pickers_search_contacts_and_structures_for_their_field(org, admin_client):
    new_contact(org, "Hélène", "Lefèvre")
    contacts.create_structure(organization=org, actor=SYSTEM, data={"name": "Mairie de Lyon"})

    payer = admin_client.get(reverse("payment_contact_search"), {"q": "lefe"})
    beneficiary = admin_client.get(
        reverse("payment_contact_search"), {"q": "helene", "champ": "beneficiary"}
    )
    structure = admin_client.get(reverse("payment_structure_search"), {"q": "mairie"})

    assert [str(c) for c in payer.context["results"]] == ["Hélène Lefèvre"]
    assert '<select name="payer_contact"' in payer.content.decode()
    assert '<select name="beneficiary"' in beneficiary.content.decode()
    assert '<select name="payer_structure"' in structure.content.decode()
    assert "Mairie de Lyon" in structure.content.decode()


# Rights ---------------------------------------------------------------------------------


def test_a_profile_hiding_payment_data_sees_no_payment_page_section_or_amount(
    org, admin_member, admin_client
):
    member = hidden_member(org, admin_member)
    client = client_for(member)
    camille = new_contact(org, "Camille", "Roux")
    mairie = contacts.create_structure(organization=org, actor=SYSTEM, data={"name": "Mairie"})
    payment = pay(org, amount="50", paid_on="2026-03-12", payer_contact=camille)
    [interaction] = Interaction.objects.filter(source="payment")

    pages = [
        reverse("payment_list_don"),
        reverse("payment_totals"),
        reverse("payment_create"),
        reverse("payment_validity"),
        reverse("payment_detail", args=[payment.pk]),
        reverse("payment_edit", args=[payment.pk]),
        reverse("payment_delete", args=[payment.pk]),
        reverse("contact_payments", args=[camille.pk]),
        reverse("structure_payments", args=[mairie.pk]),
    ]
    statuses = {url: client.get(url).status_code for url in pages}
    refused_post = client.post(reverse("payment_create"), form(payer_contact=camille.pk))
    card = client.get(reverse("contact_detail", args=[camille.pk])).content.decode()
    structure_card = client.get(reverse("structure_detail", args=[mairie.pk])).content.decode()
    timeline = client.get(reverse("contact_interactions", args=[camille.pk])).content.decode()
    table = client.get(reverse("interaction_list")).content.decode()
    owned = client.get(reverse("interaction_edit", args=[interaction.pk]))
    admin_timeline = admin_client.get(reverse("contact_interactions", args=[camille.pk]))

    assert set(statuses.values()) == {403}, statuses
    assert refused_post.status_code == 403 and Payment.objects.count() == 1
    assert reverse("contact_payments", args=[camille.pk]) not in card
    assert reverse("structure_payments", args=[mairie.pk]) not in structure_card
    for html in (timeline, table):
        assert "Paiement (détails masqués)" in html
        assert "50,00" not in html
    assert owned.status_code == 403  # editing interactions is not this profile's right
    assert "Don de 50,00\u00a0€" in admin_timeline.content.decode()
    assert "détails masqués" not in admin_timeline.content.decode()


def test_the_owned_interaction_page_masks_the_amount_too(org, admin_member):
    profile = save_profile(
        organization=org, actor=SYSTEM, name="Équipe", hide_payment_data=True,
        rights={"contacts": ["view"], "interactions": ["view", "change"]},
    )  # fmt: skip
    member = Membership.objects.create(
        organization=org, user=make_user("equipe@amis-du-parc.fr"), profile=profile
    )
    camille = new_contact(org, "Camille", "Roux")
    pay(org, amount="50", paid_on="2026-03-12", payer_contact=camille)
    interaction = Interaction.objects.get(source="payment")

    html = client_for(member).get(reverse("interaction_edit", args=[interaction.pk]))

    assert "Paiement (détails masqués)" in html.content.decode()
    assert "50,00" not in html.content.decode()


def test_a_reader_sees_payments_without_the_buttons_to_change_them(org, reader_client):
    camille = new_contact(org, "Camille", "Roux")
    payment = pay(org, amount="50", paid_on="2026-03-12", payer_contact=camille)

    table = reader_client.get(reverse("payment_list_don")).content.decode()
    detail = reader_client.get(reverse("payment_detail", args=[payment.pk])).content.decode()
    section = reader_client.get(reverse("contact_payments", args=[camille.pk])).content.decode()

    assert "50,00" in table and "Nouveau don" not in table and "Modifier" not in table
    assert reverse("payment_edit", args=[payment.pk]) not in detail
    assert reverse("payment_delete", args=[payment.pk]) not in detail
    assert "Enregistrer un paiement" not in section
