"""The demo command: a realistic association, built once, reproducible."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from lien.contacts.models import Contact, CustomField, Group, GroupMembership, Label, Structure
from lien.contacts.normalize import normalize_contact_fields
from lien.core.models import AuditEvent, Membership, Organization
from lien.interactions.models import Interaction, InteractionType
from lien.payments.models import MembershipPeriod, Payment


def run_demo(**options) -> str:
    out = StringIO()
    call_command("demo", contacts=200, stdout=out, **options)
    return out.getvalue()


def counts(organization: Organization) -> dict[str, int]:
    return {
        "contacts": Contact.objects.for_org(organization).count(),
        "structures": Structure.objects.for_org(organization).count(),
        "payments": Payment.objects.for_org(organization).count(),
        "interactions": Interaction.objects.for_org(organization).count(),
        "periods": MembershipPeriod.objects.for_org(organization).count(),
        "groups": Group.objects.for_org(organization).count(),
    }


@pytest.mark.django_db
def test_demo_builds_the_association_with_its_users():
    # When the demo is built with 200 contacts
    output = run_demo()

    # Then the association, its two users and the expected volumes exist
    organization = Organization.objects.get(slug="demo")
    assert organization.name == "Les Amis du Quartier"
    roles = dict(
        Membership.objects.filter(organization=organization).values_list(
            "user__email", "profile__name"
        )
    )
    assert roles == {"demo@lien.local": "Administrateur", "lecteur@lien.local": "Lecteur"}
    assert counts(organization)["contacts"] == 200
    assert counts(organization)["structures"] == 15
    assert counts(organization)["payments"] == 260
    assert counts(organization)["interactions"] == 260 + 200 * 6
    assert counts(organization)["groups"] == 1
    assert output.strip().splitlines()[-2] == "Connexion : demo@lien.local / demo-lien-2026"
    admin = Membership.objects.get(organization=organization, user__email="demo@lien.local").user
    assert admin.check_password("demo-lien-2026")


@pytest.mark.django_db
def test_demo_reference_data():
    run_demo()
    organization = Organization.objects.get(slug="demo")

    assert set(Label.objects.for_org(organization).values_list("name", flat=True)) == {
        "Adhérent(e)",
        "Ancien(ne) adhérent(e)",
        "Bénévole",
        "Donateur / Donatrice",
        "Participant(e)",
        "Partenaire",
        "Presse",
    }
    sensitive = CustomField.objects.for_org(organization).filter(sensitive=True)
    assert list(sensitive.values_list("key", flat=True)) == ["sante"]
    assert InteractionType.objects.for_org(organization).count() == 18
    assert GroupMembership.objects.for_org(organization).exists()
    # One audit event summarises the load, not one per row.
    events = AuditEvent.objects.for_org(organization).filter(actor_label="Jeu de démonstration")
    assert events.count() == 2  # the organisation's creation and the data load


@pytest.mark.django_db
def test_each_payment_has_its_paiement_interactions_as_the_service_would_write_them():
    run_demo()
    organization = Organization.objects.get(slug="demo")
    payments = Payment.objects.for_org(organization)
    payment_interactions = Interaction.objects.for_org(organization).filter(
        source=Interaction.Source.PAYMENT
    )
    expected = {
        (payment.pk, contact)
        for payment in payments
        if payment.status not in ("annule", "refuse")
        for contact in (payment.payer_contact_id, payment.beneficiary_id)
        if contact
    }

    assert set(payment_interactions.values_list("source_id", "contact_id")) == expected
    assert payment_interactions.count() == len(expected)
    assert set(payment_interactions.values_list("type__name", flat=True)) == {"Paiement"}
    assert set(payment_interactions.values_list("source_type", flat=True)) == {
        ContentType.objects.get_for_model(Payment).pk
    }


@pytest.mark.django_db
def test_each_paid_membership_has_its_period_for_the_beneficiary():
    run_demo()
    organization = Organization.objects.get(slug="demo")
    memberships = Payment.objects.for_org(organization).filter(kind="adhesion", status="paye")
    periods = MembershipPeriod.objects.for_org(organization)

    assert periods.count() == memberships.count()
    assert set(periods.values_list("payment_id", "contact_id")) == set(
        memberships.values_list("pk", "beneficiary_id")
    )
    for period in periods:
        assert period.end_date > period.start_date


@pytest.mark.django_db
def test_demo_contacts_carry_their_normalised_copies():
    run_demo()
    organization = Organization.objects.get(slug="demo")

    for contact in Contact.objects.for_org(organization):
        stored = (
            contact.email_normalized,
            contact.phone_e164,
            contact.first_name_normalized,
            contact.last_name_normalized,
        )
        normalize_contact_fields(contact)
        assert stored == (
            contact.email_normalized,
            contact.phone_e164,
            contact.first_name_normalized,
            contact.last_name_normalized,
        )


@pytest.mark.django_db
def test_second_run_creates_nothing():
    # Given the demo
    run_demo()
    organization = Organization.objects.get(slug="demo")
    before = counts(organization)

    # When it is run again
    output = run_demo()

    # Then it says so and nothing changes
    assert "existe déjà" in output
    assert counts(organization) == before
    assert Organization.objects.count() == 1


@pytest.mark.django_db
def test_reset_rebuilds_the_same_data():
    # Given the demo
    run_demo()
    first = list(
        Contact.objects.for_org(Organization.objects.get(slug="demo"))
        .order_by("pk")
        .values_list("first_name", "last_name", "email", "city")
    )

    # When it is reset
    run_demo(reset=True)

    # Then the same seed gives the same contacts, in a new organisation
    organization = Organization.objects.get(slug="demo")
    again = list(
        Contact.objects.for_org(organization)
        .order_by("pk")
        .values_list("first_name", "last_name", "email", "city")
    )
    assert again == first
    assert Organization.objects.count() == 1
    assert Contact.objects.count() == 200


@pytest.mark.django_db
def test_demo_automatic_labels_are_what_the_payment_rules_say():
    from lien.payments.labels import apply_label_rules

    run_demo()
    organization = Organization.objects.get(slug="demo")

    changes = apply_label_rules(organization=organization)

    assert changes and all(c == {"added": 0, "removed": 0} for c in changes.values()), changes
