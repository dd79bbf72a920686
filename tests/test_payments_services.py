"""Payment services and selectors: bad input, interactions and periods kept in step,
membership status on chosen dates, campaigns, table filters and totals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict

from lien.contacts import services as contacts
from lien.contacts.models import Contact
from lien.core.audit import Actor
from lien.core.models import AuditEvent
from lien.interactions.models import Interaction
from lien.payments import selectors, services
from lien.payments.models import Campaign, MembershipPeriod, Payment, format_cents
from lien.payments.selectors import MembershipStatus, status_from_periods

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system()


def person(org, name: str) -> Contact:
    return contacts.create_contact(organization=org, actor=SYSTEM, data={"last_name": name})


def donation(org, payer, **values) -> Payment:
    return services.create_payment(
        organization=org,
        actor=SYSTEM,
        **{
            "kind": "don",
            "amount": "50",
            "paid_on": "2026-03-12",
            "payer_contact": payer,
            **values,
        },
    )


# Amounts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("12,50", 1250),
        ("12.5", 1250),
        ("1 234,50 €", 123450),
        ("1\u202f234,50\u00a0€", 123450),
        ("1.234,50", 123450),
        ("1,234.50", 123450),
        ("0,01", 1),
        (12, 1200),
        ("-3", -300),
    ],
)
def test_amounts_as_people_type_them(typed, cents):
    assert services.parse_amount(typed) == cents


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12,345", "Un montant a au plus 2 décimales (des centimes)."),
        ("douze", "« douze » n'est pas un montant."),
        ("", "Le montant est obligatoire."),
        ("NaN", "« NaN » n'est pas un montant."),
        ("1e20", "Montant trop grand."),
    ],
)
def test_bad_amounts_say_what_is_wrong(typed, message):
    with pytest.raises(ValidationError) as error:
        services.parse_amount(typed)

    assert error.value.messages == [message]


def test_format_cents_reads_the_french_way():
    assert format_cents(123450) == "1\u202f234,50\u00a0€"
    assert format_cents(5) == "0,05\u00a0€"


# Bad input: a clear message, nothing written -----------------------------------------------


def bad_inputs(org, other_org):
    alice = person(org, "Alice")
    mairie = contacts.create_structure(organization=org, actor=SYSTEM, data={"name": "Mairie"})
    stranger = person(other_org, "Étrangère")
    base = {"kind": "don", "amount": "10", "paid_on": "2026-01-05", "payer_contact": alice}
    return {
        "negative amount": ({**base, "amount": "-5"}, "amount", "ne peut pas être négatif"),
        "zero on a paid payment": ({**base, "amount": "0"}, "amount", "supérieur à zéro"),
        "three decimals": ({**base, "amount": "10,555"}, "amount", "au plus 2 décimales"),
        "validity ending before it starts": (
            {**base, "kind": "adhesion", "valid_from": "2026-06-01", "valid_until": "2026-01-01"},
            "valid_until",
            "avant son début",
        ),
        "a payer of another organisation": (
            {**base, "payer_contact": stranger.pk},
            "payer_contact",
            "introuvable dans votre association",
        ),
        "both payer kinds": ({**base, "payer_structure": mairie}, "payer", "un seul payeur"),
        "no payer": ({**base, "payer_contact": None}, "payer", "payeur est obligatoire"),
        "unknown kind": ({**base, "kind": "legs"}, "kind", "inconnu"),
        "unknown status": ({**base, "status": "perdu"}, "status", "inconnu"),
        "bad date": ({**base, "paid_on": "31/02/2026"}, "paid_on", "n'est pas une date"),
        "unknown campaign": ({**base, "campaign": 999999}, "campaign", "Campagne inconnue"),
    }


@pytest.mark.parametrize(
    "name",
    [
        "negative amount", "zero on a paid payment", "three decimals",
        "validity ending before it starts", "a payer of another organisation", "both payer kinds",
        "no payer", "unknown kind", "unknown status", "bad date", "unknown campaign",
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_a_clear_message_and_nothing_written(org, other_org, name):
    values, field, words = bad_inputs(org, other_org)[name]
    before = (Payment.objects.count(), Interaction.objects.count(), AuditEvent.objects.count())

    with pytest.raises(ValidationError) as error:
        services.create_payment(organization=org, actor=SYSTEM, **values)

    assert words in " ".join(error.value.message_dict[field])
    assert (Payment.objects.count(), Interaction.objects.count(), AuditEvent.objects.count()) == (
        before
    )


def test_all_errors_come_at_once(org):
    with pytest.raises(ValidationError) as error:
        services.create_payment(organization=org, actor=SYSTEM, amount="x", paid_on="")

    assert set(error.value.message_dict) == {"kind", "amount", "paid_on", "payer"}


def test_a_pending_payment_may_be_zero_but_not_negative(org):
    alice = person(org, "Alice")

    payment = donation(org, alice, amount="0", status="en_attente")

    assert payment.amount_cents == 0


def test_a_trashed_contact_cannot_pay(org):
    alice = person(org, "Alice")
    contacts.trash(organization=org, actor=SYSTEM, model=Contact, ids=[alice.pk])

    with pytest.raises(ValidationError) as error:
        donation(org, alice.pk)

    assert "payer_contact" in error.value.message_dict


# Interactions -----------------------------------------------------------------------------


def payment_interactions(org, payment):
    return Interaction.objects.for_org(org).filter(source="payment", source_id=payment.pk)


def test_a_payment_records_one_paiement_interaction_on_the_payer(org):
    alice = person(org, "Alice")
    campaign = services.save_campaign(organization=org, actor=SYSTEM, name="Noël 2026")

    payment = donation(org, alice, campaign=campaign.pk)

    (interaction,) = payment_interactions(org, payment)
    assert interaction.contact == alice
    assert interaction.type.name == "Paiement"
    assert interaction.description == "Don de 50,00\u00a0€ — campagne « Noël 2026 »"
    assert interaction.occurred_at.date() == dt.date(2026, 3, 12)


def test_a_different_beneficiary_gets_the_interaction_too(org):
    alice, bob = person(org, "Alice"), person(org, "Bob")

    payment = services.create_payment(
        organization=org, actor=SYSTEM, kind="adhesion", amount="20", paid_on="2026-03-12",
        payer_contact=alice, beneficiary=bob,
    )  # fmt: skip

    assert set(payment_interactions(org, payment).values_list("contact__last_name", flat=True)) == {
        "Alice",
        "Bob",
    }


def test_a_structure_payment_shows_on_its_beneficiary_with_the_structure(org):
    bob = person(org, "Bob")
    mairie = contacts.create_structure(organization=org, actor=SYSTEM, data={"name": "Mairie"})

    payment = services.create_payment(
        organization=org, actor=SYSTEM, kind="don", amount="500", paid_on="2026-03-12",
        payer_structure=mairie, beneficiary=bob,
    )  # fmt: skip

    (interaction,) = payment_interactions(org, payment)
    assert (interaction.contact, interaction.structure) == (bob, mairie)


def test_status_changes_update_or_remove_the_interaction(org):
    alice = person(org, "Alice")
    payment = donation(org, alice)

    services.update_payment(organization=org, actor=SYSTEM, payment=payment, status="rembourse")
    assert payment_interactions(org, payment).get().description.endswith("— remboursé")

    services.update_payment(organization=org, actor=SYSTEM, payment=payment, status="annule")
    assert not payment_interactions(org, payment).exists()

    services.update_payment(organization=org, actor=SYSTEM, payment=payment, status="paye")
    assert payment_interactions(org, payment).count() == 1


def test_deleting_a_payment_removes_its_interactions_and_period(org):
    alice = person(org, "Alice")
    payment = services.create_payment(
        organization=org, actor=SYSTEM, kind="adhesion", amount="20", paid_on="2026-03-12",
        payer_contact=alice,
    )  # fmt: skip

    pk = payment.pk

    services.delete_payment(organization=org, actor=SYSTEM, payment=payment)

    assert not Interaction.objects.for_org(org).filter(source="payment").exists()
    assert not MembershipPeriod.objects.for_org(org).exists()
    assert AuditEvent.objects.for_org(org).filter(action="delete", target_id=pk).exists()


def test_a_change_is_recorded_in_the_payment_history(org):
    alice = person(org, "Alice")
    payment = donation(org, alice)

    services.update_payment(organization=org, actor=SYSTEM, payment=payment, amount="75")

    event = AuditEvent.objects.for_org(org).filter(target_id=payment.pk).latest("id")
    assert event.changes == {"amount_cents": [5000, 7500]}


# Membership periods and status -----------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "month", "paid_on", "validity"),
    [
        ("rolling", 9, "2026-03-12", ("2026-03-12", "2027-03-11")),
        ("rolling", 9, "2024-02-29", ("2024-02-29", "2025-02-27")),
        ("calendar", 9, "2026-03-12", ("2026-01-01", "2026-12-31")),
        ("season", 9, "2026-03-12", ("2025-09-01", "2026-08-31")),
        ("season", 9, "2026-09-01", ("2026-09-01", "2027-08-31")),
    ],
)
def test_the_default_validity_follows_the_organisation_rule(org, mode, month, paid_on, validity):
    alice = person(org, "Alice")
    services.update_payment_settings(
        organization=org, actor=SYSTEM, membership_mode=mode, season_start_month=month
    )

    payment = services.create_payment(
        organization=org, actor=SYSTEM, kind="adhesion", amount="20", paid_on=paid_on,
        payer_contact=alice,
    )  # fmt: skip

    period = MembershipPeriod.objects.for_org(org).get(payment=payment)
    assert (period.start_date.isoformat(), period.end_date.isoformat()) == validity


def test_a_renewal_adds_a_period_and_never_rewrites_the_first(org):
    alice = person(org, "Alice")
    first = services.create_payment(
        organization=org, actor=SYSTEM, kind="adhesion", amount="20", paid_on="2025-03-01",
        payer_contact=alice,
    )  # fmt: skip
    original = MembershipPeriod.objects.for_org(org).get(payment=first)

    services.create_payment(
        organization=org, actor=SYSTEM, kind="adhesion", amount="20", paid_on="2026-03-01",
        payer_contact=alice,
    )  # fmt: skip

    periods = MembershipPeriod.objects.for_org(org).filter(contact=alice).order_by("start_date")
    assert [(p.start_date.isoformat(), p.end_date.isoformat()) for p in periods] == [
        ("2025-03-01", "2026-02-28"),
        ("2026-03-01", "2027-02-28"),
    ]
    assert periods[0].pk == original.pk


def test_an_unpaid_membership_has_no_period(org):
    alice = person(org, "Alice")
    payment = services.create_payment(
        organization=org, actor=SYSTEM, kind="adhesion", amount="20", paid_on="2026-03-01",
        payer_contact=alice, status="en_attente",
    )  # fmt: skip
    assert not MembershipPeriod.objects.for_org(org).exists()

    services.update_payment(organization=org, actor=SYSTEM, payment=payment, status="paye")

    assert MembershipPeriod.objects.for_org(org).filter(contact=alice).count() == 1


D = dt.date
S = MembershipStatus
YEAR_2026 = (D(2026, 1, 1), D(2026, 12, 31))
YEAR_2027 = (D(2027, 1, 1), D(2027, 12, 31))
END = D(2026, 12, 31)


@pytest.mark.parametrize(
    ("periods", "day", "expected"),
    [
        ([], D(2026, 6, 1), S("jamais", D(2026, 6, 1))),
        ([YEAR_2026], D(2026, 6, 1), S("a_jour", D(2026, 6, 1), END)),
        ([YEAR_2026], D(2026, 1, 1), S("a_jour", D(2026, 1, 1), END)),
        # 30 days before the end: « à renouveler » (the end day itself counts).
        ([YEAR_2026], D(2026, 12, 1), S("a_jour", D(2026, 12, 1), END)),
        ([YEAR_2026], D(2026, 12, 2), S("a_renouveler", D(2026, 12, 2), END)),
        ([YEAR_2026], D(2026, 12, 31), S("a_renouveler", D(2026, 12, 31), END)),
        ([YEAR_2026], D(2027, 1, 1), S("expire", D(2027, 1, 1), ended_on=END)),
        # Renewed ahead: the run of periods goes on, nothing to renew.
        ([YEAR_2026, YEAR_2027], D(2026, 12, 20), S("a_jour", D(2026, 12, 20), D(2027, 12, 31))),
        ([YEAR_2027], D(2026, 12, 20), S("a_venir", D(2026, 12, 20), starts_on=D(2027, 1, 1))),
    ],
)  # fmt: skip
def test_membership_status_on_chosen_dates(periods, day, expected):
    assert status_from_periods(periods, day=day, renewal_days=30) == expected


def test_membership_statuses_for_many_contacts_in_one_query(org, django_assert_num_queries):
    alice, bob, carol = person(org, "Alice"), person(org, "Bob"), person(org, "Carol")
    for who, paid_on in [(alice, "2026-01-10"), (bob, "2024-01-10")]:
        services.create_payment(
            organization=org, actor=SYSTEM, kind="adhesion", amount="20", paid_on=paid_on,
            payer_contact=who,
        )  # fmt: skip
    services.payment_settings(org)

    with django_assert_num_queries(2):  # the settings and the periods
        statuses = selectors.membership_statuses(
            org, [alice.pk, bob.pk, carol.pk], day=D(2026, 6, 1)
        )

    assert {pk: s.status for pk, s in statuses.items()} == {
        alice.pk: "a_jour",
        bob.pk: "expire",
        carol.pk: "jamais",
    }
    assert statuses[alice.pk].label == "À jour"


# Campaigns --------------------------------------------------------------------------------


def test_campaign_bad_input(org):
    services.save_campaign(organization=org, actor=SYSTEM, name="Noël")

    with pytest.raises(ValidationError) as error:
        services.save_campaign(
            organization=org, actor=SYSTEM, name="noël", start_date="2026-12-31",
            end_date="2026-01-01", goal="-10", kind="legs",
        )  # fmt: skip

    assert error.value.message_dict == {
        "name": ["La campagne « noël » existe déjà."],
        "kind": ["Type inconnu : « legs »."],
        "end_date": ["La date de fin est avant la date de début."],
        "goal": ["L'objectif doit être un montant positif."],
    }
    assert Campaign.objects.for_org(org).count() == 1


def test_campaign_stats_and_refused_delete(org):
    alice, bob = person(org, "Alice"), person(org, "Bob")
    campaign = services.save_campaign(organization=org, actor=SYSTEM, name="Noël", goal="1 000")
    donation(org, alice, campaign=campaign, amount="100")
    donation(org, alice, campaign=campaign, amount="50")
    donation(org, bob, campaign=campaign, amount="70", status="rembourse")

    stats = selectors.campaign_stats(org, campaign)

    assert stats["collected_cents"] == 15000
    assert (stats["payments"], stats["payers"], stats["percent"]) == (2, 1, 15)
    with pytest.raises(ValidationError, match="3 paiement"):
        services.delete_campaign(organization=org, actor=SYSTEM, campaign=campaign)
    listed = selectors.campaigns_with_totals(org).get(pk=campaign.pk)
    assert (listed.collected_cents, listed.paid_count) == (15000, 2)


# The payment table ------------------------------------------------------------------------


def query(kind: str = "", **params) -> selectors.PaymentQuery:
    data = QueryDict(mutable=True)
    for key, value in params.items():
        data.setlist(key, value if isinstance(value, list) else [value])
    return selectors.PaymentQuery.from_params(data, kind=kind)


def test_filters_and_totals(org):
    alice, bob = person(org, "Alice"), person(org, "Bob")
    vip = contacts.save_label(
        organization=org, actor=SYSTEM, name="Grand donateur", color="#000000"
    )
    contacts.add_labels(organization=org, actor=SYSTEM, model=Contact, ids=[bob.pk], labels=[vip])
    donation(org, alice, amount="10", paid_on="2026-01-15", method="cheque")
    donation(org, alice, amount="20", paid_on="2026-02-15", method="carte")
    donation(org, bob, amount="300", paid_on="2026-02-20", method="virement")
    donation(org, bob, amount="40", paid_on="2026-02-21", status="rembourse")
    services.create_payment(
        organization=org, actor=SYSTEM, kind="adhesion", amount="25", paid_on="2026-02-01",
        payer_contact=alice,
    )  # fmt: skip

    def result(**params):
        payments = selectors.filtered_payments(org, query("don", **params))
        return selectors.totals(payments)

    assert result() == {"count": 4, "total_cents": 37000}
    assert result(date_from="2026-02-01", date_to="28/02/2026") == {
        "count": 3,
        "total_cents": 36000,
    }
    assert result(amount_min="15", amount_max="100") == {"count": 2, "total_cents": 6000}
    assert result(status=["paye"], method=["cheque", "carte"]) == {"count": 2, "total_cents": 3000}
    assert result(payer_label=str(vip.pk)) == {"count": 2, "total_cents": 34000}
    assert result(contact=str(alice.pk)) == {"count": 2, "total_cents": 3000}
    ordered = selectors.ordered(
        selectors.filtered_payments(org, query("don", sort="amount")), "amount"
    )
    assert [p.amount_cents for p in ordered] == [30000, 4000, 2000, 1000]


def test_bad_filters_name_the_filter(org):
    with pytest.raises(ValidationError) as error:
        query(
            "don", date_from="hier", amount_min="1,234", status=["perdu"], sort="nom", campaign="x"
        )

    assert set(error.value.message_dict) == {
        "date_from",
        "amount_min",
        "status",
        "sort",
        "campaign",
    }


def test_the_table_never_shows_another_organisation(org, other_org):
    donation(org, person(org, "Alice"))
    donation(other_org, person(other_org, "Intrus"))

    payments = selectors.filtered_payments(org, query("don"))

    assert list(payments.values_list("payer_contact__last_name", flat=True)) == ["Alice"]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"renewal_days": "trente"}, "renewal_days"),
        ({"renewal_days": 400}, "renewal_days"),
        ({"season_start_month": "13"}, "season_start_month"),
        ({"income_accounts": ["754"]}, "income_accounts"),
        ({"treasury_accounts": {"carte": "512 bis"}}, "treasury_accounts"),
        ({"journal_code": ""}, "journal_code"),
    ],
)
def test_bad_payment_settings_are_refused_by_field(org, values, field):
    with pytest.raises(ValidationError) as error:
        services.update_payment_settings(organization=org, actor=SYSTEM, **values)

    assert field in error.value.message_dict
    assert services.payment_settings(org).renewal_days == 30


def test_an_accounting_job_is_not_followed_without_the_payment_right(org, editor_member):
    from django.urls import reverse

    from lien.core.jobs import start_job
    from lien.payments.tasks import accounting_export
    from tests.conftest import client_for

    job = start_job(
        organization=org, kind="accounting_export", label="Export comptable",
        task=accounting_export, start="2026-01-01", end="2026-12-31", fmt="fec",
    )  # fmt: skip
    client = client_for(editor_member)
    assert client.get(reverse("job_progress", args=[job.pk])).status_code == 200

    editor_member.profile.hide_payment_data = True
    editor_member.profile.save()

    assert client.get(reverse("job_progress", args=[job.pk])).status_code == 403
    assert client.get(reverse("job_file", args=[job.pk])).status_code == 403


def test_a_beneficiary_that_echoed_the_payer_follows_a_new_payer(org):
    alice, bob, carol = person(org, "Alice"), person(org, "Bob"), person(org, "Carol")
    own = services.create_payment(
        organization=org, actor=SYSTEM, kind="billetterie", amount="10", paid_on="2026-03-01",
        payer_contact=alice,
    )  # fmt: skip
    gift = services.create_payment(
        organization=org, actor=SYSTEM, kind="billetterie", amount="10", paid_on="2026-03-01",
        payer_contact=alice, beneficiary=carol,
    )  # fmt: skip

    services.update_payment(organization=org, actor=SYSTEM, payment=own, payer_contact=bob)
    services.update_payment(organization=org, actor=SYSTEM, payment=gift, payer_contact=bob)

    own.refresh_from_db()
    gift.refresh_from_db()
    assert (own.payer_contact, own.beneficiary) == (bob, bob)
    assert (gift.payer_contact, gift.beneficiary) == (bob, carol)


def test_dates_out_of_range_are_refused(org):
    alice = person(org, "Alice")

    with pytest.raises(ValidationError) as error:
        donation(org, alice, kind="adhesion", paid_on="31/12/9999")

    assert error.value.message_dict["paid_on"] == ["La date doit être entre 1900 et 2200."]
